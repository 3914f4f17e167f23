//! The database side: every query of the service, each taking `impl PgExecutor` so the
//! caller picks the pool or a transaction. Storage errors are translated here into
//! [`StoreError`]; handlers never see sqlx's.

use clmb_common::ApiError;
use clmb_grades::GradeSystem;
use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::model::{Discipline, GradeSystems, Gym, Route, system_by_name};
use crate::text;
use crate::validate::{ValidGym, ValidRoute};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("gym not found")]
    GymNotFound,
    #[error("route not found")]
    RouteNotFound,
    #[error("slug already taken")]
    SlugTaken,
    #[error("already a manager")]
    AlreadyManager,
    #[error("stored row cannot be read: {0}")]
    Corrupt(String),
    #[error("database query failed: {0}")]
    Query(#[source] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Maps the constraints a request can run into; everything else is an internal error.
fn translate(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        match db.constraint() {
            Some("gyms_slug_key") => return StoreError::SlugTaken,
            Some("gym_managers_pkey") => return StoreError::AlreadyManager,
            // The gym was deleted while a route or manager was being added to it.
            Some("routes_gym_id_fkey" | "gym_managers_gym_id_fkey") => {
                return StoreError::GymNotFound;
            }
            _ => {}
        }
    }
    StoreError::Query(error)
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::GymNotFound => ApiError::NotFound("no gym with this id".to_owned()),
            StoreError::RouteNotFound => ApiError::NotFound("no route with this id".to_owned()),
            StoreError::SlugTaken => {
                ApiError::Conflict("another gym already has this slug".to_owned())
            }
            StoreError::AlreadyManager => {
                ApiError::Conflict("this user already manages the gym".to_owned())
            }
            // Through ApiError's own mapping: an unavailable database is 503.
            StoreError::Query(error) => error.into(),
            StoreError::Corrupt(_) => ApiError::internal(error),
        }
    }
}

/// A transaction: checks and writes that must see the same state.
pub type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

pub async fn begin(pool: &sqlx::PgPool) -> StoreResult<Tx> {
    pool.begin().await.map_err(StoreError::Query)
}

pub async fn commit(tx: Tx) -> StoreResult<()> {
    tx.commit().await.map_err(translate)
}

// ---------------------------------------------------------------------------------
// Gyms

/// The columns of a gym, managers included, as one literal for `concat!`.
macro_rules! gym_columns {
    () => {
        "g.id, g.name, g.name_folded, g.slug, g.address, g.city, g.state, g.country, \
         g.latitude, g.longitude, g.phone, g.email, g.website, g.description, \
         g.boulder_grade_system, g.rope_grade_system, g.created_at, g.updated_at, \
         ARRAY(SELECT m.user_id FROM gym_managers m WHERE m.gym_id = g.id \
               ORDER BY m.created_at, m.user_id) AS managers"
    };
}

#[derive(sqlx::FromRow)]
struct GymRow {
    id: Uuid,
    name: String,
    name_folded: String,
    slug: String,
    address: Option<String>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    phone: Option<String>,
    email: Option<String>,
    website: Option<String>,
    description: Option<String>,
    boulder_grade_system: String,
    rope_grade_system: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    managers: Vec<Uuid>,
}

fn stored_system(name: &str) -> StoreResult<GradeSystem> {
    system_by_name(name).ok_or_else(|| StoreError::Corrupt(format!("unknown grade system {name}")))
}

