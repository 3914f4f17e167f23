//! Logbook import: a file from another logbook becomes sessions and climbs.
//!
//! Ascents of one calendar date at one crag become one session. Each ascent carries a
//! key that stays the same when the climber exports the same logbook again, so a second
//! import of the same ascents writes nothing, while two identical rows of one file (a
//! repeat lap) stay two climbs. The whole file is written in one transaction: an import
//! either lands completely or not at all.

use std::collections::{BTreeMap, HashSet};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clmb_common::auth::AuthUser;
use clmb_common::extract::{Json, has_content_type};
use clmb_common::{ApiError, ApiResult, FieldError};
use clmb_logbook::{Ascent, Source};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, Time};
use uuid::Uuid;

use crate::AppState;
use crate::model::{ImportReport, RejectedRow};

/// Imports a logbook export (`Content-Type: text/csv`) from `mountain-project`,
/// `thecrag` or `8a`.
///
/// Every row becomes a climb or is listed in `rows_rejected` with the reason; nothing of
/// a rejected row is written. Importing the same file again creates nothing.
#[utoipa::path(post, path = "/api/v1/imports/{source}", tag = "imports", security(("bearer" = [])),
    params(("source" = String, Path, description = "`mountain-project`, `thecrag` or `8a`")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = ImportReport), (status = 404, description = "unknown source"),
              (status = 413), (status = 415), (status = 422, description = "not a file of that source")))]
pub async fn imports_create(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(source_name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let source = Source::from_name(&source_name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no importer for `{source_name}`; use mountain-project, thecrag, 8a or clmb"
        ))
    })?;
    if !has_content_type(&headers, "text/csv") {
        return Err(ApiError::UnsupportedMediaType(
            "expected Content-Type: text/csv".to_owned(),
        ));
    }

    // Parsing a large file is CPU work: keep it off the async threads.
    let parsed = tokio::task::spawn_blocking(move || clmb_logbook::parse(source, &body))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| ApiError::Validation(vec![FieldError::new("body", error.to_string())]))?;

    // A still-valid token of a deleted account must not write a logbook no one owns.
    state
        .peers
        .own_profile(&caller, clmb_common::http::request_id(&headers))
        .await?;
    let mut report = write(&state, caller.id, source, &parsed.ascents).await?;
    report.rows_rejected = parsed
        .rejected
        .into_iter()
        .map(|row| RejectedRow {
            line: row.line,
            reason: row.reason,
        })
        .collect();
    tracing::info!(
        user_id = %caller.id,
        source = source_name,
        sessions_created = report.sessions_created,
        climbs_created = report.climbs_created,
        duplicates_skipped = report.duplicates_skipped,
        rows_rejected = report.rows_rejected.len(),
        "imported a logbook",
    );
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        Json(report),
    )
        .into_response())
}

/// The session an ascent belongs to: its source, date and crag.
fn session_key(source: Source, ascent: &Ascent) -> String {
    let crag = Sha256::digest(ascent.crag.trim().to_lowercase().as_bytes());
    let crag: String = crag[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}:{}:{crag}", source.as_str(), ascent.local_date)
}

