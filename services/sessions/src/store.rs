//! Queries of the sessions database. Handlers never see sqlx errors: they get
//! [`StoreError`] or plain values.

use sqlx::{PgExecutor, PgPool, Postgres, QueryBuilder};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::model::{Climb, Session};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<StoreError> for clmb_common::ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            // Through ApiError's own mapping: an unavailable database is 503.
            StoreError::Database(e) => e.into(),
        }
    }
}

/// A session's columns as shown, with its duration and climb count computed.
const SESSION_SELECT: &str = "
    SELECT s.id, s.user_id, s.gym_id, s.gym_name, s.location, s.name, s.local_date,
           s.started_at, s.ended_at,
           (EXTRACT(EPOCH FROM (s.ended_at - s.started_at)) / 60)::int AS duration_minutes,
           s.notes, s.mood_rating, s.energy_rating,
           (SELECT count(*) FROM climbs c WHERE c.session_id = s.id) AS climb_count,
           s.created_at, s.updated_at
    FROM sessions s";

pub struct NewSession<'a> {
    pub user_id: Uuid,
    pub gym_id: Option<Uuid>,
    pub gym_name: Option<&'a str>,
    pub location: Option<&'a str>,
    pub name: Option<&'a str>,
    pub local_date: Date,
    pub started_at: OffsetDateTime,
    pub notes: Option<&'a str>,
}

pub async fn insert_session(db: &PgPool, new: &NewSession<'_>) -> Result<Session, StoreError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, gym_id, gym_name, location, name, local_date, started_at, notes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(new.user_id)
    .bind(new.gym_id)
    .bind(new.gym_name)
    .bind(new.location)
    .bind(new.name)
    .bind(new.local_date)
    .bind(new.started_at)
    .bind(new.notes)
    .execute(db)
    .await?;
    find_session(db, id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
}

pub async fn find_session(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<Session>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SESSION_SELECT} WHERE s.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Where a page of a user's sessions starts: after this (date, start, id), newest first.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SessionPosition {
    pub local_date: Date,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub id: Uuid,
}

#[derive(Debug, Default)]
pub struct SessionFilter {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub gym_id: Option<Uuid>,
}

