//! What the sessions service asks other services: whether a climber's logbook is visible
//! to the caller and in which time zone they live (users), and what a gym or route is
//! (gyms), to copy its name and grade into the log.

use axum::http::StatusCode;
use clmb_common::ApiError;
use clmb_common::auth::AuthUser;
use clmb_common::client::{CallError, ServiceClient};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct Peers {
    pub users: ServiceClient,
    pub gyms: ServiceClient,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    pub timezone: String,
    #[serde(default)]
    pub preferred_units: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Gym {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Route {
    pub id: Uuid,
    pub gym_id: Uuid,
    pub discipline: String,
    pub grade: String,
    pub grade_system: String,
    pub difficulty: f64,
    pub name: Option<String>,
}

impl Peers {
    /// The caller's own profile (for the time zone).
    pub async fn own_profile(
        &self,
        caller: &AuthUser,
        request_id: Option<&str>,
    ) -> Result<Profile, ApiError> {
        match self
            .users
            .get_json("/api/v1/users/me", Some(&caller.token), request_id)
            .await
        {
            Ok(profile) => Ok(profile),
            // A still-valid token of a deleted account: the caller's fault, not a 502.
            Err(error) if error.status() == Some(StatusCode::NOT_FOUND) => Err(
                ApiError::Unauthorized("the account of this token no longer exists".to_owned()),
            ),
            Err(error) => Err(error.into()),
        }
    }

    /// Succeeds when `caller` may read `owner`'s logbook: it is their own, or the owner's
    /// profile is public. A private or unknown owner is 404 with `missing` as the detail:
    /// the same 404 as for an id that does not exist (`no such session` for a session), so
    /// the answer reveals neither the climber nor the thing asked for.
    pub async fn ensure_visible(
        &self,
        caller: &AuthUser,
        owner: Uuid,
        missing: &'static str,
        request_id: Option<&str>,
    ) -> Result<(), ApiError> {
        if caller.id == owner {
            return Ok(());
        }
        let path = format!("/api/v1/users/{owner}");
        match self
            .users
            .get_json::<serde_json::Value>(&path, Some(&caller.token), request_id)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.status() == Some(StatusCode::NOT_FOUND) => {
                Err(ApiError::NotFound(missing.to_owned()))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// A gym, or `None` when it does not exist.
    pub async fn gym(&self, id: Uuid, request_id: Option<&str>) -> Result<Option<Gym>, ApiError> {
        not_found_as_none(
            self.gyms
                .get_json(&format!("/api/v1/gyms/{id}"), None, request_id)
                .await,
        )
    }

    /// A route, or `None` when it does not exist.
    pub async fn route(
        &self,
        id: Uuid,
        request_id: Option<&str>,
    ) -> Result<Option<Route>, ApiError> {
        not_found_as_none(
            self.gyms
                .get_json(&format!("/api/v1/routes/{id}"), None, request_id)
                .await,
        )
    }
}

fn not_found_as_none<T>(result: Result<T, CallError>) -> Result<Option<T>, ApiError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.status() == Some(StatusCode::NOT_FOUND) => Ok(None),
        Err(error) => Err(error.into()),
    }
}
