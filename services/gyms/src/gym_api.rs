//! Gyms and their managers.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use clmb_common::auth::{AuthUser, resolve_user};
use clmb_common::error::Problem;
use clmb_common::extract::{Json, Query, parse_id};
use clmb_common::paging::{Page, PageQuery};
use clmb_common::{ApiError, ApiResult, FieldError};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::AppState;
use crate::model::{AddManager, CreateGym, Gym, UpdateGym};
use crate::store::{self, GymFilter, Near, StoreError};
use crate::text;
use crate::validate::GymInput;

/// How many times a new gym retries when another gym takes its made-up slug between
/// looking for a free one and inserting.
const SLUG_ATTEMPTS: usize = 5;
const DEFAULT_RADIUS_KM: f64 = 50.0;
/// Half the Earth's circumference: every place is within it.
const MAX_RADIUS_KM: f64 = 20_038.0;
const MAX_QUERY_TEXT: usize = 200;

fn bad_query(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequestFields(vec![FieldError::new(field, message)])
}

/// The caller may change the gym only as one of its managers.
pub(crate) fn require_manager(gym: &Gym, user: &AuthUser) -> ApiResult<()> {
    if gym.managers.contains(&user.id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the gym's managers may change it".to_owned(),
        ))
    }
}

/// Search parameters of `GET /gyms`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GymSearch {
    /// Part of the name, compared without regard to case or accents (`zurich` finds
    /// `Zürich`).
    q: Option<String>,
    /// The whole city name, compared without regard to case or accents.
    city: Option<String>,
    /// ISO 3166-1 alpha-2 code (case-insensitive here).
    country: Option<String>,
    /// `latitude,longitude`: list gyms within `radius_km` of this point, nearest first.
    near: Option<String>,
    /// Search radius around `near` in km, default 50; only with `near`.
    radius_km: Option<f64>,
    /// 1..100, default 20.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl GymSearch {
    fn filter(&self) -> ApiResult<GymFilter> {
        let folded = |field: &str, value: &Option<String>| -> ApiResult<Option<String>> {
            match value {
                Some(value) if value.chars().count() > MAX_QUERY_TEXT => Err(bad_query(
                    field,
                    format!("must be at most {MAX_QUERY_TEXT} characters"),
                )),
                Some(value) => Ok(Some(text::fold(value)).filter(|v| !v.is_empty())),
                None => Ok(None),
            }
        };
        let country = match self
            .country
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => None,
            Some(code) => {
                let code = code.to_ascii_uppercase();
                if !text::is_country_code(&code) {
                    return Err(bad_query("country", "must be an ISO 3166-1 alpha-2 code"));
                }
                Some(code)
            }
        };
        Ok(GymFilter {
            name_part: folded("q", &self.q)?,
            city: folded("city", &self.city)?,
            country,
        })
    }

    fn near(&self) -> ApiResult<Option<Near>> {
        let Some(near) = self.near.as_deref() else {
            if self.radius_km.is_some() {
                return Err(bad_query("radius_km", "needs `near`"));
            }
            return Ok(None);
        };
        let invalid = || bad_query("near", "must be `latitude,longitude` like `47.37,8.54`");
        let (lat, lng) = near.split_once(',').ok_or_else(invalid)?;
        let latitude: f64 = lat.trim().parse().map_err(|_| invalid())?;
        let longitude: f64 = lng.trim().parse().map_err(|_| invalid())?;
        if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
            return Err(bad_query(
                "near",
                "latitude must be within -90..90 and longitude within -180..180",
            ));
        }
        let radius_km = self.radius_km.unwrap_or(DEFAULT_RADIUS_KM);
        if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
            return Err(bad_query(
                "radius_km",
                format!("must be above 0 and at most {MAX_RADIUS_KM}"),
            ));
        }
        Ok(Some(Near {
            latitude,
            longitude,
            radius_km,
        }))
    }
}

