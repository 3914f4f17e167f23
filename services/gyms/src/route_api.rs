//! Routes and boulders set in a gym.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use clmb_common::auth::AuthUser;
use clmb_common::error::Problem;
use clmb_common::extract::{Json, Query, parse_id};
use clmb_common::paging::{Page, PageQuery};
use clmb_common::{ApiError, ApiResult, FieldError};
use clmb_grades::{Family, Grade, GradeSystem};
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::AppState;
use crate::gym_api::require_manager;
use crate::model::{CreateRoute, Discipline, Gym, Route, UpdateRoute, system_by_name};
use crate::store::{self, RouteFilter, StoreError};
use crate::validate::RouteInput;

fn bad_query(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequestFields(vec![FieldError::new(field, message)])
}

/// Gyms have no time zone of their own: "today" is the UTC date.
fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Filters of `GET /gyms/{gym_id}/routes`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RouteSearch {
    /// `boulder`, `sport`, `top_rope` or `trad`.
    discipline: Option<String>,
    /// Exactly this grade (its canonical label in its system, so `v4` finds `V4` but not
    /// `V4+`).
    grade: Option<String>,
    /// Routes at least this hard (compared by difficulty, so `V3` also finds `V4+`).
    min_grade: Option<String>,
    /// Routes at most this hard (compared by difficulty).
    max_grade: Option<String>,
    /// Section name, case-insensitive.
    section: Option<String>,
    /// Hold colour, case-insensitive.
    colour: Option<String>,
    /// `true` (default), `false` (stripped routes only) or `all`.
    active: Option<String>,
    /// Show every grade converted into this system (nearest grade of its ladder).
    grade_system: Option<String>,
    /// 1..100, default 20.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The list filter and the system to show grades in, resolved against the gym.
struct Resolved {
    filter: RouteFilter,
    display: Option<GradeSystem>,
}

impl RouteSearch {
    fn resolve(&self, gym: &Gym) -> ApiResult<Resolved> {
        let discipline = match self.discipline.as_deref() {
            None => None,
            Some(name) => Some(Discipline::from_name(name).ok_or_else(|| {
                bad_query(
                    "discipline",
                    "must be one of boulder, sport, top_rope, trad",
                )
            })?),
        };
        let display = match self.grade_system.as_deref() {
            None => None,
            Some(name) => Some(system_by_name(name).ok_or_else(|| {
                bad_query(
                    "grade_system",
                    "must be one of v_scale, font, yds, french, uiaa, ewbank",
                )
            })?),
        };
        let active = match self.active.as_deref() {
            None | Some("true") => Some(true),
            Some("false") => Some(false),
            Some("all") => None,
            Some(_) => return Err(bad_query("active", "must be true, false or all")),
        };

        // Which family the list is about: a discipline, a display system and every grade
        // filter must agree on it.
        let mut family: Option<(Family, &str)> = None;
        let mut settle = |field: &'static str, found: Family| -> ApiResult<()> {
            match family {
                Some((known, by)) if known != found => Err(bad_query(
                    field,
                    format!(
                        "is a {} grade, but `{by}` asks for {} climbs",
                        found.as_str(),
                        known.as_str()
                    ),
                )),
                Some(_) => Ok(()),
                None => {
                    family = Some((found, field));
                    Ok(())
                }
            }
        };
        if let Some(discipline) = discipline {
            settle("discipline", discipline.family())?;
        }
        if let Some(system) = display {
            settle("grade_system", system.family())?;
        }
        let mut filter = RouteFilter {
            active,
            ..RouteFilter::default()
        };
        let read =
            |field: &str, text: &str| read_filter_grade(field, text, gym, discipline, display);
        if let Some(text) = self.grade.as_deref() {
            let grade = read("grade", text)?;
            settle("grade", grade.family())?;
            match display {
                None => filter.exact = Some((grade.system, grade.label)),
                Some(system) => {
                    let (low, high) = band(system, grade.difficulty);
                    filter.above = low;
                    filter.at_most = high;
                }
            }
        }
        if let Some(text) = self.min_grade.as_deref() {
            let grade = read("min_grade", text)?;
            settle("min_grade", grade.family())?;
            match display {
                None => filter.at_least = Some(grade.difficulty),
                Some(system) => filter.above = max(filter.above, band(system, grade.difficulty).0),
            }
        }
        if let Some(text) = self.max_grade.as_deref() {
            let grade = read("max_grade", text)?;
            settle("max_grade", grade.family())?;
            match display {
                None => filter.at_most = min(filter.at_most, Some(grade.difficulty)),
                Some(system) => {
                    filter.at_most = min(filter.at_most, band(system, grade.difficulty).1)
                }
            }
        }
        filter.disciplines = match (discipline, family) {
            (Some(discipline), _) => Some(vec![discipline]),
            (None, Some((family, _))) => Some(Discipline::of_family(family).to_vec()),
            (None, None) => None,
        };
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        filter.section = text(&self.section);
        filter.colour = text(&self.colour);
        Ok(Resolved { filter, display })
    }
}