/// Writes the ascents not imported before, in one transaction, with one statement per
/// table rather than one per row.
async fn write(
    state: &AppState,
    user_id: Uuid,
    source: Source,
    ascents: &[Ascent],
) -> ApiResult<ImportReport> {
    let mut tx = state.pool.begin().await?;

    let keys: Vec<String> = ascents.iter().map(|a| a.source_key.clone()).collect();
    let mut known: HashSet<String> = sqlx::query_scalar(
        // A join, not `= ANY($2)`: under a generic plan PostgreSQL may walk all of a
        // climber's climbs for each key (seconds for a 100,000-climb logbook).
        "SELECT c.source_key FROM UNNEST($2::text[]) AS k(source_key)
         JOIN climbs c ON c.user_id = $1 AND c.source_key = k.source_key",
    )
    .bind(user_id)
    .bind(&keys)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    if source == Source::Clmb {
        // clmb's own export names each climb by its id: in the account it came from, those
        // climbs are there already, under their ids rather than under an import key.
        let ids: Vec<Uuid> = keys
            .iter()
            .filter_map(|key| key.strip_prefix("clmb:")?.parse().ok())
            .collect();
        let present: Vec<Uuid> = sqlx::query_scalar(
            "SELECT c.id FROM UNNEST($2::uuid[]) AS k(id)
             JOIN climbs c ON c.user_id = $1 AND c.id = k.id",
        )
        .bind(user_id)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        known.extend(present.into_iter().map(|id| format!("clmb:{id}")));
    }
    let fresh: Vec<&Ascent> = ascents
        .iter()
        .filter(|a| !known.contains(&a.source_key))
        .collect();

    // One session per (date, crag) that has something new.
    let mut groups: BTreeMap<String, &Ascent> = BTreeMap::new();
    for ascent in &fresh {
        groups.entry(session_key(source, ascent)).or_insert(ascent);
    }
    let mut s_ids = Vec::new();
    let mut s_keys = Vec::new();
    let mut s_dates = Vec::new();
    let mut s_starts = Vec::new();
    let mut s_locations = Vec::new();
    for (key, first) in &groups {
        s_ids.push(Uuid::now_v7());
        s_keys.push(key.clone());
        s_dates.push(first.local_date);
        s_starts.push(noon_utc(first));
        s_locations.push(first.crag.clone());
    }
    let sessions_created = sqlx::query(
        "INSERT INTO sessions (id, user_id, local_date, started_at, location, import_key)
         SELECT id, $1, local_date, started_at, location, import_key
         FROM UNNEST($2::uuid[], $3::date[], $4::timestamptz[], $5::text[], $6::text[])
              AS t(id, local_date, started_at, location, import_key)
         ON CONFLICT (user_id, import_key) DO NOTHING",
    )
    .bind(user_id)
    .bind(&s_ids)
    .bind(&s_dates)
    .bind(&s_starts)
    .bind(&s_locations)
    .bind(&s_keys)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let session_of: BTreeMap<String, Uuid> = sqlx::query_as::<_, (String, Uuid)>(
        "SELECT s.import_key, s.id FROM UNNEST($2::text[]) AS k(import_key)
         JOIN sessions s ON s.user_id = $1 AND s.import_key = k.import_key",
    )
    .bind(user_id)
    .bind(&s_keys)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();

    let mut rows = ClimbColumns::default();
    for ascent in &fresh {
        let Some(session_id) = session_of.get(&session_key(source, ascent)) else {
            continue;
        };
        rows.push(*session_id, ascent);
    }
    let climbs_created = sqlx::query(
        "INSERT INTO climbs (id, session_id, user_id, discipline, grade, grade_system, difficulty,
                             safety, route_name, attempt_type, success, attempts, rating, notes,
                             climbed_at, local_date, source_key)
         SELECT id, session_id, $1, discipline, grade, grade_system, difficulty, safety,
                route_name, attempt_type, success, attempts, rating, notes, climbed_at,
                local_date, source_key
         FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::float8[],
                     $8::text[], $9::text[], $10::text[], $11::bool[], $12::int4[], $13::int2[],
                     $14::text[], $15::timestamptz[], $16::date[], $17::text[])
              AS t(id, session_id, discipline, grade, grade_system, difficulty, safety,
                   route_name, attempt_type, success, attempts, rating, notes, climbed_at,
                   local_date, source_key)
         ON CONFLICT (user_id, source_key) DO NOTHING",
    )
    .bind(user_id)
    .bind(&rows.id)
    .bind(&rows.session_id)
    .bind(&rows.discipline)
    .bind(&rows.grade)
    .bind(&rows.grade_system)
    .bind(&rows.difficulty)
    .bind(&rows.safety)
    .bind(&rows.route_name)
    .bind(&rows.attempt_type)
    .bind(&rows.success)
    .bind(&rows.attempts)
    .bind(&rows.rating)
    .bind(&rows.notes)
    .bind(&rows.climbed_at)
    .bind(&rows.local_date)
    .bind(&rows.source_key)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    tx.commit().await?;
    let total = u64::try_from(ascents.len()).unwrap_or(u64::MAX);
    Ok(ImportReport {
        sessions_created,
        climbs_created,
        duplicates_skipped: total.saturating_sub(climbs_created),
        rows_rejected: Vec::new(),
    })
}

/// A file gives a date, not a time: the session starts at noon UTC of that date, which
/// is the same calendar date nearly everywhere. `local_date` keeps the file's date
/// exactly, whatever the time zone.
fn noon_utc(ascent: &Ascent) -> OffsetDateTime {
    ascent
        .local_date
        .with_time(Time::MIDNIGHT + time::Duration::hours(12))
        .assume_utc()
}

/// The climbs of an import as one array per column, for a single `UNNEST` insert.
#[derive(Default)]
struct ClimbColumns {
    id: Vec<Uuid>,
    session_id: Vec<Uuid>,
    discipline: Vec<String>,
    grade: Vec<String>,
    grade_system: Vec<String>,
    difficulty: Vec<f64>,
    safety: Vec<Option<String>>,
    route_name: Vec<String>,
    attempt_type: Vec<String>,
    success: Vec<bool>,
    attempts: Vec<i32>,
    rating: Vec<Option<i16>>,
    notes: Vec<Option<String>>,
    climbed_at: Vec<OffsetDateTime>,
    local_date: Vec<time::Date>,
    source_key: Vec<String>,
}

impl ClimbColumns {
    fn push(&mut self, session_id: Uuid, ascent: &Ascent) {
        self.id.push(Uuid::now_v7());
        self.session_id.push(session_id);
        self.discipline.push(ascent.discipline.as_str().to_owned());
        self.grade.push(ascent.grade.label.clone());
        self.grade_system
            .push(ascent.grade.system.as_str().to_owned());
        self.difficulty.push(ascent.grade.difficulty);
        self.safety.push(ascent.grade.safety.clone());
        self.route_name.push(ascent.route_name.clone());
        self.attempt_type
            .push(ascent.attempt_type.as_str().to_owned());
        self.success.push(ascent.success);
        self.attempts.push(ascent.attempts.unwrap_or(1).max(1));
        self.rating.push(ascent.rating);
        self.notes.push(ascent.notes.clone());
        self.climbed_at.push(noon_utc(ascent));
        self.local_date.push(ascent.local_date);
        self.source_key.push(ascent.source_key.clone());
    }
}
