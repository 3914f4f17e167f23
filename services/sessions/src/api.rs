//! HTTP handlers for sessions and climbs.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clmb_common::auth::{AuthUser, ServiceCaller, resolve_user};
use clmb_common::extract::{Json, Query, has_content_type, parse_id, parse_json};
use clmb_common::http::request_id;
use clmb_common::paging::{Page, PageQuery};
use clmb_common::{ApiError, ApiResult, Validator};
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::AppState;
use crate::model::{
    Climb, CreateClimb, CreateSession, EndSession, Session, SessionWithClimbs, UpdateClimb,
    UpdateSession,
};
use crate::rules::{self, DISCIPLINES};
use crate::store::{self, NewClimb, NewSession, SessionFilter, SessionPosition};

/// The climber's calendar date at `at` in their time zone (UTC if the zone is unknown).
pub fn local_date(at: OffsetDateTime, timezone: &str) -> Date {
    let Ok(zone) = jiff::tz::TimeZone::get(timezone) else {
        return at.to_offset(time::UtcOffset::UTC).date();
    };
    let Ok(timestamp) = jiff::Timestamp::from_second(at.unix_timestamp()) else {
        return at.date();
    };
    let civil = timestamp.to_zoned(zone).date();
    let month = time::Month::try_from(u8::try_from(civil.month()).unwrap_or(1))
        .unwrap_or(time::Month::January);
    Date::from_calendar_date(
        i32::from(civil.year()),
        month,
        u8::try_from(civil.day()).unwrap_or(1),
    )
    .unwrap_or_else(|_| at.date())
}

fn now() -> OffsetDateTime {
    // Second precision: what clients send back in RFC 3339 compares equal.
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// Loads a session the caller owns: 404 when it does not exist, 403 when it is someone
/// else's that the caller may see, 404 when they may not see it.
async fn owned_session(
    state: &AppState,
    caller: &AuthUser,
    id: Uuid,
    headers: &HeaderMap,
) -> ApiResult<Session> {
    let session = store::find_session(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such session".to_owned()))?;
    if session.user_id != caller.id {
        state
            .peers
            .ensure_visible(
                caller,
                session.user_id,
                "no such session",
                request_id(headers),
            )
            .await?;
        return Err(ApiError::Forbidden(
            "only the climber who logged this session can change it".to_owned(),
        ));
    }
    Ok(session)
}

/// Starts a session.
///
/// `started_at` defaults to now. With `gym_id` the gym must exist (422 otherwise) and its
/// name is kept with the session, so the log keeps it if the gym is later deleted.
/// Without a gym, `location` is free text (an outdoor crag).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = [])),
    request_body = CreateSession, responses((status = 201, body = Session), (status = 422)))]
pub async fn sessions_create(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Json(body): Json<CreateSession>,
) -> ApiResult<Response> {
    let mut check = Validator::new();
    check.length("name", body.name.as_deref(), 1, 200);
    check.length("location", body.location.as_deref(), 1, 200);
    check.length("notes", body.notes.as_deref(), 0, 10_000);
    if let Some(started_at) = body.started_at {
        rules::check_time(&mut check, "started_at", started_at);
    }
    check.finish()?;

    let request_id = request_id(&headers);
    let gym = match body.gym_id {
        Some(gym_id) => Some(
            state
                .peers
                .gym(gym_id, request_id)
                .await?
                .ok_or_else(|| ApiError::validation("gym_id", "no gym has this id"))?,
        ),
        None => None,
    };
    let profile = state.peers.own_profile(&caller, request_id).await?;
    let started_at = body.started_at.unwrap_or_else(now);

    let session = store::insert_session(
        &state.pool,
        &NewSession {
            user_id: caller.id,
            gym_id: gym.as_ref().map(|g| g.id),
            gym_name: gym.as_ref().map(|g| g.name.as_str()),
            location: body.location.as_deref(),
            name: body.name.as_deref(),
            local_date: local_date(started_at, &profile.timezone),
            started_at,
            notes: body.notes.as_deref(),
        },
    )
    .await?;
    tracing::info!(session_id = %session.id, user_id = %caller.id, "started a session");
    let location = format!("/api/v1/sessions/{}", session.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(session),
    )
        .into_response())
}