/// A user's sessions newest first, `limit + 1` of them so the caller knows if more follow.
pub async fn list_sessions(
    db: &PgPool,
    user_id: Uuid,
    filter: &SessionFilter,
    after: Option<&SessionPosition>,
    limit: i64,
) -> Result<Vec<Session>, StoreError> {
    let mut query = QueryBuilder::<Postgres>::new(SESSION_SELECT);
    query.push(" WHERE s.user_id = ").push_bind(user_id);
    if let Some(from) = filter.from {
        query.push(" AND s.local_date >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        query.push(" AND s.local_date <= ").push_bind(to);
    }
    if let Some(gym_id) = filter.gym_id {
        query.push(" AND s.gym_id = ").push_bind(gym_id);
    }
    if let Some(after) = after {
        query
            .push(" AND (s.local_date, s.started_at, s.id) < (")
            .push_bind(after.local_date)
            .push(", ")
            .push_bind(after.started_at)
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
    query
        .push(" ORDER BY s.local_date DESC, s.started_at DESC, s.id DESC LIMIT ")
        .push_bind(limit + 1);
    Ok(query.build_query_as().fetch_all(db).await?)
}

/// Writes the editable columns of a session.
pub async fn update_session(db: &PgPool, session: &Session) -> Result<Session, StoreError> {
    sqlx::query(
        "UPDATE sessions SET name = $2, notes = $3, mood_rating = $4, energy_rating = $5,
                started_at = $6, ended_at = $7, local_date = $8, updated_at = now()
         WHERE id = $1",
    )
    .bind(session.id)
    .bind(&session.name)
    .bind(&session.notes)
    .bind(session.mood_rating)
    .bind(session.energy_rating)
    .bind(session.started_at)
    .bind(session.ended_at)
    .bind(session.local_date)
    .execute(db)
    .await?;
    find_session(db, session.id)
        .await?
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
}

/// Sets `ended_at` unless the session has ended already; false when it had.
pub async fn end_session(
    db: &PgPool,
    id: Uuid,
    ended_at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE sessions SET ended_at = $2, updated_at = now() WHERE id = $1 AND ended_at IS NULL",
    )
    .bind(id)
    .bind(ended_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_session(db: &PgPool, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Removes everything of a user: sessions, and with them their climbs.
pub async fn delete_user_data(db: &PgPool, user_id: Uuid) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    clmb_common::deleted::record(&mut *tx, user_id).await?;
    sqlx::query("DELETE FROM climbs WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    // The triggers empty the tallies with the climbs; this makes it explicit.
    sqlx::query("DELETE FROM climb_tallies WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(sessions.rows_affected())
}

pub struct NewClimb<'a> {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub route_id: Option<Uuid>,
    pub discipline: &'a str,
    pub grade: &'a str,
    pub grade_system: &'a str,
    pub difficulty: f64,
    pub safety: Option<&'a str>,
    pub route_name: Option<&'a str>,
    pub gym_name: Option<&'a str>,
    pub attempt_type: &'a str,
    pub success: bool,
    pub attempts: i32,
    pub rating: Option<i16>,
    pub notes: Option<&'a str>,
    pub climbed_at: OffsetDateTime,
    pub local_date: Date,
}

pub async fn insert_climb(db: &PgPool, new: &NewClimb<'_>) -> Result<Climb, StoreError> {
    Ok(sqlx::query_as(
        "INSERT INTO climbs (id, session_id, user_id, route_id, discipline, grade, grade_system,
                             difficulty, safety, route_name, gym_name, attempt_type, success,
                             attempts, rating, notes, climbed_at, local_date)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(new.session_id)
    .bind(new.user_id)
    .bind(new.route_id)
    .bind(new.discipline)
    .bind(new.grade)
    .bind(new.grade_system)
    .bind(new.difficulty)
    .bind(new.safety)
    .bind(new.route_name)
    .bind(new.gym_name)
    .bind(new.attempt_type)
    .bind(new.success)
    .bind(new.attempts)
    .bind(new.rating)
    .bind(new.notes)
    .bind(new.climbed_at)
    .bind(new.local_date)
    .fetch_one(db)
    .await?)
}

pub async fn find_climb(db: &PgPool, id: Uuid) -> Result<Option<Climb>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM climbs WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?)
}

pub async fn climbs_of_session(db: &PgPool, session_id: Uuid) -> Result<Vec<Climb>, StoreError> {
    Ok(
        sqlx::query_as("SELECT * FROM climbs WHERE session_id = $1 ORDER BY climbed_at, id")
            .bind(session_id)
            .fetch_all(db)
            .await?,
    )
}

pub async fn update_climb(db: &PgPool, climb: &Climb) -> Result<Climb, StoreError> {
    Ok(sqlx::query_as(
        "UPDATE climbs SET discipline = $2, grade = $3, grade_system = $4, difficulty = $5,
                safety = $6, route_name = $7, attempt_type = $8, success = $9, attempts = $10,
                rating = $11, notes = $12, climbed_at = $13, updated_at = now()
         WHERE id = $1 RETURNING *",
    )
    .bind(climb.id)
    .bind(&climb.discipline)
    .bind(&climb.grade)
    .bind(&climb.grade_system)
    .bind(climb.difficulty)
    .bind(&climb.safety)
    .bind(&climb.route_name)
    .bind(&climb.attempt_type)
    .bind(climb.success)
    .bind(climb.attempts)
    .bind(climb.rating)
    .bind(&climb.notes)
    .bind(climb.climbed_at)
    .fetch_one(db)
    .await?)
}

pub async fn delete_climb(db: &PgPool, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM climbs WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Every session of a user, ordered by id (ids are time-ordered UUID v7).
pub async fn all_sessions(db: &PgPool, user_id: Uuid) -> Result<Vec<Session>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SESSION_SELECT} WHERE s.user_id = $1 ORDER BY s.id"
    )))
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

/// Every climb of a user, ordered by session id, then as logged.
pub async fn all_climbs(db: &PgPool, user_id: Uuid) -> Result<Vec<Climb>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT * FROM climbs WHERE user_id = $1 ORDER BY session_id, climbed_at, id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}
