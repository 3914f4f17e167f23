//! Composed reads: one client call, several service calls made at once, one answer.
//!
//! The core part (the user of an overview, the session of a detail) must succeed, or the
//! answer is the core failure (404, or 502/503/504). Any other part that fails or is too
//! slow becomes `null`, with `partial: true`, a warning naming the service, and the
//! header `X-Clmb-Partial: true`. Every service call has its own timeout and the whole
//! request is bounded by the gateway's deadline.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clmb_common::ApiError;
use clmb_common::auth::{AuthUser, resolve_user};
use clmb_common::client::{CallError, ServiceClient};
use clmb_common::extract::{Json, parse_id};
use clmb_common::http::request_id;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::AppState;

pub const PARTIAL_HEADER: HeaderName = HeaderName::from_static("x-clmb-partial");

/// A part of a composed answer that could not be had.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Warning {
    /// The service that failed: `users`, `gyms` or `sessions`.
    pub service: String,
    pub message: String,
}

impl Warning {
    fn from_call(part: &str, error: &CallError) -> Self {
        let reason = match error {
            CallError::Timeout { .. } => "did not answer in time".to_owned(),
            CallError::Unreachable { .. } => "is unreachable".to_owned(),
            CallError::Status { status, .. } => format!("answered {}", status.as_u16()),
            CallError::Decode { .. } => "sent an unreadable answer".to_owned(),
        };
        Self {
            service: error.service().to_owned(),
            message: format!("{part}: the {} service {reason}", error.service()),
        }
    }
}

/// Runs a service call with the client's own timeout; `Err` carries the failure.
async fn call<T: for<'de> Deserialize<'de>>(
    client: &ServiceClient,
    path: String,
    token: &str,
    request_id: Option<&str>,
) -> Result<T, CallError> {
    client.get_json(&path, Some(token), request_id).await
}

/// Bounds a whole composed request by the gateway deadline.
async fn within_deadline<F: Future<Output = Result<Response, ApiError>>>(
    state: &AppState,
    work: F,
) -> Response {
    match tokio::time::timeout(state.deadline, work).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error.into_response(),
        Err(_) => ApiError::Upstream {
            service: "gateway",
            status: StatusCode::GATEWAY_TIMEOUT,
        }
        .into_response(),
    }
}

fn core_failure(error: CallError, what: &str) -> ApiError {
    if error.status() == Some(StatusCode::NOT_FOUND) {
        return ApiError::NotFound(format!("no such {what}"));
    }
    if error.status() == Some(StatusCode::UNAUTHORIZED) {
        return ApiError::Unauthorized("the access token is invalid or expired".to_owned());
    }
    error.into()
}

