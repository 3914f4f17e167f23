//! Queries of the users database. Storage errors become [`StoreError`] here, so handlers
//! never look at sqlx errors.

use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::UserRow;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the email is already registered")]
    EmailTaken,
    #[error("the username is already taken")]
    UsernameTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<StoreError> for clmb_common::ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EmailTaken => Self::Conflict("that email is already registered".into()),
            StoreError::UsernameTaken => Self::Conflict("that username is already taken".into()),
            // Through ApiError's own mapping: an unavailable database is 503.
            StoreError::Database(e) => e.into(),
        }
    }
}

fn translate(error: sqlx::Error) -> StoreError {
    if clmb_common::db::is_unique_violation(&error, "users_email_key") {
        StoreError::EmailTaken
    } else if clmb_common::db::is_unique_violation(&error, "users_username_key") {
        StoreError::UsernameTaken
    } else {
        StoreError::Database(error)
    }
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub display_name: Option<&'a str>,
}

pub async fn insert_user(
    db: impl PgExecutor<'_>,
    user: &NewUser<'_>,
) -> Result<UserRow, StoreError> {
    sqlx::query_as(
        "INSERT INTO users (id, email, username, password_hash, display_name)
         VALUES ($1, $2, $3, $4, $5) RETURNING *",
    )
    .bind(Uuid::now_v7())
    .bind(user.email)
    .bind(user.username)
    .bind(user.password_hash)
    .bind(user.display_name)
    .fetch_one(db)
    .await
    .map_err(translate)
}

pub async fn find_user(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<UserRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// Finds an account by email or by username, without regard to case.
pub async fn find_by_login(
    db: impl PgExecutor<'_>,
    login: &str,
) -> Result<Option<UserRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT * FROM users WHERE lower(email) = lower($1) OR lower(username) = lower($1) LIMIT 1",
    )
    .bind(login)
    .fetch_optional(db)
    .await?)
}

/// Writes every editable column of a profile.
pub async fn update_profile(
    db: impl PgExecutor<'_>,
    user: &UserRow,
) -> Result<UserRow, StoreError> {
    sqlx::query_as(
        "UPDATE users SET
            username = $2, display_name = $3, first_name = $4, last_name = $5, bio = $6,
            avatar_url = $7, preferred_climbing_style = $8, current_boulder_grade = $9,
            current_rope_grade = $10, years_climbing = $11, climbing_goals = $12,
            home_gym_id = $13, preferred_units = $14, timezone = $15, privacy_level = $16,
            city = $17, state = $18, country = $19, updated_at = now()
         WHERE id = $1 RETURNING *",
    )
    .bind(user.id)
    .bind(&user.username)
    .bind(&user.display_name)
    .bind(&user.first_name)
    .bind(&user.last_name)
    .bind(&user.bio)
    .bind(&user.avatar_url)
    .bind(&user.preferred_climbing_style)
    .bind(&user.current_boulder_grade)
    .bind(&user.current_rope_grade)
    .bind(user.years_climbing)
    .bind(&user.climbing_goals)
    .bind(user.home_gym_id)
    .bind(&user.preferred_units)
    .bind(&user.timezone)
    .bind(&user.privacy_level)
    .bind(&user.city)
    .bind(&user.state)
    .bind(&user.country)
    .fetch_one(db)
    .await
    .map_err(translate)
}

pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub async fn insert_refresh_token(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    family_id: Uuid,
    token: &str,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(family_id)
    .bind(digest(token))
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// What presenting a refresh token found.
#[derive(Debug)]
pub enum Redeemed {
    /// The token was live and is now used up.
    Live {
        user_id: Uuid,
        family_id: Uuid,
    },
    /// The token was already rotated or revoked: someone replayed it.
    Replayed {
        family_id: Uuid,
    },
    Unknown,
}

/// Marks a live refresh token used, atomically, so two concurrent refreshes with one
/// token cannot both succeed.
pub async fn redeem_refresh_token(db: &PgPool, token: &str) -> Result<Redeemed, StoreError> {
    let hash = digest(token);
    let live: Option<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE refresh_tokens SET revoked_at = now()
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
         RETURNING user_id, family_id",
    )
    .bind(&hash)
    .fetch_optional(db)
    .await?;
    if let Some((user_id, family_id)) = live {
        return Ok(Redeemed::Live { user_id, family_id });
    }
    let family: Option<Uuid> =
        sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(&hash)
            .fetch_optional(db)
            .await?;
    Ok(
        family.map_or(Redeemed::Unknown, |family_id| Redeemed::Replayed {
            family_id,
        }),
    )
}

pub async fn revoke_family(db: impl PgExecutor<'_>, family_id: Uuid) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes one of the user's refresh tokens; true when it was live.
pub async fn revoke_token(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    token: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now()
         WHERE token_hash = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(digest(token))
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes the account and records, in the same transaction, that every other service
/// still has to forget this user.
pub async fn delete_user(
    db: &PgPool,
    user_id: Uuid,
    services: &[&str],
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if deleted.rows_affected() == 0 {
        return Ok(false);
    }
    for service in services {
        sqlx::query(
            "INSERT INTO deletion_outbox (user_id, service) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(service)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

#[derive(Debug, sqlx::FromRow)]
pub struct PendingDeletion {
    pub user_id: Uuid,
    pub service: String,
    pub attempts: i32,
}

pub async fn due_deletions(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<PendingDeletion>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT user_id, service, attempts FROM deletion_outbox
         WHERE next_try_at <= now() ORDER BY created_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn finish_deletion(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    service: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM deletion_outbox WHERE user_id = $1 AND service = $2")
        .bind(user_id)
        .bind(service)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn postpone_deletion(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    service: &str,
    delay_secs: i64,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE deletion_outbox
         SET attempts = attempts + 1, last_error = $3,
             next_try_at = now() + make_interval(secs => $4)
         WHERE user_id = $1 AND service = $2",
    )
    .bind(user_id)
    .bind(service)
    .bind(error)
    .bind(delay_secs as f64)
    .execute(db)
    .await?;
    Ok(())
}
