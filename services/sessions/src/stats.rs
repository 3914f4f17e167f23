//! A climber's statistics: the grade pyramid, sends by month, maxima and totals, with
//! every grade converted into one system so a climber who logs V and Font grades sees
//! one pyramid.
//!
//! Counting: `sends` are climbs logged as sent (any style but `attempt`); `attempts` are
//! climbs logged without a send. Grades are placed by their common-scale difficulty and
//! shown as the nearest grade of the requested system.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use clmb_common::auth::{AuthUser, resolve_user};
use clmb_common::extract::{Json, Query};
use clmb_common::http::request_id;
use clmb_common::{ApiError, ApiResult, FieldError};
use clmb_grades::{Family, GradeSystem};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::AppState;
use crate::api::parse_date;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StatsQuery {
    /// `boulder` or `rope`; default: the one the climber logged more.
    pub discipline: Option<String>,
    /// First calendar date, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last calendar date, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// The system every grade is shown in; default: the one the climber used most.
    pub grade_system: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PyramidStep {
    pub grade: String,
    pub sends: i64,
    pub attempts: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct MonthStats {
    /// `YYYY-MM`.
    pub month: String,
    pub sends: i64,
    pub max_grade: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Stats {
    /// `boulder` or `rope`.
    pub discipline: String,
    pub grade_system: String,
    pub sends: i64,
    pub attempts: i64,
    pub sessions: i64,
    pub total_minutes: i64,
    pub max_grade: Option<String>,
    /// Hardest grade first.
    pub pyramid: Vec<PyramidStep>,
    /// Oldest month first.
    pub by_month: Vec<MonthStats>,
}

const BOULDER: &[&str] = &["boulder"];
const ROPE: &[&str] = &["sport", "top_rope", "trad"];

/// A climber's statistics for one family of disciplines.
#[utoipa::path(get, path = "/api/v1/users/{user_id}/stats", tag = "statistics", security(("bearer" = [])),
    params(("user_id" = String, Path, description = "a user id, or `me`"), StatsQuery),
    responses((status = 200, body = Stats), (status = 400), (status = 404)))]
pub async fn stats_show(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_user): Path<String>,
    Query(query): Query<StatsQuery>,
) -> ApiResult<Json<Stats>> {
    let owner = resolve_user(&raw_user, Some(&caller))?;
    let from = parse_date("from", query.from.as_deref())?;
    let to = parse_date("to", query.to.as_deref())?;
    let family = match query.discipline.as_deref() {
        None => None,
        Some("boulder") => Some(Family::Boulder),
        Some("rope") => Some(Family::Rope),
        Some(_) => return Err(bad_query("discipline", "must be `boulder` or `rope`")),
    };
    let system = match query.grade_system.as_deref() {
        None => None,
        Some(name) => match GradeSystem::from_name(name) {
            Some(system) => Some(system),
            None => return Err(bad_query("grade_system", "is not a known grade system")),
        },
    };
    if let (Some(family), Some(system)) = (family, system)
        && system.family() != family
    {
        return Err(bad_query(
            "grade_system",
            "is not a system of that discipline",
        ));
    }
    state
        .peers
        .ensure_visible(&caller, owner, request_id(&headers))
        .await?;

    let family = match family.or(system.map(GradeSystem::family)) {
        Some(family) => family,
        None => busiest_family(&state, owner).await?,
    };
    Ok(Json(
        compute(&state, owner, family, system, from, to).await?,
    ))
}

fn bad_query(field: &str, message: &str) -> ApiError {
    ApiError::BadRequestFields(vec![FieldError::new(field, message)])
}

async fn busiest_family(state: &AppState, owner: Uuid) -> ApiResult<Family> {
    let boulders: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE discipline = 'boulder') - count(*) FILTER (WHERE discipline <> 'boulder')
         FROM climbs WHERE user_id = $1",
    )
    .bind(owner)
    .fetch_one(&state.pool)
    .await?;
    Ok(if boulders >= 0 {
        Family::Boulder
    } else {
        Family::Rope
    })
}

#[derive(sqlx::FromRow)]
struct GradeCount {
    difficulty: f64,
    grade_system: String,
    sends: i64,
    fails: i64,
}

#[derive(sqlx::FromRow)]
struct MonthRow {
    month: String,
    sends: i64,
    hardest: Option<f64>,
}