fn respond<T: Serialize>(body: T, partial: bool) -> Response {
    let mut response = Json(body).into_response();
    if partial {
        response
            .headers_mut()
            .insert(PARTIAL_HEADER, HeaderValue::from_static("true"));
    }
    response
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GymBrief {
    pub id: Uuid,
    pub name: String,
    pub city: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OverviewStats {
    pub sessions: i64,
    pub climbs: i64,
    pub sends: i64,
    pub max_boulder_grade: Option<String>,
    pub max_rope_grade: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Overview {
    /// The profile as the caller may see it.
    #[schema(value_type = Object)]
    pub user: Value,
    pub stats: Option<OverviewStats>,
    /// The last 5 sessions, each with its gym (or `null`).
    #[schema(value_type = Option<Vec<Object>>)]
    pub recent_sessions: Option<Vec<Value>>,
    pub partial: bool,
    pub warnings: Vec<Warning>,
}

#[derive(Deserialize)]
struct SessionPage {
    items: Vec<Value>,
}

/// A climber at a glance: profile, totals and the last five sessions with their gyms.
///
/// Profile, totals and sessions are asked for at once; the gyms of those sessions next,
/// in one call. Only the profile is needed: if totals, sessions or gyms fail, the answer
/// is partial.
#[utoipa::path(get, path = "/api/v1/users/{user_id}/overview", tag = "composed", security(("bearer" = [])),
    params(("user_id" = String, Path, description = "a user id, or `me`")),
    responses((status = 200, body = Overview), (status = 404), (status = 502), (status = 503), (status = 504)))]
pub async fn overview(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_user): Path<String>,
) -> Response {
    let work = async {
        let user_id = resolve_user(&raw_user, Some(&caller))?;
        let request_id = request_id(&headers);
        let token = caller.token.as_str();

        let (user, summary, recent) = tokio::join!(
            call::<Value>(
                &state.users,
                format!("/api/v1/users/{user_id}"),
                token,
                request_id
            ),
            call::<OverviewStats>(
                &state.sessions,
                format!("/internal/users/{user_id}/summary"),
                token,
                request_id
            ),
            call::<SessionPage>(
                &state.sessions,
                format!("/api/v1/users/{user_id}/sessions?limit=5"),
                token,
                request_id
            ),
        );
        let user = user.map_err(|e| core_failure(e, "user"))?;

        let mut warnings = Vec::new();
        let stats = summary
            .map_err(|e| warnings.push(Warning::from_call("stats", &e)))
            .ok();
        let recent = recent
            .map_err(|e| warnings.push(Warning::from_call("recent_sessions", &e)))
            .ok();

        let recent_sessions = match recent {
            Some(page) => {
                Some(with_gyms(&state, page.items, token, request_id, &mut warnings).await)
            }
            None => None,
        };
        let partial = !warnings.is_empty();
        Ok(respond(
            Overview {
                user,
                stats,
                recent_sessions,
                partial,
                warnings,
            },
            partial,
        ))
    };
    within_deadline(&state, work).await
}

/// Adds `gym: {id, name, city}` to each session, reading all their gyms in one call.
async fn with_gyms(
    state: &AppState,
    sessions: Vec<Value>,
    token: &str,
    request_id: Option<&str>,
    warnings: &mut Vec<Warning>,
) -> Vec<Value> {
    let gym_ids: BTreeSet<Uuid> = sessions
        .iter()
        .filter_map(|s| {
            s.get("gym_id")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok())
        })
        .collect();
    let mut by_id = HashMap::new();
    match fetch_by_ids(&state.gyms, "gyms", &gym_ids, token, request_id).await {
        // A gym deleted since the session is not found: that session keeps its gym name.
        Ok(found) => {
            for (id, gym) in found {
                if let Ok(gym) = serde_json::from_value::<GymBrief>(gym) {
                    by_id.insert(id, gym);
                }
            }
        }
        Err(error) => warnings.push(Warning::from_call("gym", &error)),
    }
    sessions
        .into_iter()
        .map(|mut session| {
            let gym = session
                .get("gym_id")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok())
                .and_then(|id| by_id.get(&id))
                .and_then(|gym| serde_json::to_value(gym).ok())
                .unwrap_or(Value::Null);
            if let Some(object) = session.as_object_mut() {
                object.insert("gym".to_owned(), gym);
            }
            session
        })
        .collect()
}

/// How many ids the gyms service takes in one batch read (its `MAX_IDS`).
const IDS_PER_CALL: usize = 100;

#[derive(Deserialize)]
struct Found {
    items: Vec<Value>,
}

