//! Sessions and climbs as stored and as shown.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub gym_id: Option<Uuid>,
    pub gym_name: Option<String>,
    pub location: Option<String>,
    pub name: Option<String>,
    /// The climber's calendar date of the session, `YYYY-MM-DD`.
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date)]
    pub local_date: Date,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<OffsetDateTime>,
    pub duration_minutes: Option<i32>,
    pub notes: Option<String>,
    pub mood_rating: Option<i16>,
    pub energy_rating: Option<i16>,
    pub climb_count: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Climb {
    pub id: Uuid,
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub route_id: Option<Uuid>,
    /// `boulder`, `sport`, `top_rope` or `trad`.
    pub discipline: String,
    pub grade: String,
    pub grade_system: String,
    pub difficulty: f64,
    pub safety: Option<String>,
    pub route_name: Option<String>,
    pub gym_name: Option<String>,
    /// `onsight`, `flash`, `redpoint`, `repeat` or `attempt`.
    pub attempt_type: String,
    pub success: bool,
    pub attempts: i32,
    pub rating: Option<i16>,
    pub notes: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub climbed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A session with the climbs logged in it, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionWithClimbs {
    #[serde(flatten)]
    pub session: Session,
    pub climbs: Vec<Climb>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    pub gym_id: Option<Uuid>,
    /// Free text for a session away from a gym (an outdoor crag).
    pub location: Option<String>,
    pub name: Option<String>,
    /// RFC 3339 with offset; defaults to now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<OffsetDateTime>,
    pub notes: Option<String>,
}

/// Fields absent stay as they are; `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSession {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i16>)]
    pub mood_rating: Option<Option<i16>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i16>)]
    pub energy_rating: Option<Option<i16>>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "present_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Option<OffsetDateTime>>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndSession {
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClimb {
    /// A gym route: its grade, discipline and names are copied from it.
    pub route_id: Option<Uuid>,
    /// Required without `route_id`.
    pub discipline: Option<String>,
    /// Required without `route_id`; any form the grade parser reads (`V5`, `5.10a/b`, `6a+`).
    pub grade: Option<String>,
    /// The system `grade` is in; detected when absent.
    pub grade_system: Option<String>,
    pub route_name: Option<String>,
    /// Derived from `success` and `attempts` when absent.
    pub attempt_type: Option<String>,
    pub success: Option<bool>,
    pub attempts: Option<i32>,
    pub rating: Option<i16>,
    pub notes: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub climbed_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClimb {
    pub attempt_type: Option<String>,
    pub success: Option<bool>,
    pub attempts: Option<i32>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i16>)]
    pub rating: Option<Option<i16>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub route_name: Option<Option<String>>,
    /// Only for climbs without a route: a route's grade is a snapshot.
    pub grade: Option<String>,
    pub grade_system: Option<String>,
    pub discipline: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub climbed_at: Option<OffsetDateTime>,
}

/// Tells a field that is absent (`None`) from one that is `null` (`Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

fn present_time<'de, D>(deserializer: D) -> Result<Option<Option<OffsetDateTime>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    time::serde::rfc3339::option::deserialize(deserializer).map(Some)
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ImportReport {
    pub sessions_created: u64,
    pub climbs_created: u64,
    pub duplicates_skipped: u64,
    pub rows_rejected: Vec<RejectedRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RejectedRow {
    pub line: u64,
    pub reason: String,
}
