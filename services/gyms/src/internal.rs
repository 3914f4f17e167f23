//! Calls other clmb services make; not part of the public API or its document.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use clmb_common::auth::ServiceCaller;
use clmb_common::extract::{Json, Query, parse_id};
use clmb_common::{ApiError, ApiResult, FieldError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;
use crate::model::{Gym, Route};
use crate::store;

/// The most ids one batch read takes; the gateway asks in chunks of this many.
pub const MAX_IDS: usize = 100;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/internal/users/{user_id}", delete(users_forget))
        .route("/internal/gyms", get(gyms_by_ids))
        .route("/internal/routes", get(routes_by_ids))
}

#[derive(Debug, Deserialize)]
struct IdsQuery {
    /// Comma-separated UUIDs.
    ids: String,
}

impl IdsQuery {
    /// The distinct ids asked for; 400 naming `ids` for a bad one or too many.
    fn parse(&self) -> ApiResult<Vec<Uuid>> {
        let mut ids = Vec::new();
        for raw in self
            .ids
            .split(',')
            .map(str::trim)
            .filter(|raw| !raw.is_empty())
        {
            let id = parse_id("ids", raw)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.len() > MAX_IDS {
            return Err(ApiError::BadRequestFields(vec![FieldError::new(
                "ids",
                format!("at most {MAX_IDS} ids"),
            )]));
        }
        Ok(ids)
    }
}

#[derive(Debug, Serialize)]
struct Found<T> {
    items: Vec<T>,
}

/// `GET /internal/gyms?ids=…`: every gym among `ids` that exists, read at once, for
/// the gateway's composed answers (an overview names the gyms of five sessions). Ids
/// of gyms that do not exist are left out. Gyms are public, so any caller may ask.
async fn gyms_by_ids(
    State(state): State<AppState>,
    Query(query): Query<IdsQuery>,
) -> ApiResult<Json<Found<Gym>>> {
    let ids = query.parse()?;
    let items = store::gyms_by_ids(&state.pool, &ids).await?;
    Ok(Json(Found { items }))
}

/// `GET /internal/routes?ids=…`: every route among `ids` that exists, read at once
/// (a session's detail shows the route of each of its climbs).
async fn routes_by_ids(
    State(state): State<AppState>,
    Query(query): Query<IdsQuery>,
) -> ApiResult<Json<Found<Route>>> {
    let ids = query.parse()?;
    let items = store::routes_by_ids(&state.pool, &ids).await?;
    Ok(Json(Found { items }))
}

/// `DELETE /internal/users/{user_id}`: an account was deleted; remove that user from
/// the managers of every gym. Service tokens only; 204 whether or not the user
/// managed anything, so the users service can repeat the call until it succeeds.
///
/// A gym whose last manager this was stays, readable and without managers: it belongs
/// to the climbers who log sessions there, not to the account. Nobody can change it
/// through the API until an operator adds a manager (`INSERT INTO gym_managers`).
async fn users_forget(
    State(state): State<AppState>,
    caller: ServiceCaller,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    let user_id = parse_id("user_id", &raw_id)?;
    let gyms = store::remove_user(&state.pool, user_id).await?;
    tracing::info!(user_id = %user_id, gyms, caller = caller.service, "user removed from gym managers");
    Ok(StatusCode::NO_CONTENT)
}