/// Search gyms.
///
/// Without `near` the gyms come in name order (case and accents ignored), then by id.
/// With `near` only gyms that have coordinates and lie within `radius_km` (default 50)
/// are listed, nearest first (great-circle distance), then by id. `q`, `city` and
/// `country` narrow either order. Cursor paging: a gym created while a client pages is
/// neither repeated nor makes another one skipped. A cursor belongs to the order it came
/// from (with or without `near`); using it with the other is 400. Public.
#[utoipa::path(
    get,
    path = "/api/v1/gyms",
    tag = "gyms",
    params(GymSearch),
    responses(
        (status = 200, description = "A page of gyms", body = Page<Gym>),
        (status = 400, description = "A parameter cannot be read", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn gyms_index(
    State(state): State<AppState>,
    Query(search): Query<GymSearch>,
) -> ApiResult<Json<Page<Gym>>> {
    let paging = PageQuery {
        limit: search.limit,
        cursor: search.cursor.clone(),
    };
    let limit = paging.limit()?;
    let filter = search.filter()?;
    let page = match search.near()? {
        None => {
            let after = paging.position::<(String, Uuid)>()?;
            let rows = store::gyms_by_name(&state.pool, &filter, after, limit + 1).await?;
            let page = Page::from_rows(rows, limit, |row| (row.name_folded.clone(), row.gym.id));
            Page {
                items: page.items.into_iter().map(|row| row.gym).collect(),
                next_cursor: page.next_cursor,
            }
        }
        Some(near) => {
            // Distances travel as their bit pattern so the cursor compares exactly with
            // the distance the database computes again for the next page.
            let after = paging
                .position::<(u64, Uuid)>()?
                .map(|(bits, id)| (f64::from_bits(bits), id));
            let rows =
                store::gyms_by_distance(&state.pool, &filter, near, after, limit + 1).await?;
            let page = Page::from_rows(rows, limit, |(gym, distance)| (distance.to_bits(), gym.id));
            Page {
                items: page.items.into_iter().map(|(gym, _)| gym).collect(),
                next_cursor: page.next_cursor,
            }
        }
    };
    Ok(Json(page))
}

/// Create a gym.
///
/// The caller becomes its first manager. Only `name` is required; `grade_systems`
/// defaults to `{"boulder": "v_scale", "rope": "yds"}` and a partial object fills the
/// missing family from that default. Without `slug`, one is made from the name
/// (lower-case ASCII, accents dropped, `-` between words) and made unique by appending
/// `-2`, `-3`, …; an explicit `slug` another gym has is 409. Texts are trimmed; empty
/// optional texts are stored as `null`. Every invalid field is listed in one 422.
#[utoipa::path(
    post,
    path = "/api/v1/gyms",
    tag = "gyms",
    request_body = CreateGym,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the gym", body = Gym,
            headers(("Location" = String, description = "/api/v1/gyms/{id}"))),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn gyms_create(
    State(state): State<AppState>,
    user: AuthUser,
    Json(body): Json<CreateGym>,
) -> ApiResult<Response> {
    let gym = GymInput::from_create(body).validate()?;
    let id = Uuid::now_v7();
    let explicit = gym.slug.is_some();
    let base = gym.slug.clone().unwrap_or_else(|| text::slugify(&gym.name));

    for _ in 0..SLUG_ATTEMPTS {
        let mut tx = store::begin(&state.pool).await?;
        let slug = if explicit {
            base.clone()
        } else {
            free_slug(&base, &store::slugs_like(&mut *tx, &base).await?)
        };
        match store::insert_gym(&mut *tx, id, &gym, &slug).await {
            // Another gym took this slug after we looked: look again.
            Err(StoreError::SlugTaken) if !explicit => continue,
            result => result?,
        }
        store::add_manager(&mut *tx, id, user.id).await?;
        store::commit(tx).await?;

        tracing::info!(gym_id = %id, slug, manager = %user.id, "gym created");
        let created = store::get_gym(&state.pool, id).await?;
        let location = format!("/api/v1/gyms/{id}");
        return Ok((
            StatusCode::CREATED,
            [(header::LOCATION, location)],
            Json(created),
        )
            .into_response());
    }
    Err(ApiError::Conflict(
        "no free slug was found for this name; send one".to_owned(),
    ))
}

/// `base` if free, else the first free `base-2`, `base-3`, ….
fn free_slug(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|s| s == base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_else(|| base.to_owned())
}

fn gym_id(raw: &str) -> ApiResult<Uuid> {
    parse_id("gym_id", raw)
}

/// One gym. Public.
#[utoipa::path(
    get,
    path = "/api/v1/gyms/{gym_id}",
    tag = "gyms",
    params(("gym_id" = Uuid, Path, description = "The gym's id")),
    responses(
        (status = 200, description = "The gym", body = Gym),
        (status = 404, description = "No such gym", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn gyms_show(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Gym>> {
    let id = gym_id(&raw_id)?;
    Ok(Json(store::get_gym(&state.pool, id).await?))
}

/// Update a gym (managers only).
///
/// Absent fields stay as they are; `null` clears an optional field (`name`, `slug` and
/// `grade_systems` cannot be cleared). The result is checked as a whole: coordinates
/// must end up both set or both null. Changing the name keeps the slug (links stay
/// valid); a new explicit slug another gym has is 409. Changing `grade_systems`
/// affects routes created or regraded afterwards; existing routes keep the grade and
/// system they were set in.
#[utoipa::path(
    patch,
    path = "/api/v1/gyms/{gym_id}",
    tag = "gyms",
    params(("gym_id" = Uuid, Path, description = "The gym's id")),
    request_body = UpdateGym,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated gym", body = Gym),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a manager of the gym", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such gym", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn gyms_update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw_id): Path<String>,
    Json(body): Json<UpdateGym>,
) -> ApiResult<Json<Gym>> {
    let id = gym_id(&raw_id)?;
    let mut tx = store::begin(&state.pool).await?;
    let current = store::lock_gym(&mut *tx, id).await?;
    require_manager(&current, &user)?;

    let gym = GymInput::from_update(&current, body).validate()?;
    let slug = gym.slug.clone().unwrap_or_else(|| current.slug.clone());
    store::update_gym(&mut *tx, id, &gym, &slug).await?;
    store::commit(tx).await?;

    tracing::info!(gym_id = %id, user_id = %user.id, "gym updated");
    Ok(Json(store::get_gym(&state.pool, id).await?))
}

/// Delete a gym with its routes and managers (managers only).
///
/// Sessions logged at the gym are kept by the sessions service with the gym's name.
#[utoipa::path(
    delete,
    path = "/api/v1/gyms/{gym_id}",
    tag = "gyms",
    params(("gym_id" = Uuid, Path, description = "The gym's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a manager of the gym", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such gym", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn gyms_delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = gym_id(&raw_id)?;
    let mut tx = store::begin(&state.pool).await?;
    let gym = store::lock_gym(&mut *tx, id).await?;
    require_manager(&gym, &user)?;
    store::delete_gym(&mut *tx, id).await?;
    store::commit(tx).await?;

    tracing::info!(gym_id = %id, user_id = %user.id, "gym deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Make a user a manager of the gym (managers only).
///
/// The user id is not checked against the users service; an id that belongs to no
/// account is forgotten again when that id's account is deleted. Answers the updated
/// gym; 409 when the user already manages it.
#[utoipa::path(
    post,
    path = "/api/v1/gyms/{gym_id}/managers",
    tag = "gyms",
    params(("gym_id" = Uuid, Path, description = "The gym's id")),
    request_body = AddManager,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added; the updated gym", body = Gym,
            headers(("Location" = String, description = "/api/v1/gyms/{gym_id}/managers/{user_id}"))),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a manager of the gym", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such gym", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a manager", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn managers_add(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw_id): Path<String>,
    Json(body): Json<AddManager>,
) -> ApiResult<Response> {
    let id = gym_id(&raw_id)?;
    let gym = store::get_gym(&state.pool, id).await?;
    require_manager(&gym, &user)?;
    // An account deleted since would be a manager nobody can ever be again.
    if clmb_common::deleted::is_deleted(&state.pool, body.user_id).await? {
        return Err(ApiError::validation("user_id", "no account has this id"));
    }
    store::add_manager(&state.pool, id, body.user_id).await?;

    tracing::info!(gym_id = %id, manager = %body.user_id, by = %user.id, "manager added");
    let gym = store::get_gym(&state.pool, id).await?;
    let location = format!("/api/v1/gyms/{id}/managers/{}", body.user_id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(gym),
    )
        .into_response())
}

/// Remove a manager from the gym (managers only; `me` removes the caller).
///
/// A gym always keeps at least one manager: removing the last is 409. 404 when the
/// user does not manage the gym.
#[utoipa::path(
    delete,
    path = "/api/v1/gyms/{gym_id}/managers/{user_id}",
    tag = "gyms",
    params(
        ("gym_id" = Uuid, Path, description = "The gym's id"),
        ("user_id" = String, Path, description = "A manager's user id, or `me`"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a manager of the gym", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such gym, or the user does not manage it", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The last manager", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn managers_remove(
    State(state): State<AppState>,
    user: AuthUser,
    Path((raw_gym, raw_user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = gym_id(&raw_gym)?;
    let target = resolve_user(&raw_user, Some(&user))?;
    // The lock makes two managers removing each other at once see each other's change.
    let mut tx = store::begin(&state.pool).await?;
    let gym = store::lock_gym(&mut *tx, id).await?;
    require_manager(&gym, &user)?;
    if !gym.managers.contains(&target) {
        return Err(ApiError::NotFound(
            "this user does not manage the gym".to_owned(),
        ));
    }
    if gym.managers.len() <= 1 {
        return Err(ApiError::Conflict(
            "a gym keeps at least one manager; add another before removing this one".to_owned(),
        ));
    }
    store::remove_manager(&mut *tx, id, target).await?;
    store::commit(tx).await?;

    tracing::info!(gym_id = %id, manager = %target, by = %user.id, "manager removed");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_slug_gets_the_first_free_number() {
        let taken = [
            "the-arch".to_owned(),
            "the-arch-2".to_owned(),
            "the-arch-4".to_owned(),
        ];

        assert_eq!(free_slug("the-arch", &taken), "the-arch-3");
        assert_eq!(free_slug("the-cave", &taken), "the-cave");
    }
}