impl GymRow {
    fn into_gym(self) -> StoreResult<Gym> {
        Ok(Gym {
            id: self.id,
            name: self.name,
            slug: self.slug,
            address: self.address,
            city: self.city,
            state: self.state,
            country: self.country,
            latitude: self.latitude,
            longitude: self.longitude,
            phone: self.phone,
            email: self.email,
            website: self.website,
            description: self.description,
            grade_systems: GradeSystems {
                boulder: stored_system(&self.boulder_grade_system)?,
                rope: stored_system(&self.rope_grade_system)?,
            },
            managers: self.managers,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A gym as listed: the gym and its place in the list order.
pub struct ListedGym {
    pub gym: Gym,
    pub name_folded: String,
}

pub async fn get_gym(db: impl PgExecutor<'_>, id: Uuid) -> StoreResult<Gym> {
    sqlx::query_as::<_, GymRow>(concat!(
        "SELECT ",
        gym_columns!(),
        " FROM gyms g WHERE g.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
    .map_err(translate)?
    .ok_or(StoreError::GymNotFound)?
    .into_gym()
}

/// The gyms among `ids` that exist, in no particular order.
pub async fn gyms_by_ids(db: impl PgExecutor<'_>, ids: &[Uuid]) -> StoreResult<Vec<Gym>> {
    sqlx::query_as::<_, GymRow>(concat!(
        "SELECT ",
        gym_columns!(),
        " FROM gyms g WHERE g.id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(db)
    .await
    .map_err(translate)?
    .into_iter()
    .map(GymRow::into_gym)
    .collect()
}

/// Reads a gym and locks its row until the transaction ends, so checks on it (who
/// manages it, how many managers are left) still hold when the change is written.
pub async fn lock_gym(db: impl PgExecutor<'_>, id: Uuid) -> StoreResult<Gym> {
    sqlx::query_as::<_, GymRow>(concat!(
        "SELECT ",
        gym_columns!(),
        " FROM gyms g WHERE g.id = $1 FOR UPDATE OF g"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
    .map_err(translate)?
    .ok_or(StoreError::GymNotFound)?
    .into_gym()
}

/// The slugs that are `base` or `base-…`: what a new slug from `base` must avoid.
pub async fn slugs_like(db: impl PgExecutor<'_>, base: &str) -> StoreResult<Vec<String>> {
    sqlx::query_scalar("SELECT slug FROM gyms WHERE slug = $1 OR slug LIKE $2 ESCAPE '\\'")
        .bind(base)
        .bind(format!("{}-%", text::like_escape(base)))
        .fetch_all(db)
        .await
        .map_err(translate)
}

pub async fn insert_gym(
    db: impl PgExecutor<'_>,
    id: Uuid,
    gym: &ValidGym,
    slug: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO gyms (id, name, name_folded, slug, address, city, city_folded, state, \
         country, latitude, longitude, phone, email, website, description, \
         boulder_grade_system, rope_grade_system) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(id)
    .bind(&gym.name)
    .bind(text::fold(&gym.name))
    .bind(slug)
    .bind(&gym.address)
    .bind(&gym.city)
    .bind(gym.city.as_deref().map(text::fold))
    .bind(&gym.state)
    .bind(&gym.country)
    .bind(gym.latitude)
    .bind(gym.longitude)
    .bind(&gym.phone)
    .bind(&gym.email)
    .bind(&gym.website)
    .bind(&gym.description)
    .bind(gym.grade_systems.boulder.as_str())
    .bind(gym.grade_systems.rope.as_str())
    .execute(db)
    .await
    .map_err(translate)?;
    Ok(())
}

pub async fn update_gym(
    db: impl PgExecutor<'_>,
    id: Uuid,
    gym: &ValidGym,
    slug: &str,
) -> StoreResult<()> {
    let result = sqlx::query(
        "UPDATE gyms SET name = $2, name_folded = $3, slug = $4, address = $5, city = $6, \
         city_folded = $7, state = $8, country = $9, latitude = $10, longitude = $11, \
         phone = $12, email = $13, website = $14, description = $15, \
         boulder_grade_system = $16, rope_grade_system = $17, updated_at = now() \
         WHERE id = $1",
    )
    .bind(id)
    .bind(&gym.name)
    .bind(text::fold(&gym.name))
    .bind(slug)
    .bind(&gym.address)
    .bind(&gym.city)
    .bind(gym.city.as_deref().map(text::fold))
    .bind(&gym.state)
    .bind(&gym.country)
    .bind(gym.latitude)
    .bind(gym.longitude)
    .bind(&gym.phone)
    .bind(&gym.email)
    .bind(&gym.website)
    .bind(&gym.description)
    .bind(gym.grade_systems.boulder.as_str())
    .bind(gym.grade_systems.rope.as_str())
    .execute(db)
    .await
    .map_err(translate)?;
    if result.rows_affected() == 0 {
        Err(StoreError::GymNotFound)
    } else {
        Ok(())
    }
}

/// Deletes a gym with its routes and managers (the foreign keys cascade).
pub async fn delete_gym(db: impl PgExecutor<'_>, id: Uuid) -> StoreResult<()> {
    let result = sqlx::query("DELETE FROM gyms WHERE id = $1")
        .bind(id)
        .execute(db)
        .await
        .map_err(translate)?;
    if result.rows_affected() == 0 {
        Err(StoreError::GymNotFound)
    } else {
        Ok(())
    }
}

/// What a gym search filters on; texts are already folded the way the columns are.
#[derive(Debug, Default)]
pub struct GymFilter {
    /// Folded, part of the folded name.
    pub name_part: Option<String>,
    /// Folded, the whole folded city.
    pub city: Option<String>,
    pub country: Option<String>,
}

/// One page of gyms in name order, after the position `(name_folded, id)`.
pub async fn gyms_by_name(
    db: impl PgExecutor<'_>,
    filter: &GymFilter,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> StoreResult<Vec<ListedGym>> {
    let (after_name, after_id) = after.unzip();
    let rows = sqlx::query_as::<_, GymRow>(concat!(
        "SELECT ",
        gym_columns!(),
        " FROM gyms g \
         WHERE ($1::text IS NULL OR g.name_folded LIKE '%' || $1 || '%' ESCAPE '\\') \
           AND ($2::text IS NULL OR g.city_folded = $2) \
           AND ($3::text IS NULL OR g.country = $3) \
           AND ($4::text IS NULL OR (g.name_folded, g.id) > ($4, $5::uuid)) \
         ORDER BY g.name_folded, g.id \
         LIMIT $6"
    ))
    .bind(filter.name_part.as_deref().map(text::like_escape))
    .bind(&filter.city)
    .bind(&filter.country)
    .bind(after_name)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db)
    .await
    .map_err(translate)?;
    rows.into_iter()
        .map(|row| {
            let name_folded = row.name_folded.clone();
            row.into_gym().map(|gym| ListedGym { gym, name_folded })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct NearRow {
    #[sqlx(flatten)]
    gym: GymRow,
    distance_km: f64,
}

/// Where a distance search is centred and how far it reaches.
#[derive(Debug, Clone, Copy)]
pub struct Near {
    pub latitude: f64,
    pub longitude: f64,
    pub radius_km: f64,
}

/// One page of gyms within `near.radius_km`, nearest first, after the position
/// `(distance_km, id)`. Gyms without coordinates are never near anything.
pub async fn gyms_by_distance(
    db: impl PgExecutor<'_>,
    filter: &GymFilter,
    near: Near,
    after: Option<(f64, Uuid)>,
    limit: i64,
) -> StoreResult<Vec<(Gym, f64)>> {
    let (after_distance, after_id) = after.unzip();
    // Haversine on a sphere of the Earth's mean radius: ample for "gyms near me".
    // `least` keeps rounding from pushing asin's argument past 1 at the antipode.
    let rows = sqlx::query_as::<_, NearRow>(concat!(
        "SELECT * FROM (SELECT ",
        gym_columns!(),
        ", 2 * 6371.0088 * asin(least(1.0, sqrt( \
               power(sin(radians(g.latitude - $4) / 2), 2) \
             + cos(radians($4)) * cos(radians(g.latitude)) \
               * power(sin(radians(g.longitude - $5) / 2), 2)))) AS distance_km \
           FROM gyms g \
           WHERE g.latitude IS NOT NULL \
             AND ($1::text IS NULL OR g.name_folded LIKE '%' || $1 || '%' ESCAPE '\\') \
             AND ($2::text IS NULL OR g.city_folded = $2) \
           AND ($3::text IS NULL OR g.country = $3)) AS found \
         WHERE distance_km <= $6 \
           AND ($7::float8 IS NULL OR (distance_km, id) > ($7, $8::uuid)) \
         ORDER BY distance_km, id \
         LIMIT $9"
    ))
    .bind(filter.name_part.as_deref().map(text::like_escape))
    .bind(&filter.city)
    .bind(&filter.country)
    .bind(near.latitude)
    .bind(near.longitude)
    .bind(near.radius_km)
    .bind(after_distance)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db)
    .await
    .map_err(translate)?;
    rows.into_iter()
        .map(|row| Ok((row.gym.into_gym()?, row.distance_km)))
        .collect()
}

// ---------------------------------------------------------------------------------
// Managers

pub async fn add_manager(db: impl PgExecutor<'_>, gym_id: Uuid, user_id: Uuid) -> StoreResult<()> {
    sqlx::query("INSERT INTO gym_managers (gym_id, user_id) VALUES ($1, $2)")
        .bind(gym_id)
        .bind(user_id)
        .execute(db)
        .await
        .map_err(translate)?;
    Ok(())
}

/// Removes one manager; false when the user did not manage the gym.
pub async fn remove_manager(
    db: impl PgExecutor<'_>,
    gym_id: Uuid,
    user_id: Uuid,
) -> StoreResult<bool> {
    let result = sqlx::query("DELETE FROM gym_managers WHERE gym_id = $1 AND user_id = $2")
        .bind(gym_id)
        .bind(user_id)
        .execute(db)
        .await
        .map_err(translate)?;
    Ok(result.rows_affected() > 0)
}

/// Forgets a user everywhere (their account is gone); how many gyms they managed.
/// Forgets a deleted account: its manager rows go, and its id is recorded so its
/// tokens cannot make anything new.
pub async fn remove_user(db: &sqlx::PgPool, user_id: Uuid) -> StoreResult<u64> {
    let mut tx = db.begin().await.map_err(translate)?;
    clmb_common::deleted::record(&mut *tx, user_id)
        .await
        .map_err(translate)?;
    let result = sqlx::query("DELETE FROM gym_managers WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(translate)?;
    tx.commit().await.map_err(translate)?;
    Ok(result.rows_affected())
}

// ---------------------------------------------------------------------------------
// Routes

macro_rules! route_columns {
    () => {
        "r.id, r.gym_id, r.discipline, r.grade, r.grade_system, r.difficulty, r.name, \
         r.colour, r.section, r.setter, r.set_on, r.stripped_on, r.active, r.created_at, \
         r.updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct RouteRow {
    id: Uuid,
    gym_id: Uuid,
    discipline: String,
    grade: String,
    grade_system: String,
    difficulty: f64,
    name: Option<String>,
    colour: Option<String>,
    section: Option<String>,
    setter: Option<String>,
    set_on: Option<Date>,
    stripped_on: Option<Date>,
    active: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl RouteRow {
    fn into_route(self) -> StoreResult<Route> {
        Ok(Route {
            id: self.id,
            gym_id: self.gym_id,
            discipline: Discipline::from_name(&self.discipline).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown discipline {}", self.discipline))
            })?,
            grade: self.grade,
            grade_system: stored_system(&self.grade_system)?,
            difficulty: self.difficulty,
            name: self.name,
            colour: self.colour,
            section: self.section,
            setter: self.setter,
            set_on: self.set_on,
            stripped_on: self.stripped_on,
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub async fn get_route(db: impl PgExecutor<'_>, id: Uuid) -> StoreResult<Route> {
    sqlx::query_as::<_, RouteRow>(concat!(
        "SELECT ",
        route_columns!(),
        " FROM routes r WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
    .map_err(translate)?
    .ok_or(StoreError::RouteNotFound)?
    .into_route()
}

/// The routes among `ids` that exist, in no particular order.
pub async fn routes_by_ids(db: impl PgExecutor<'_>, ids: &[Uuid]) -> StoreResult<Vec<Route>> {
    sqlx::query_as::<_, RouteRow>(concat!(
        "SELECT ",
        route_columns!(),
        " FROM routes r WHERE r.id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(db)
    .await
    .map_err(translate)?
    .into_iter()
    .map(RouteRow::into_route)
    .collect()
}

pub async fn insert_route(
    db: impl PgExecutor<'_>,
    id: Uuid,
    gym_id: Uuid,
    route: &ValidRoute,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO routes (id, gym_id, discipline, grade, grade_system, difficulty, name, \
         colour, section, setter, set_on, stripped_on, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(id)
    .bind(gym_id)
    .bind(route.discipline.as_str())
    .bind(&route.grade.label)
    .bind(route.grade.system.as_str())
    .bind(route.grade.difficulty)
    .bind(&route.name)
    .bind(&route.colour)
    .bind(&route.section)
    .bind(&route.setter)
    .bind(route.set_on)
    .bind(route.stripped_on)
    .bind(route.active)
    .execute(db)
    .await
    .map_err(translate)?;
    Ok(())
}

pub async fn update_route(
    db: impl PgExecutor<'_>,
    id: Uuid,
    route: &ValidRoute,
) -> StoreResult<()> {
    let result = sqlx::query(
        "UPDATE routes SET discipline = $2, grade = $3, grade_system = $4, difficulty = $5, \
         name = $6, colour = $7, section = $8, setter = $9, set_on = $10, stripped_on = $11, \
         active = $12, updated_at = now() \
         WHERE id = $1",
    )
    .bind(id)
    .bind(route.discipline.as_str())
    .bind(&route.grade.label)
    .bind(route.grade.system.as_str())
    .bind(route.grade.difficulty)
    .bind(&route.name)
    .bind(&route.colour)
    .bind(&route.section)
    .bind(&route.setter)
    .bind(route.set_on)
    .bind(route.stripped_on)
    .bind(route.active)
    .execute(db)
    .await
    .map_err(translate)?;
    if result.rows_affected() == 0 {
        Err(StoreError::RouteNotFound)
    } else {
        Ok(())
    }
}

pub async fn delete_route(db: impl PgExecutor<'_>, id: Uuid) -> StoreResult<()> {
    let result = sqlx::query("DELETE FROM routes WHERE id = $1")
        .bind(id)
        .execute(db)
        .await
        .map_err(translate)?;
    if result.rows_affected() == 0 {
        Err(StoreError::RouteNotFound)
    } else {
        Ok(())
    }
}

/// What a route list filters on, already resolved to disciplines and difficulty bounds.
#[derive(Debug, Default)]
pub struct RouteFilter {
    /// `None` lists every discipline.
    pub disciplines: Option<Vec<Discipline>>,
    /// An exact grade: system and canonical label.
    pub exact: Option<(GradeSystem, String)>,
    /// Difficulty strictly above.
    pub above: Option<f64>,
    /// Difficulty at least.
    pub at_least: Option<f64>,
    /// Difficulty at most.
    pub at_most: Option<f64>,
    pub section: Option<String>,
    pub colour: Option<String>,
    /// `None` lists active and archived routes.
    pub active: Option<bool>,
}

/// One page of a gym's routes by difficulty then id, after `(difficulty, id)`.
pub async fn list_routes(
    db: impl PgExecutor<'_>,
    gym_id: Uuid,
    filter: &RouteFilter,
    after: Option<(f64, Uuid)>,
    limit: i64,
) -> StoreResult<Vec<Route>> {
    let disciplines: Option<Vec<&str>> = filter
        .disciplines
        .as_ref()
        .map(|list| list.iter().map(|d| d.as_str()).collect());
    let (exact_system, exact_label) = filter.exact.clone().unzip();
    let (after_difficulty, after_id) = after.unzip();
    let rows = sqlx::query_as::<_, RouteRow>(concat!(
        "SELECT ",
        route_columns!(),
        " FROM routes r \
         WHERE r.gym_id = $1 \
           AND ($2::text[] IS NULL OR r.discipline = ANY($2)) \
           AND ($3::text IS NULL OR (r.grade_system = $3 AND r.grade = $4)) \
           AND ($5::float8 IS NULL OR r.difficulty > $5) \
           AND ($6::float8 IS NULL OR r.difficulty >= $6) \
           AND ($7::float8 IS NULL OR r.difficulty <= $7) \
           AND ($8::text IS NULL OR lower(r.section) = lower($8)) \
           AND ($9::text IS NULL OR lower(r.colour) = lower($9)) \
           AND ($10::bool IS NULL OR r.active = $10) \
           AND ($11::float8 IS NULL OR (r.difficulty, r.id) > ($11, $12::uuid)) \
         ORDER BY r.difficulty, r.id \
         LIMIT $13"
    ))
    .bind(gym_id)
    .bind(disciplines)
    .bind(exact_system.map(GradeSystem::as_str))
    .bind(exact_label)
    .bind(filter.above)
    .bind(filter.at_least)
    .bind(filter.at_most)
    .bind(&filter.section)
    .bind(&filter.colour)
    .bind(filter.active)
    .bind(after_difficulty)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db)
    .await
    .map_err(translate)?;
    rows.into_iter().map(RouteRow::into_route).collect()
}