pub async fn compute(
    state: &AppState,
    owner: Uuid,
    family: Family,
    system: Option<GradeSystem>,
    from: Option<Date>,
    to: Option<Date>,
) -> ApiResult<Stats> {
    let disciplines: Vec<String> = (if family == Family::Boulder {
        BOULDER
    } else {
        ROPE
    })
    .iter()
    .map(|d| (*d).to_owned())
    .collect();

    let counts: Vec<GradeCount> = sqlx::query_as(
        "SELECT difficulty, grade_system,
                count(*) FILTER (WHERE success) AS sends,
                count(*) FILTER (WHERE NOT success) AS fails
         FROM climbs
         WHERE user_id = $1 AND discipline = ANY($2) AND ($3::date IS NULL OR local_date >= $3) AND ($4::date IS NULL OR local_date <= $4)
         GROUP BY difficulty, grade_system",
    )
    .bind(owner)
    .bind(&disciplines)
    .bind(from)
    .bind(to)
    .fetch_all(&state.pool)
    .await?;

    let months: Vec<MonthRow> = sqlx::query_as(
        "SELECT to_char(local_date, 'YYYY-MM') AS month,
                count(*) FILTER (WHERE success) AS sends,
                max(difficulty) FILTER (WHERE success) AS hardest
         FROM climbs
         WHERE user_id = $1 AND discipline = ANY($2) AND ($3::date IS NULL OR local_date >= $3) AND ($4::date IS NULL OR local_date <= $4)
         GROUP BY 1 ORDER BY 1",
    )
    .bind(owner)
    .bind(&disciplines)
    .bind(from)
    .bind(to)
    .fetch_all(&state.pool)
    .await?;

    let (sessions, total_minutes): (i64, i64) = sqlx::query_as(
        "SELECT count(*),
                COALESCE(sum(EXTRACT(EPOCH FROM (s.ended_at - s.started_at)) / 60), 0)::bigint
         FROM sessions s
         WHERE s.user_id = $1 AND ($3::date IS NULL OR s.local_date >= $3) AND ($4::date IS NULL OR s.local_date <= $4)
           AND EXISTS (SELECT 1 FROM climbs c WHERE c.session_id = s.id AND c.discipline = ANY($2))",
    )
    .bind(owner)
    .bind(&disciplines)
    .bind(from)
    .bind(to)
    .fetch_one(&state.pool)
    .await?;

    let system = system.unwrap_or_else(|| most_used_system(&counts, family));
    Ok(assemble(
        system,
        family,
        &counts,
        &months,
        sessions,
        total_minutes,
    ))
}

fn most_used_system(counts: &[GradeCount], family: Family) -> GradeSystem {
    let mut uses: HashMap<&str, i64> = HashMap::new();
    for count in counts {
        *uses.entry(count.grade_system.as_str()).or_default() += count.sends + count.fails;
    }
    uses.into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .and_then(|(name, _)| GradeSystem::from_name(name))
        .filter(|system| system.family() == family)
        .unwrap_or(if family == Family::Boulder {
            GradeSystem::VScale
        } else {
            GradeSystem::Yds
        })
}

fn assemble(
    system: GradeSystem,
    family: Family,
    counts: &[GradeCount],
    months: &[MonthRow],
    sessions: i64,
    total_minutes: i64,
) -> Stats {
    // Keyed by the grade's order in the target system, so steps sort by difficulty.
    let mut steps: BTreeMap<u32, PyramidStep> = BTreeMap::new();
    let mut hardest_send: Option<f64> = None;
    for count in counts {
        let grade = system.nearest(count.difficulty);
        let step = steps
            .entry(grade.difficulty_order)
            .or_insert_with(|| PyramidStep {
                grade: grade.label.to_owned(),
                sends: 0,
                attempts: 0,
            });
        step.sends += count.sends;
        step.attempts += count.fails;
        if count.sends > 0 {
            hardest_send = Some(hardest_send.map_or(count.difficulty, |h| h.max(count.difficulty)));
        }
    }
    let label = |difficulty: f64| system.nearest(difficulty).label.to_owned();
    Stats {
        discipline: if family == Family::Boulder {
            "boulder"
        } else {
            "rope"
        }
        .to_owned(),
        grade_system: system.as_str().to_owned(),
        sends: counts.iter().map(|c| c.sends).sum(),
        attempts: counts.iter().map(|c| c.fails).sum(),
        sessions,
        total_minutes,
        max_grade: hardest_send.map(label),
        pyramid: steps.into_values().rev().collect(),
        by_month: months
            .iter()
            .map(|m| MonthStats {
                month: m.month.clone(),
                sends: m.sends,
                max_grade: m.hardest.map(label),
            })
            .collect(),
    }
}

/// What the overview shows of a climber's logbook.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    pub sessions: i64,
    pub climbs: i64,
    pub sends: i64,
    pub max_boulder_grade: Option<String>,
    pub max_rope_grade: Option<String>,
}

/// The totals the gateway's overview shows. Internal: the same visibility rule as the
/// public statistics.
pub async fn summary_show(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    Path(raw_user): Path<String>,
) -> ApiResult<Json<Summary>> {
    let owner = resolve_user(&raw_user, Some(&caller))?;
    state
        .peers
        .ensure_visible(&caller, owner, request_id(&headers))
        .await?;

    let (climbs, sends): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE success) FROM climbs WHERE user_id = $1",
    )
    .bind(owner)
    .fetch_one(&state.pool)
    .await?;
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(owner)
        .fetch_one(&state.pool)
        .await?;
    let hardest = |disciplines: &'static [&'static str]| {
        let disciplines: Vec<String> = disciplines.iter().map(|d| (*d).to_owned()).collect();
        let pool = state.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT grade FROM climbs WHERE user_id = $1 AND success AND discipline = ANY($2)
                 ORDER BY difficulty DESC, climbed_at LIMIT 1",
            )
            .bind(owner)
            .bind(disciplines)
            .fetch_optional(&pool)
            .await
        }
    };
    Ok(Json(Summary {
        sessions,
        climbs,
        sends,
        max_boulder_grade: hardest(BOULDER).await?,
        max_rope_grade: hardest(ROPE).await?,
    }))
}