fn max(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Reads a grade given as a filter: in the display system when one is asked for; else
/// in the gym's system for the discipline, or any system of its family; else in one of
/// the gym's two systems, or any system at all.
fn read_filter_grade(
    field: &str,
    text: &str,
    gym: &Gym,
    discipline: Option<Discipline>,
    display: Option<GradeSystem>,
) -> ApiResult<Grade> {
    let systems = gym.grade_systems;
    let result = match (display, discipline) {
        (Some(system), _) => clmb_grades::parse(text, Some(system)),
        (None, Some(discipline)) => {
            let family = discipline.family();
            clmb_grades::parse(text, Some(systems.for_family(family)))
                .or_else(|_| clmb_grades::parse_for_family(text, family))
        }
        (None, None) => clmb_grades::parse(text, Some(systems.boulder))
            .or_else(|_| clmb_grades::parse(text, Some(systems.rope)))
            .or_else(|_| clmb_grades::parse(text, None)),
    };
    result.map_err(|error| bad_query(field, error.to_string()))
}

/// The difficulties that convert to the same ladder grade of `system` as `difficulty`
/// does: above the midpoint with the grade below, up to and including the midpoint with
/// the grade above (`nearest` resolves a tie to the easier grade).
fn band(system: GradeSystem, difficulty: f64) -> (Option<f64>, Option<f64>) {
    let ladder = system.grades();
    let grade = system.nearest(difficulty);
    let index = grade.difficulty_order as usize;
    let low = index
        .checked_sub(1)
        .and_then(|below| ladder.get(below))
        .map(|below| (below.difficulty + grade.difficulty) / 2.0);
    let high = ladder
        .get(index + 1)
        .map(|above| (grade.difficulty + above.difficulty) / 2.0);
    (low, high)
}

fn gym_id(raw: &str) -> ApiResult<Uuid> {
    parse_id("gym_id", raw)
}

fn route_id(raw: &str) -> ApiResult<Uuid> {
    parse_id("route_id", raw)
}

/// The routes of a gym, easiest first (by difficulty, then id). Public.
///
/// Only active routes unless `active=false` (stripped ones) or `active=all`. Grade
/// filters compare difficulty, not text, and read their grade in the gym's system for
/// `discipline` (or any system of that family); without `discipline`, in the gym's
/// boulder or rope system, or any system. A grade filter without `discipline` lists
/// only the disciplines of that grade's family (`min_grade=V3` lists boulders);
/// filters of different families, or one that contradicts `discipline`, are 400.
///
/// `grade_system` lists a family's routes in another system: each route's `grade` and
/// `grade_system` become the nearest grade of that system's ladder (its `difficulty`
/// stays), and `grade`, `min_grade` and `max_grade` then apply to the grades as shown
/// (`grade=6A&grade_system=font` lists the routes shown as 6A).
#[utoipa::path(
    get,
    path = "/api/v1/gyms/{gym_id}/routes",
    tag = "routes",
    params(("gym_id" = Uuid, Path, description = "The gym's id"), RouteSearch),
    responses(
        (status = 200, description = "A page of routes", body = Page<Route>),
        (status = 400, description = "A parameter cannot be read", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such gym", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn routes_index(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Query(search): Query<RouteSearch>,
) -> ApiResult<Json<Page<Route>>> {
    let id = gym_id(&raw_id)?;
    let paging = PageQuery {
        limit: search.limit,
        cursor: search.cursor.clone(),
    };
    let limit = paging.limit()?;
    // Difficulties travel as their bit pattern so the next page starts exactly after.
    let after = paging
        .position::<(u64, Uuid)>()?
        .map(|(bits, id)| (f64::from_bits(bits), id));
    let gym = store::get_gym(&state.pool, id).await?;
    let Resolved { filter, display } = search.resolve(&gym)?;

    let rows = store::list_routes(&state.pool, id, &filter, after, limit + 1).await?;
    let mut page = Page::from_rows(rows, limit, |route| (route.difficulty.to_bits(), route.id));
    if let Some(system) = display {
        for route in &mut page.items {
            route.grade = system.nearest(route.difficulty).label.to_owned();
            route.grade_system = system;
        }
    }
    Ok(Json(page))
}

/// Set a route in a gym (managers only).
///
/// The grade must be a grade of the gym's system for the discipline's family
/// (`boulder` → the boulder system, `sport`, `top_rope`, `trad` → the rope system), in
/// any form the grade parser reads (`v5`, `V 5`, `V4-5`, `5.10a/b`, `5.10+`, `5.11`);
/// it is stored canonically with its system and difficulty. A safety rating (`R`,
/// `PG13`) is refused: gym routes do not record one. `set_on` defaults to today (UTC).
/// A route may be created already stripped with `"active": false` (`stripped_on`
/// defaults to today). Every invalid field is listed in one 422.
#[utoipa::path(
    post,
    path = "/api/v1/gyms/{gym_id}/routes",
    tag = "routes",
    params(("gym_id" = Uuid, Path, description = "The gym's id")),
    request_body = CreateRoute,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the route", body = Route,
            headers(("Location" = String, description = "/api/v1/routes/{id}"))),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a manager of the gym", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such gym", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn routes_create(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw_id): Path<String>,
    Json(body): Json<CreateRoute>,
) -> ApiResult<Response> {
    let gym_id = gym_id(&raw_id)?;
    let gym = store::get_gym(&state.pool, gym_id).await?;
    require_manager(&gym, &user)?;
    let today = today();
    let route = RouteInput::from_create(body, today).validate(gym.grade_systems, today)?;

    let id = Uuid::now_v7();
    store::insert_route(&state.pool, id, gym_id, &route).await?;

    tracing::info!(route_id = %id, gym_id = %gym_id, grade = route.grade.label, "route set");
    let created = store::get_route(&state.pool, id).await?;
    let location = format!("/api/v1/routes/{id}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

/// One route. Public.
#[utoipa::path(
    get,
    path = "/api/v1/routes/{route_id}",
    tag = "routes",
    params(("route_id" = Uuid, Path, description = "The route's id")),
    responses(
        (status = 200, description = "The route", body = Route),
        (status = 404, description = "No such route", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn routes_show(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<Json<Route>> {
    let id = route_id(&raw_id)?;
    Ok(Json(store::get_route(&state.pool, id).await?))
}

/// Update a route (managers of its gym only).
///
/// Absent fields stay; `null` clears an optional field. A new `grade` is read in the
/// gym's current system for the (new) discipline's family; a route whose grade and
/// family are unchanged keeps its grade even if the gym has switched systems since,
/// while a discipline change to the other family re-reads the stored grade and needs a
/// new one if it is not a grade of that family (422 naming `grade`).
///
/// `{"active": false}` archives the route and sets `stripped_on` (today, UTC, unless
/// given); `{"active": true}` re-opens it and clears `stripped_on`. A `stripped_on` on
/// a route that stays active is 422.
#[utoipa::path(
    patch,
    path = "/api/v1/routes/{route_id}",
    tag = "routes",
    params(("route_id" = Uuid, Path, description = "The route's id")),
    request_body = UpdateRoute,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated route", body = Route),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a manager of the route's gym", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such route", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn routes_update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw_id): Path<String>,
    Json(body): Json<UpdateRoute>,
) -> ApiResult<Json<Route>> {
    let id = route_id(&raw_id)?;
    let gym_id = store::get_route(&state.pool, id).await?.gym_id;
    // The gym's lock serialises changes to its routes; the route is read again under it.
    let mut tx = store::begin(&state.pool).await?;
    let gym = match store::lock_gym(&mut *tx, gym_id).await {
        Err(StoreError::GymNotFound) => return Err(route_gone()),
        result => result?,
    };
    require_manager(&gym, &user)?;
    let current = store::get_route(&mut *tx, id).await?;

    let today = today();
    let route = RouteInput::from_update(&current, body).validate(gym.grade_systems, today)?;
    store::update_route(&mut *tx, id, &route).await?;
    store::commit(tx).await?;

    tracing::info!(route_id = %id, gym_id = %gym_id, user_id = %user.id, "route updated");
    Ok(Json(store::get_route(&state.pool, id).await?))
}

/// The route's gym disappeared between reading the route and locking the gym.
fn route_gone() -> ApiError {
    ApiError::NotFound("no route with this id".to_owned())
}

/// Delete a route (managers of its gym only). Climbs logged on it keep their copy of
/// its grade and name.
#[utoipa::path(
    delete,
    path = "/api/v1/routes/{route_id}",
    tag = "routes",
    params(("route_id" = Uuid, Path, description = "The route's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a manager of the route's gym", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such route", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn routes_delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = route_id(&raw_id)?;
    let gym_id = store::get_route(&state.pool, id).await?.gym_id;
    let mut tx = store::begin(&state.pool).await?;
    let gym = match store::lock_gym(&mut *tx, gym_id).await {
        Err(StoreError::GymNotFound) => return Err(route_gone()),
        result => result?,
    };
    require_manager(&gym, &user)?;
    store::delete_route(&mut *tx, id).await?;
    store::commit(tx).await?;

    tracing::info!(route_id = %id, gym_id = %gym_id, user_id = %user.id, "route deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_band_holds_exactly_the_difficulties_that_convert_to_its_grade() {
        let system = GradeSystem::VScale;
        for grade in system.grades() {
            let (low, high) = band(system, grade.difficulty);

            if let Some(low) = low {
                assert_ne!(system.nearest(low).label, grade.label);
                assert_eq!(system.nearest(low + 0.01).label, grade.label);
            }
            if let Some(high) = high {
                assert_eq!(system.nearest(high).label, grade.label);
                assert_ne!(system.nearest(high + 0.01).label, grade.label);
            }
        }
    }
}