/// One session with its climbs: its climber's, or anyone's when the climber is public.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}", tag = "sessions", security(("bearer" = [])),
    params(("session_id" = Uuid, Path)), responses((status = 200, body = SessionWithClimbs), (status = 404)))]
pub async fn sessions_show(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<SessionWithClimbs>> {
    let id = parse_id("session_id", &raw_id)?;
    let session = store::find_session(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such session".to_owned()))?;
    state
        .peers
        .ensure_visible(
            &caller,
            session.user_id,
            "no such session",
            request_id(&headers),
        )
        .await?;
    let climbs = store::climbs_of_session(&state.pool, id).await?;
    Ok(Json(SessionWithClimbs { session, climbs }))
}

/// Changes a session's name, notes, ratings (1..5) or times. `ended_at` before
/// `started_at` is 422.
#[utoipa::path(patch, path = "/api/v1/sessions/{session_id}", tag = "sessions", security(("bearer" = [])),
    params(("session_id" = Uuid, Path)), request_body = UpdateSession,
    responses((status = 200, body = Session), (status = 403), (status = 404), (status = 422)))]
pub async fn sessions_update(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
    Json(body): Json<UpdateSession>,
) -> ApiResult<Json<Session>> {
    let id = parse_id("session_id", &raw_id)?;
    let mut session = owned_session(&state, &caller, id, &headers).await?;

    let mut check = Validator::new();
    if let Some(name) = body.name {
        check.length("name", name.as_deref(), 1, 200);
        session.name = name;
    }
    if let Some(notes) = body.notes {
        check.length("notes", notes.as_deref(), 0, 10_000);
        session.notes = notes;
    }
    if let Some(mood) = body.mood_rating {
        check.range("mood_rating", mood, 1, 5);
        session.mood_rating = mood;
    }
    if let Some(energy) = body.energy_rating {
        check.range("energy_rating", energy, 1, 5);
        session.energy_rating = energy;
    }
    if let Some(ended_at) = body.ended_at {
        session.ended_at = ended_at;
    }
    if let Some(started_at) = body.started_at {
        session.started_at = started_at;
        let profile = state
            .peers
            .own_profile(&caller, request_id(&headers))
            .await?;
        session.local_date = local_date(started_at, &profile.timezone);
    }
    if let Some(started_at) = body.started_at {
        rules::check_time(&mut check, "started_at", started_at);
    }
    if let Some(Some(ended_at)) = body.ended_at {
        rules::check_time(&mut check, "ended_at", ended_at);
    }
    rules::check_span(&mut check, session.started_at, session.ended_at);
    check.finish()?;

    Ok(Json(store::update_session(&state.pool, &session).await?))
}

/// Ends a session: sets `ended_at` (default now), which gives `duration_minutes`. 409
/// when it has ended already, 422 when `ended_at` is before `started_at`.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/end", tag = "sessions", security(("bearer" = [])),
    params(("session_id" = Uuid, Path)), request_body = EndSession,
    responses((status = 200, body = Session), (status = 409), (status = 422)))]
pub async fn sessions_end(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Session>> {
    let id = parse_id("session_id", &raw_id)?;
    // The body is optional: no body means "now".
    let body: EndSession = if body.is_empty() {
        EndSession::default()
    } else if has_content_type(&headers, "application/json") {
        parse_json(&body)?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "expected Content-Type: application/json".to_owned(),
        ));
    };
    let session = owned_session(&state, &caller, id, &headers).await?;
    let ended_at = body.ended_at.unwrap_or_else(now);
    if session.ended_at.is_some() {
        return Err(ApiError::Conflict(
            "this session has ended already".to_owned(),
        ));
    }
    let mut check = Validator::new();
    rules::check_time(&mut check, "ended_at", ended_at);
    rules::check_span(&mut check, session.started_at, Some(ended_at));
    check.finish()?;
    if !store::end_session(&state.pool, id, ended_at).await? {
        return Err(ApiError::Conflict(
            "this session has ended already".to_owned(),
        ));
    }
    let session = store::find_session(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such session".to_owned()))?;
    Ok(Json(session))
}

