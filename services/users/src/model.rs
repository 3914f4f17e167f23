//! The users service's data: accounts with their profiles, as stored and as shown.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A row of `users`. The password hash never leaves this crate.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub password_hash: String,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub preferred_climbing_style: Option<String>,
    pub current_boulder_grade: Option<String>,
    pub current_rope_grade: Option<String>,
    pub years_climbing: Option<i32>,
    pub climbing_goals: Option<String>,
    pub home_gym_id: Option<Uuid>,
    pub preferred_units: String,
    pub timezone: String,
    pub privacy_level: String,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub is_verified: bool,
    pub is_premium: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A climber's own profile, in full.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub preferred_climbing_style: Option<String>,
    pub current_boulder_grade: Option<String>,
    pub current_rope_grade: Option<String>,
    pub years_climbing: Option<i32>,
    pub climbing_goals: Option<String>,
    pub home_gym_id: Option<Uuid>,
    /// `metric` or `imperial`.
    pub preferred_units: String,
    /// IANA time zone name, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// `public` or `private`.
    pub privacy_level: String,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub is_verified: bool,
    pub is_premium: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What other climbers see: no email, no legal name, nothing about the account itself.
///
/// Closed to other fields (`additionalProperties: false` in the OpenAPI document), so a
/// full [`User`] does not also match this shape and [`Profile`]'s `oneOf` picks one.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub preferred_climbing_style: Option<String>,
    pub current_boulder_grade: Option<String>,
    pub current_rope_grade: Option<String>,
    pub years_climbing: Option<i32>,
    pub climbing_goals: Option<String>,
    pub home_gym_id: Option<Uuid>,
    pub preferred_units: String,
    pub timezone: String,
    pub privacy_level: String,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            username: row.username,
            display_name: row.display_name,
            first_name: row.first_name,
            last_name: row.last_name,
            bio: row.bio,
            avatar_url: row.avatar_url,
            preferred_climbing_style: row.preferred_climbing_style,
            current_boulder_grade: row.current_boulder_grade,
            current_rope_grade: row.current_rope_grade,
            years_climbing: row.years_climbing,
            climbing_goals: row.climbing_goals,
            home_gym_id: row.home_gym_id,
            preferred_units: row.preferred_units,
            timezone: row.timezone,
            privacy_level: row.privacy_level,
            city: row.city,
            state: row.state,
            country: row.country,
            is_verified: row.is_verified,
            is_premium: row.is_premium,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl From<UserRow> for PublicUser {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            bio: row.bio,
            avatar_url: row.avatar_url,
            preferred_climbing_style: row.preferred_climbing_style,
            current_boulder_grade: row.current_boulder_grade,
            current_rope_grade: row.current_rope_grade,
            years_climbing: row.years_climbing,
            climbing_goals: row.climbing_goals,
            home_gym_id: row.home_gym_id,
            preferred_units: row.preferred_units,
            timezone: row.timezone,
            privacy_level: row.privacy_level,
            city: row.city,
            state: row.state,
            country: row.country,
        }
    }
}

/// Either profile shape: the full one for its owner, the public one for others.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Profile {
    Own(Box<User>),
    Public(Box<PublicUser>),
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    pub email: String,
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Email or username.
    pub login: String,
    pub password: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub user: User,
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}