/// Reads every one of `ids` from `/internal/{what}?ids=…` in as few calls as the
/// service allows, made at once, and answers those that exist by id. One failed call
/// fails the whole read: a part of the answer is either there or reported missing.
async fn fetch_by_ids(
    client: &ServiceClient,
    what: &str,
    ids: &BTreeSet<Uuid>,
    token: &str,
    request_id: Option<&str>,
) -> Result<HashMap<Uuid, Value>, CallError> {
    let ids: Vec<Uuid> = ids.iter().copied().collect();
    let calls = ids.chunks(IDS_PER_CALL).map(|chunk| {
        let list = chunk
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",");
        call::<Found>(
            client,
            format!("/internal/{what}?ids={list}"),
            token,
            request_id,
        )
    });
    let mut by_id = HashMap::new();
    for found in futures::future::join_all(calls).await {
        for item in found?.items {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok());
            if let Some(id) = id {
                by_id.insert(id, item);
            }
        }
    }
    Ok(by_id)
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionDetail {
    /// The session's fields, as `GET /sessions/{id}` gives them.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub session: serde_json::Map<String, Value>,
    /// Its climbs, each with `route`: the route as it is now, or `null`.
    #[schema(value_type = Vec<Object>)]
    pub climbs: Vec<Value>,
    pub gym: Option<Value>,
    pub partial: bool,
    pub warnings: Vec<Warning>,
}

/// A session with its climbs, each climb with its route as it is now, and its gym.
///
/// Only the session is needed; if the gyms service fails, routes and gym are `null` and
/// the answer is partial.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/detail", tag = "composed", security(("bearer" = [])),
    params(("session_id" = Uuid, Path)),
    responses((status = 200, body = SessionDetail), (status = 404), (status = 502), (status = 503), (status = 504)))]
pub async fn session_detail(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Response {
    let work = async {
        let session_id = parse_id("session_id", &raw_id)?;
        let request_id = request_id(&headers);
        let token = caller.token.as_str();

        let mut session: serde_json::Map<String, Value> = call(
            &state.sessions,
            format!("/api/v1/sessions/{session_id}"),
            token,
            request_id,
        )
        .await
        .map_err(|e| core_failure(e, "session"))?;
        let climbs = match session.remove("climbs") {
            Some(Value::Array(climbs)) => climbs,
            _ => Vec::new(),
        };

        let gym_id = session
            .get("gym_id")
            .and_then(Value::as_str)
            .and_then(|id| Uuid::parse_str(id).ok());
        let route_ids: BTreeSet<Uuid> = climbs
            .iter()
            .filter_map(|c| {
                c.get("route_id")
                    .and_then(Value::as_str)
                    .and_then(|id| Uuid::parse_str(id).ok())
            })
            .collect();
        let gym_call = async {
            match gym_id {
                Some(id) => Some(
                    call::<Value>(&state.gyms, format!("/api/v1/gyms/{id}"), token, request_id)
                        .await,
                ),
                None => None,
            }
        };
        let routes_call = fetch_by_ids(&state.gyms, "routes", &route_ids, token, request_id);
        let (gym, routes) = tokio::join!(gym_call, routes_call);

        let mut warnings = Vec::new();
        let gym = match gym {
            Some(Ok(gym)) => Some(gym),
            Some(Err(error)) if error.status() == Some(StatusCode::NOT_FOUND) => None,
            Some(Err(error)) => {
                warnings.push(Warning::from_call("gym", &error));
                None
            }
            None => None,
        };
        // A route deleted since the climb is not found: that climb's route is null.
        let route_by_id = routes.unwrap_or_else(|error| {
            warnings.push(Warning::from_call("routes", &error));
            HashMap::new()
        });
        let climbs = climbs
            .into_iter()
            .map(|mut climb| {
                let route = climb
                    .get("route_id")
                    .and_then(Value::as_str)
                    .and_then(|id| Uuid::parse_str(id).ok())
                    .and_then(|id| route_by_id.get(&id).cloned())
                    .unwrap_or(Value::Null);
                if let Some(object) = climb.as_object_mut() {
                    object.insert("route".to_owned(), route);
                }
                climb
            })
            .collect();

        let partial = !warnings.is_empty();
        Ok(respond(
            SessionDetail {
                session,
                climbs,
                gym,
                partial,
                warnings,
            },
            partial,
        ))
    };
    within_deadline(&state, work).await
}