/// Deletes a session and its climbs.
#[utoipa::path(delete, path = "/api/v1/sessions/{session_id}", tag = "sessions", security(("bearer" = [])),
    params(("session_id" = Uuid, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn sessions_delete(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id("session_id", &raw_id)?;
    owned_session(&state, &caller, id, &headers).await?;
    store::delete_session(&state.pool, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SessionListQuery {
    /// First calendar date to include, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last calendar date to include, `YYYY-MM-DD`.
    pub to: Option<String>,
    pub gym_id: Option<Uuid>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub fn parse_date(field: &str, value: Option<&str>) -> ApiResult<Option<Date>> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    value
        .map(|v| {
            Date::parse(v, format).map_err(|_| {
                ApiError::BadRequestFields(vec![clmb_common::FieldError::new(
                    field,
                    "must be a date YYYY-MM-DD",
                )])
            })
        })
        .transpose()
}

/// A climber's sessions, newest first (by the climber's calendar date).
#[utoipa::path(get, path = "/api/v1/users/{user_id}/sessions", tag = "sessions", security(("bearer" = [])),
    params(("user_id" = String, Path, description = "a user id, or `me`"), SessionListQuery),
    responses((status = 200, body = Page<Session>), (status = 404)))]
pub async fn sessions_index(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_user): Path<String>,
    Query(query): Query<SessionListQuery>,
) -> ApiResult<Json<Page<Session>>> {
    let owner = resolve_user(&raw_user, Some(&caller))?;
    let paging = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = paging.limit()?;
    let after: Option<SessionPosition> = paging.position()?;
    let filter = SessionFilter {
        from: parse_date("from", query.from.as_deref())?,
        to: parse_date("to", query.to.as_deref())?,
        gym_id: query.gym_id,
    };
    state
        .peers
        .ensure_visible(&caller, owner, "no such user", request_id(&headers))
        .await?;

    let rows = store::list_sessions(&state.pool, owner, &filter, after.as_ref(), limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |s| SessionPosition {
        local_date: s.local_date,
        started_at: s.started_at,
        id: s.id,
    })))
}

/// Logs a climb in a session (an ended session still takes climbs).
///
/// With `route_id`, the route's grade, discipline and name and its gym's name are copied
/// from the route as it is now. Without it, `discipline` and `grade` are required.
/// `onsight` and `flash` mean one attempt and a send, `redpoint` and `repeat` a send,
/// `attempt` no send; a contradiction is 422 and what is missing is derived.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/climbs", tag = "climbs", security(("bearer" = [])),
    params(("session_id" = Uuid, Path)), request_body = CreateClimb,
    responses((status = 201, body = Climb), (status = 403), (status = 404), (status = 422)))]
