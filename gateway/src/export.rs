//! `GET /users/me/export`: the caller's whole logbook (profile, sessions, climbs) as JSON,
//! or as CSV with one row per climb. Both parts are needed: an export never comes back
//! partial, since a file missing half a logbook would look complete.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use clmb_common::auth::AuthUser;
use clmb_common::extract::Query;
use clmb_common::http::request_id;
use clmb_common::{ApiError, FieldError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// The columns of a CSV export, in order. `clmb` imports read the same header back
/// (`POST /imports/clmb`).
pub const CSV_COLUMNS: &[&str] = &[
    "climb_id",
    "session_id",
    "local_date",
    "session_name",
    "gym_name",
    "location",
    "started_at",
    "ended_at",
    "climbed_at",
    "route_name",
    "discipline",
    "grade",
    "grade_system",
    "safety",
    "attempt_type",
    "success",
    "attempts",
    "rating",
    "notes",
];

/// The caller's whole logbook: profile, sessions and climbs.
#[utoipa::path(get, path = "/api/v1/users/me/export", tag = "users", security(("bearer" = [])),
    params(ExportQuery),
    responses((status = 200, description = "JSON `{profile, sessions: [session with climbs]}`, or CSV with one row per climb"),
              (status = 400), (status = 502), (status = 503), (status = 504)))]
pub async fn export(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Query(query): Query<ExportQuery>,
) -> Response {
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return ApiError::BadRequestFields(vec![FieldError::new(
                "format",
                "must be `json` or `csv`",
            )])
            .into_response();
        }
    };
    let work = async {
        let request_id = request_id(&headers);
        let token = caller.token.as_str();
        let (profile, sessions) = tokio::join!(
            // A large logbook takes a while: the forwarding timeout, not the composed one.
            state
                .forward
                .users
                .get_json::<Value>("/api/v1/users/me", Some(token), request_id),
            state.forward.sessions.get_json::<Vec<Value>>(
                "/internal/users/me/logbook",
                Some(token),
                request_id
            ),
        );
        let (profile, sessions) = (profile?, sessions?);
        if csv {
            to_csv(&sessions)
        } else {
            Ok(attachment(
                json!({"profile": profile, "sessions": sessions}).to_string(),
                false,
            ))
        }
    };
    match work.await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn attachment(body: String, csv: bool) -> Response {
    let (kind, name) = if csv {
        ("text/csv; charset=utf-8", "clmb-logbook.csv")
    } else {
        ("application/json", "clmb-logbook.json")
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn to_csv(sessions: &[Value]) -> Result<Response, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(CSV_COLUMNS)
        .map_err(ApiError::internal)?;
    for session in sessions {
        let climbs = session
            .get("climbs")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for climb in climbs {
            let from_session = |key: &str| text(session.get(key));
            let from_climb = |key: &str| text(climb.get(key));
            let record = [
                from_climb("id"),
                from_session("id"),
                from_session("local_date"),
                from_session("name"),
                from_climb("gym_name"),
                from_session("location"),
                from_session("started_at"),
                from_session("ended_at"),
                from_climb("climbed_at"),
                from_climb("route_name"),
                from_climb("discipline"),
                from_climb("grade"),
                from_climb("grade_system"),
                from_climb("safety"),
                from_climb("attempt_type"),
                from_climb("success"),
                from_climb("attempts"),
                from_climb("rating"),
                from_climb("notes"),
            ];
            writer.write_record(&record).map_err(ApiError::internal)?;
        }
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::internal(std::io::Error::other(e.to_string())))?;
    Ok(attachment(
        String::from_utf8_lossy(&bytes).into_owned(),
        true,
    ))
}
