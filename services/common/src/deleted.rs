//! Accounts a service has been told are deleted.
//!
//! Access tokens are stateless and live for minutes after their account is deleted.
//! When the users service tells a service to forget an account, the service removes the
//! account's data and records the id in its own `deleted_users` table (each service with
//! a database has one, made by its migrations). [`refuse_writes`] then refuses any write
//! made with a token of that account, so nothing new is left behind without an owner.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::auth::{TokenKind, TokenVerifier};
use crate::error::ApiError;

/// Records that an account is deleted. Idempotent.
pub async fn record(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO deleted_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn is_deleted(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM deleted_users WHERE user_id = $1)")
        .bind(user_id)
        .fetch_one(db)
        .await
}

/// What [`refuse_writes`] needs.
#[derive(Clone, Debug)]
pub struct DeletedAccounts {
    pub pool: PgPool,
    pub verifier: TokenVerifier,
}

/// Middleware: a write (any method but GET, HEAD and OPTIONS) with the access token of a
/// deleted account is 401. Reads pass: they create nothing.
pub async fn refuse_writes(
    State(accounts): State<DeletedAccounts>,
    request: Request,
    next: Next,
) -> Response {
    let reads = [Method::GET, Method::HEAD, Method::OPTIONS];
    if reads.contains(request.method()) {
        return next.run(request).await;
    }
    let user = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .and_then(|token| accounts.verifier.verify(token.trim()).ok())
        .filter(|claims| claims.kind == TokenKind::Access)
        .and_then(|claims| Uuid::parse_str(&claims.sub).ok());
    // No token or a bad one: the handler's own extractor answers that.
    let Some(user_id) = user else {
        return next.run(request).await;
    };
    match is_deleted(&accounts.pool, user_id).await {
        Ok(false) => next.run(request).await,
        Ok(true) => ApiError::Unauthorized("the account of this token no longer exists".to_owned())
            .into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}
