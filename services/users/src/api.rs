//! The users service's HTTP handlers: accounts, tokens and profiles.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clmb_common::auth::{AuthUser, ServiceCaller, resolve_user};
use clmb_common::extract::Json;
use clmb_common::{ApiError, ApiResult, Validator};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::model::{
    Login, Profile, PublicUser, RefreshRequest, Register, TokenPair, User, UserRow,
};
use crate::store::{self, NewUser, Redeemed};
use clmb_grades::Family;

use crate::{AppState, Passwords};

const REFRESH_TTL: Duration = Duration::days(30);

/// Registers an account and signs it in.
///
/// Usernames are 3..30 of `a-z 0-9 _ . -` and, like emails, unique without regard to
/// case (409). Passwords are 8..128 characters with no composition rules.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts", request_body = Register,
    responses((status = 201, body = TokenPair), (status = 409, description = "email or username taken"),
              (status = 422, description = "invalid field")))]
pub async fn auth_register(
    State(state): State<AppState>,
    Json(body): Json<Register>,
) -> ApiResult<Response> {
    let email = body.email.trim().to_owned();
    let mut check = Validator::new();
    check_email(&mut check, &email);
    check_username(&mut check, &body.username);
    check_password(&mut check, &body.password);
    check.length("display_name", body.display_name.as_deref(), 1, 100);
    check.finish()?;

    let password_hash = hash_password(state.clone(), body.password).await?;
    let user = store::insert_user(
        &state.pool,
        &NewUser {
            email: &email,
            username: &body.username,
            password_hash: &password_hash,
            display_name: body.display_name.as_deref(),
        },
    )
    .await?;
    tracing::info!(user_id = %user.id, "registered an account");

    let pair = issue_tokens(&state, user, Uuid::now_v7()).await?;
    let location = format!("/api/v1/users/{}", pair.user.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(pair),
    )
        .into_response())
}

/// Signs in with an email or a username.
///
/// An unknown account and a wrong password get the same 401, so the answer does not tell
/// which accounts exist.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = Login,
    responses((status = 200, body = TokenPair), (status = 401, description = "wrong login or password")))]
pub async fn auth_login(
    State(state): State<AppState>,
    Json(body): Json<Login>,
) -> ApiResult<Json<TokenPair>> {
    let wrong = || ApiError::Unauthorized("wrong login or password".to_owned());
    let user = store::find_by_login(&state.pool, body.login.trim()).await?;
    // Hash even for an unknown login, so the answer takes as long either way.
    let stored = user
        .as_ref()
        .map_or_else(|| state.dummy_hash.clone(), |u| u.password_hash.clone());
    if !verify_password(state.clone(), body.password, stored).await? {
        return Err(wrong());
    }
    let user = user.ok_or_else(wrong)?;
    Ok(Json(issue_tokens(&state, user, Uuid::now_v7()).await?))
}

/// Trades a refresh token for a new pair. The old refresh token stops working; presenting
/// an already rotated token revokes every token descended from the same sign-in, since
/// it means the token leaked.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "accounts", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, description = "unknown, used or expired token")))]
pub async fn auth_refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    let invalid = || ApiError::Unauthorized("the refresh token is invalid or expired".to_owned());
    match store::redeem_refresh_token(&state.pool, &body.refresh_token).await? {
        Redeemed::Live { user_id, family_id } => {
            let user = store::find_user(&state.pool, user_id)
                .await?
                .ok_or_else(invalid)?;
            Ok(Json(issue_tokens(&state, user, family_id).await?))
        }
        Redeemed::Replayed { family_id } => {
            tracing::warn!(%family_id, "a rotated refresh token was presented again; revoking its family");
            store::revoke_family(&state.pool, family_id).await?;
            Err(invalid())
        }
        Redeemed::Unknown => Err(invalid()),
    }
}

/// Revokes a refresh token of the caller's.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", request_body = RefreshRequest,
    security(("bearer" = [])), responses((status = 204), (status = 401)))]