pub async fn climbs_create(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
    Json(body): Json<CreateClimb>,
) -> ApiResult<Response> {
    let id = parse_id("session_id", &raw_id)?;
    let session = owned_session(&state, &caller, id, &headers).await?;

    let mut check = Validator::new();
    if let Some(climbed_at) = body.climbed_at {
        rules::check_time(&mut check, "climbed_at", climbed_at);
    }
    check.range("rating", body.rating, 1, 5);
    check.length("notes", body.notes.as_deref(), 0, 10_000);
    check.length("route_name", body.route_name.as_deref(), 1, 200);
    let outcome = rules::resolve_outcome(
        &mut check,
        body.attempt_type.as_deref(),
        body.success,
        body.attempts,
    );

    // What is climbed: a route's snapshot, or the discipline and grade given.
    let snapshot = match body.route_id {
        Some(route_id) => {
            let route = state.peers.route(route_id, request_id(&headers)).await?;
            match route {
                Some(route) => Some(route),
                None => {
                    check.add("route_id", "no route has this id");
                    None
                }
            }
        }
        None => None,
    };
    let mut grade = None;
    if body.route_id.is_none() {
        // Each field is judged on its own, so `errors` names only the fields at fault.
        match body.discipline.as_deref() {
            Some(discipline) if !DISCIPLINES.contains(&discipline) => check.add(
                "discipline",
                format!("must be one of: {}", DISCIPLINES.join(", ")),
            ),
            Some(_) => {}
            None => check.add("discipline", "is required without route_id"),
        }
        match (body.discipline.as_deref(), body.grade.as_deref()) {
            (Some(discipline), Some(text)) if DISCIPLINES.contains(&discipline) => {
                grade =
                    rules::read_grade(&mut check, discipline, text, body.grade_system.as_deref());
            }
            (_, Some(_)) => {}
            (_, None) => check.add("grade", "is required without route_id"),
        }
    }
    check.finish()?;
    let Some(outcome) = outcome else {
        return Err(ApiError::validation("attempt_type", "is invalid"));
    };

    let gym_name = match &snapshot {
        Some(route) if Some(route.gym_id) == session.gym_id => session.gym_name.clone(),
        Some(route) => state
            .peers
            .gym(route.gym_id, request_id(&headers))
            .await?
            .map(|g| g.name),
        None => session.gym_name.clone(),
    };
    let climbed_at = body.climbed_at.unwrap_or_else(now);
    // What was climbed: the route as it is now, or the grade the climber gave.
    let (route_id, discipline, grade, difficulty, safety, route_name) = match (&snapshot, &grade) {
        (Some(route), _) => (
            Some(route.id),
            route.discipline.as_str(),
            (route.grade.as_str(), route.grade_system.as_str()),
            route.difficulty,
            None,
            route.name.as_deref().or(body.route_name.as_deref()),
        ),
        (None, Some(grade)) => (
            None,
            body.discipline.as_deref().unwrap_or_default(),
            (grade.label.as_str(), grade.system.as_str()),
            grade.difficulty,
            grade.safety.as_deref(),
            body.route_name.as_deref(),
        ),
        (None, None) => {
            return Err(ApiError::validation(
                "grade",
                "is required without route_id",
            ));
        }
    };
    let new = NewClimb {
        session_id: session.id,
        user_id: caller.id,
        route_id,
        discipline,
        grade: grade.0,
        grade_system: grade.1,
        difficulty,
        safety,
        route_name,
        gym_name: gym_name.as_deref(),
        attempt_type: &outcome.attempt_type,
        success: outcome.success,
        attempts: outcome.attempts,
        rating: body.rating,
        notes: body.notes.as_deref(),
        climbed_at,
        local_date: session.local_date,
    };
    let climb = store::insert_climb(&state.pool, &new).await?;
    let location = format!("/api/v1/climbs/{}", climb.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(climb),
    )
        .into_response())
}

async fn owned_climb(
    state: &AppState,
    caller: &AuthUser,
    raw_id: &str,
    headers: &HeaderMap,
) -> ApiResult<Climb> {
    let id = parse_id("climb_id", raw_id)?;
    let climb = store::find_climb(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such climb".to_owned()))?;
    if climb.user_id != caller.id {
        state
            .peers
            .ensure_visible(caller, climb.user_id, "no such climb", request_id(headers))
            .await?;
        return Err(ApiError::Forbidden(
            "only the climber who logged this climb can change it".to_owned(),
        ));
    }
    Ok(climb)
}

/// Changes a logged climb. The grade of a climb logged on a route is the route's
/// snapshot and cannot be changed here (422); a free-form climb's can.
#[utoipa::path(patch, path = "/api/v1/climbs/{climb_id}", tag = "climbs", security(("bearer" = [])),
    params(("climb_id" = Uuid, Path)), request_body = UpdateClimb,
    responses((status = 200, body = Climb), (status = 403), (status = 404), (status = 422)))]
