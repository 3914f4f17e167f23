//! The built-in grade systems.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use clmb_common::extract::Json;
use clmb_grades::GradeSystem;

use crate::model::{GradeEntry, GradeSystemEntry};

/// Every built-in grade system with its grades, easiest first. Public.
///
/// Boulder systems (`v_scale`, `font`) come first, then rope systems (`yds`, `french`,
/// `uiaa`, `ewbank`). Each grade has its `difficulty_order` inside its system and a
/// `difficulty` on a scale all systems share, so grades of different systems compare
/// and convert (V5 and Font 6C+ land close together). The list only changes with a
/// new release of the service, so it may be cached for a day.
#[utoipa::path(
    get,
    path = "/api/v1/grade-systems",
    tag = "grade systems",
    responses((status = 200, description = "Every built-in system", body = Vec<GradeSystemEntry>))
)]
pub async fn grade_systems_index() -> Response {
    let systems: Vec<GradeSystemEntry> = GradeSystem::ALL
        .into_iter()
        .map(|system| GradeSystemEntry {
            name: system,
            family: system.family(),
            grades: system
                .grades()
                .iter()
                .map(|g| GradeEntry {
                    label: g.label,
                    difficulty_order: g.difficulty_order,
                    difficulty: g.difficulty,
                })
                .collect(),
        })
        .collect();
    let mut response = Json(systems).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}