pub async fn auth_logout(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<StatusCode> {
    // Idempotent: logging out twice, or with a token already rotated, is still done.
    store::revoke_token(&state.pool, caller.id, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One profile: the caller's own in full; another climber's public profile, or 404 when
/// that climber's profile is private.
#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "users", security(("bearer" = [])),
    params(("user_id" = String, Path, description = "a user id, or `me`")),
    responses((status = 200, body = Profile), (status = 404)))]
pub async fn users_show(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Profile>> {
    let id = resolve_user(&raw_id, Some(&caller))?;
    let not_found = || ApiError::NotFound("no such user".to_owned());
    let user = store::find_user(&state.pool, id)
        .await?
        .ok_or_else(not_found)?;
    if user.id == caller.id {
        return Ok(Json(Profile::Own(Box::new(User::from(user)))));
    }
    if user.privacy_level == "private" {
        return Err(not_found());
    }
    Ok(Json(Profile::Public(Box::new(PublicUser::from(user)))))
}

/// The caller's own profile, in full.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401)))]
pub async fn users_show_me(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<User>> {
    let user = store::find_user(&state.pool, caller.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such user".to_owned()))?;
    Ok(Json(User::from(user)))
}

/// Fields a climber may change on their profile.
const EDITABLE: &[&str] = &[
    "username",
    "display_name",
    "first_name",
    "last_name",
    "bio",
    "avatar_url",
    "preferred_climbing_style",
    "current_boulder_grade",
    "current_rope_grade",
    "years_climbing",
    "climbing_goals",
    "home_gym_id",
    "preferred_units",
    "timezone",
    "privacy_level",
    "city",
    "state",
    "country",
];

/// Changes some editable fields of the caller's profile. A field that is read-only
/// (`id`, `email`, `is_verified`, `is_premium`, `created_at`, `updated_at`) or unknown is
/// a 422 naming it, and nothing changes.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = Object, responses((status = 200, body = User), (status = 422)))]
pub async fn users_update_me(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(changes): Json<Map<String, Value>>,
) -> ApiResult<Json<User>> {
    let mut user = store::find_user(&state.pool, caller.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such user".to_owned()))?;

    let mut check = Validator::new();
    for (field, value) in &changes {
        if !EDITABLE.contains(&field.as_str()) {
            check.add(
                field.as_str(),
                "is read-only or unknown and cannot be changed",
            );
            continue;
        }
        apply_change(&mut user, &mut check, field, value);
    }
    check.finish()?;

    let user = store::update_profile(&state.pool, &user).await?;
    Ok(Json(User::from(user)))
}

/// Sets one profile field from JSON, recording a field error when the value is invalid.
fn apply_change(user: &mut UserRow, check: &mut Validator, field: &str, value: &Value) {
    let text = |check: &mut Validator, max: usize| -> Option<Option<String>> {
        match value {
            Value::Null => Some(None),
            Value::String(s) if s.chars().count() <= max => Some(Some(s.trim().to_owned())),
            Value::String(_) => {
                check.add(field, format!("must be at most {max} characters long"));
                None
            }
            _ => {
                check.add(field, "must be a string or null");
                None
            }
        }
    };
    let choice = |check: &mut Validator, allowed: &[&str]| -> Option<String> {
        match value.as_str() {
            Some(v) if allowed.contains(&v) => Some(v.to_owned()),
            _ => {
                check.add(field, format!("must be one of: {}", allowed.join(", ")));
                None
            }
        }
    };
    match field {
        "username" => match value.as_str() {
            Some(name) => {
                check_username(check, name);
                user.username = name.to_owned();
            }
            None => check.add(field, "must be a string"),
        },
        "display_name" => set(&mut user.display_name, text(check, 100)),
        "first_name" => set(&mut user.first_name, text(check, 100)),
        "last_name" => set(&mut user.last_name, text(check, 100)),
        "bio" => set(&mut user.bio, text(check, 2000)),
        "avatar_url" => {
            if let Some(url) = text(check, 2000) {
                if url
                    .as_deref()
                    .is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")))
                {
                    check.add(field, "must be an http(s) URL");
                }
                user.avatar_url = url;
            }
        }
        "preferred_climbing_style" => set(&mut user.preferred_climbing_style, text(check, 50)),
        "current_boulder_grade" => {
            let value = text(check, 20).map(|g| current_grade(check, field, g, Family::Boulder));
            set(&mut user.current_boulder_grade, value);
        }
        "current_rope_grade" => {
            let value = text(check, 20).map(|g| current_grade(check, field, g, Family::Rope));
            set(&mut user.current_rope_grade, value);
        }
        "climbing_goals" => set(&mut user.climbing_goals, text(check, 2000)),
        "city" => set(&mut user.city, text(check, 100)),
        "state" => set(&mut user.state, text(check, 100)),
        "country" => {
            if let Some(country) = text(check, 2) {
                if country
                    .as_deref()
                    .is_some_and(|c| c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase()))
                {
                    check.add(field, "must be an ISO 3166-1 alpha-2 code such as `FR`");
                }
                user.country = country;
            }
        }
        "years_climbing" => match value {
            Value::Null => user.years_climbing = None,
            Value::Number(n) => match n.as_i64().and_then(|n| i32::try_from(n).ok()) {
                Some(years) if (0..=100).contains(&years) => user.years_climbing = Some(years),
                _ => check.add(field, "must be a whole number between 0 and 100"),
            },
            _ => check.add(field, "must be a number or null"),
        },
        "home_gym_id" => match value {
            Value::Null => user.home_gym_id = None,
            Value::String(s) => match Uuid::parse_str(s) {
                Ok(id) => user.home_gym_id = Some(id),
                Err(_) => check.add(field, "must be a gym id (UUID)"),
            },
            _ => check.add(field, "must be a gym id or null"),
        },
        "preferred_units" => {
            if let Some(units) = choice(check, &["metric", "imperial"]) {
                user.preferred_units = units;
            }
        }
        "privacy_level" => {
            if let Some(level) = choice(check, &["public", "private"]) {
                user.privacy_level = level;
            }
        }
        "timezone" => match value.as_str() {
            Some(name) if jiff::tz::TimeZone::get(name).is_ok() => user.timezone = name.to_owned(),
            _ => check.add(
                field,
                "must be an IANA time zone name such as `Europe/Paris`",
            ),
        },
        _ => check.add(field, "is read-only or unknown and cannot be changed"),
    }
}

/// A climber's current grade as the grade parser reads it (`v5` is stored `V5`), or a
/// field error naming the accepted forms; `None` clears it.
fn current_grade(
    check: &mut Validator,
    field: &str,
    text: Option<String>,
    family: Family,
) -> Option<String> {
    let text = text.filter(|t| !t.is_empty())?;
    match clmb_grades::parse_for_family(&text, family) {
        Ok(grade) => Some(grade.label),
        Err(error) => {
            check.add(field, error.to_string());
            None
        }
    }
}

fn set(slot: &mut Option<String>, value: Option<Option<String>>) {
    if let Some(value) = value {
        *slot = value;
    }
}

/// Deletes the caller's account. Its sessions and climbs go too: every other service is
/// told, now or, if it is down, as soon as it is back.
#[utoipa::path(delete, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 204)))]
pub async fn users_delete_me(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<StatusCode> {
    let services: Vec<&str> = state.peers.iter().map(|peer| peer.name).collect();
    if store::delete_user(&state.pool, caller.id, &services).await? {
        tracing::info!(user_id = %caller.id, "deleted an account");
        state.deletions.notify_one();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Another service asks whether a user exists (204) or not (404); used on deletion
/// catch-up and by tests.
pub async fn internal_user_exists(
    State(state): State<AppState>,
    _caller: ServiceCaller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    match store::find_user(&state.pool, id).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::NotFound("no such user".to_owned())),
    }
}

async fn issue_tokens(state: &AppState, user: UserRow, family_id: Uuid) -> ApiResult<TokenPair> {
    let access_token = state.signer.access_token(user.id)?;
    let refresh_token = random_token()?;
    store::insert_refresh_token(
        &state.pool,
        user.id,
        family_id,
        &refresh_token,
        OffsetDateTime::now_utc() + REFRESH_TTL,
    )
    .await?;
    Ok(TokenPair {
        user: User::from(user),
        access_token,
        refresh_token,
        token_type: "Bearer".to_owned(),
        expires_in: state.signer.access_ttl_secs,
    })
}

fn random_token() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Argon2id with the service's parameters; run off the async threads, it is slow on
/// purpose.
async fn hash_password(state: AppState, password: String) -> ApiResult<String> {
    state
        .passwords
        .hash(password)
        .await
        .map_err(ApiError::internal)
}

async fn verify_password(state: AppState, password: String, stored: String) -> ApiResult<bool> {
    state
        .passwords
        .verify(password, stored)
        .await
        .map_err(ApiError::internal)
}

/// The hash a login that names no account is checked against.
pub fn make_dummy_hash(passwords: &Passwords) -> String {
    passwords
        .hash_now(b"not a real password, only for timing")
        .unwrap_or_default()
}

fn check_email(check: &mut Validator, email: &str) {
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    check.check(valid, "email", "must be an email address");
}

fn check_username(check: &mut Validator, username: &str) {
    let len = username.chars().count();
    let allowed = username.chars().all(|c| {
        c.is_ascii_lowercase() || c.is_ascii_uppercase() || c.is_ascii_digit() || "_.-".contains(c)
    });
    check.check(
        (3..=30).contains(&len) && allowed,
        "username",
        "must be 3 to 30 characters of a-z, 0-9, `_`, `.` and `-`",
    );
}

fn check_password(check: &mut Validator, password: &str) {
    let len = password.chars().count();
    check.check(
        (8..=128).contains(&len),
        "password",
        "must be 8 to 128 characters long",
    );
}