pub async fn climbs_update(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
    Json(body): Json<UpdateClimb>,
) -> ApiResult<Json<Climb>> {
    let mut climb = owned_climb(&state, &caller, &raw_id, &headers).await?;

    let mut check = Validator::new();
    if let Some(rating) = body.rating {
        check.range("rating", rating, 1, 5);
        climb.rating = rating;
    }
    if let Some(notes) = body.notes {
        check.length("notes", notes.as_deref(), 0, 10_000);
        climb.notes = notes;
    }
    if let Some(route_name) = body.route_name {
        check.length("route_name", route_name.as_deref(), 1, 200);
        climb.route_name = route_name;
    }
    if let Some(climbed_at) = body.climbed_at {
        rules::check_time(&mut check, "climbed_at", climbed_at);
        climb.climbed_at = climbed_at;
    }
    let touches_grade =
        body.grade.is_some() || body.grade_system.is_some() || body.discipline.is_some();
    if touches_grade && climb.route_id.is_some() {
        check.add(
            "grade",
            "a climb on a route keeps the route's grade as it was logged",
        );
    } else if touches_grade {
        let discipline = body
            .discipline
            .clone()
            .unwrap_or_else(|| climb.discipline.clone());
        if !DISCIPLINES.contains(&discipline.as_str()) {
            check.add(
                "discipline",
                format!("must be one of: {}", DISCIPLINES.join(", ")),
            );
        } else {
            let text = body.grade.clone().unwrap_or_else(|| climb.grade.clone());
            if let Some(grade) =
                rules::read_grade(&mut check, &discipline, &text, body.grade_system.as_deref())
            {
                climb.discipline = discipline;
                climb.grade = grade.label;
                climb.grade_system = grade.system.as_str().to_owned();
                climb.difficulty = grade.difficulty;
                climb.safety = grade.safety;
            }
        }
    }
    // A changed style re-derives what it implies, unless the client said otherwise.
    let changes_outcome =
        body.attempt_type.is_some() || body.success.is_some() || body.attempts.is_some();
    if changes_outcome {
        let attempt_type = body.attempt_type.as_deref().or(if body.success.is_some() {
            None
        } else {
            Some(climb.attempt_type.as_str())
        });
        let attempts = body.attempts.or(if body.attempt_type.is_some() {
            None
        } else {
            Some(climb.attempts)
        });
        if let Some(outcome) =
            rules::resolve_outcome(&mut check, attempt_type, body.success, attempts)
        {
            climb.attempt_type = outcome.attempt_type;
            climb.success = outcome.success;
            climb.attempts = outcome.attempts;
        }
    }
    check.finish()?;

    Ok(Json(store::update_climb(&state.pool, &climb).await?))
}

/// Deletes a logged climb.
#[utoipa::path(delete, path = "/api/v1/climbs/{climb_id}", tag = "climbs", security(("bearer" = [])),
    params(("climb_id" = Uuid, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn climbs_delete(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    let climb = owned_climb(&state, &caller, &raw_id, &headers).await?;
    store::delete_climb(&state.pool, climb.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The users service tells this service to forget a deleted account. Idempotent.
pub async fn internal_delete_user(
    State(state): State<AppState>,
    caller: ServiceCaller,
    Path(user_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let sessions = store::delete_user_data(&state.pool, user_id).await?;
    tracing::info!(%user_id, sessions, from = caller.service, "removed a deleted account's logbook");
    Ok(StatusCode::NO_CONTENT)
}

/// A climber's whole logbook, for the gateway's export. Only the climber may read it.
pub async fn internal_logbook(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(raw_user): Path<String>,
) -> ApiResult<Json<Vec<SessionWithClimbs>>> {
    let owner = resolve_user(&raw_user, Some(&caller))?;
    if owner != caller.id {
        return Err(ApiError::NotFound("no such user".to_owned()));
    }
    let sessions = store::all_sessions(&state.pool, owner).await?;
    let mut climbs = store::all_climbs(&state.pool, owner)
        .await?
        .into_iter()
        .peekable();
    let mut logbook = Vec::with_capacity(sessions.len());
    // Both lists come ordered by session id, so one pass pairs them.
    for session in sessions {
        let mut own = Vec::new();
        while let Some(climb) = climbs.next_if(|c| c.session_id == session.id) {
            own.push(climb);
        }
        logbook.push(SessionWithClimbs {
            session,
            climbs: own,
        });
    }
    Ok(Json(logbook))
}
