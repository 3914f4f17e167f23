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
use sqlx::PgPool;
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
        .ensure_visible(&caller, owner, "no such user", request_id(&headers))
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
        "SELECT (COALESCE(sum(sends + fails) FILTER (WHERE discipline = 'boulder'), 0)
               - COALESCE(sum(sends + fails) FILTER (WHERE discipline <> 'boulder'), 0))::bigint
         FROM climb_tallies WHERE user_id = $1",
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

/// Sends and failed climbs of one grade in one month.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Tally {
    /// The first day of the month.
    pub month: Date,
    pub difficulty: f64,
    pub grade_system: String,
    pub sends: i64,
    pub fails: i64,
}

/// Which dates a `from`/`to` filter covers, split into whole months, read from the
/// monthly tallies, and the days at either edge, counted from the climbs themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Whole months `[first, end)`, either bound open; `None` when no month is whole.
    pub months: Option<(Option<Date>, Option<Date>)>,
    /// Inclusive day ranges outside those months.
    pub edges: Vec<(Date, Date)>,
}

impl Window {
    pub fn new(from: Option<Date>, to: Option<Date>) -> Self {
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Self {
                months: None,
                edges: Vec::new(),
            };
        }

        // The first whole month starts on or after `from`; the last ends on or before `to`.
        let first = from.map(|day| if day.day() == 1 { day } else { next_month(day) });
        let end = to.map(|day| {
            if day.next_day().is_none_or(|next| next.day() == 1) {
                next_month(day)
            } else {
                day.replace_day(1).unwrap_or(day)
            }
        });
        if let (Some(first), Some(end)) = (first, end)
            && first >= end
        {
            // No whole month inside: read every day from the climbs.
            return Self {
                months: None,
                edges: vec![(from.unwrap_or(first), to.unwrap_or(end))],
            };
        }

        let mut edges = Vec::new();
        if let (Some(from), Some(first)) = (from, first)
            && from < first
        {
            edges.push((from, first.previous_day().unwrap_or(first)));
        }
        if let (Some(to), Some(end)) = (to, end)
            && end <= to
        {
            edges.push((end, to));
        }
        Self {
            months: Some((first, end)),
            edges,
        }
    }
}

/// The first day of the month after `day`'s.
fn next_month(day: Date) -> Date {
    let (year, month) = match day.month() {
        time::Month::December => (day.year() + 1, time::Month::January),
        month => (day.year(), month.next()),
    };
    Date::from_calendar_date(year, month, 1).unwrap_or(day)
}

/// A climber's tallies of one family within a date window, per month and grade.
pub async fn tallies(
    pool: &PgPool,
    owner: Uuid,
    family: Family,
    window: &Window,
) -> Result<Vec<Tally>, sqlx::Error> {
    let disciplines = family_disciplines(family);
    let mut tallies = Vec::new();

    if let Some((first, end)) = window.months {
        tallies = sqlx::query_as(
            "SELECT month, difficulty, grade_system, sum(sends)::bigint AS sends,
                    sum(fails)::bigint AS fails
             FROM climb_tallies
             WHERE user_id = $1 AND discipline = ANY($2)
               AND ($3::date IS NULL OR month >= $3) AND ($4::date IS NULL OR month < $4)
             GROUP BY month, difficulty, grade_system",
        )
        .bind(owner)
        .bind(&disciplines)
        .bind(first)
        .bind(end)
        .fetch_all(pool)
        .await?;
    }

    for (first, last) in &window.edges {
        let edge: Vec<Tally> = sqlx::query_as(
            "SELECT date_trunc('month', local_date)::date AS month, difficulty, grade_system,
                    count(*) FILTER (WHERE success) AS sends,
                    count(*) FILTER (WHERE NOT success) AS fails
             FROM climbs
             WHERE user_id = $1 AND discipline = ANY($2) AND local_date >= $3 AND local_date <= $4
             GROUP BY 1, 2, 3",
        )
        .bind(owner)
        .bind(&disciplines)
        .bind(first)
        .bind(last)
        .fetch_all(pool)
        .await?;
        tallies.extend(edge);
    }
    Ok(tallies)
}

fn family_disciplines(family: Family) -> Vec<String> {
    (if family == Family::Boulder {
        BOULDER
    } else {
        ROPE
    })
    .iter()
    .map(|d| (*d).to_owned())
    .collect()
}

pub async fn compute(
    state: &AppState,
    owner: Uuid,
    family: Family,
    system: Option<GradeSystem>,
    from: Option<Date>,
    to: Option<Date>,
) -> ApiResult<Stats> {
    let tallies = tallies(&state.pool, owner, family, &Window::new(from, to)).await?;

    // Each session keeps how many climbs of either family it holds.
    let (sessions, total_minutes): (i64, i64) = sqlx::query_as(
        "SELECT count(*),
                COALESCE(sum(EXTRACT(EPOCH FROM (ended_at - started_at)) / 60), 0)::bigint
         FROM sessions
         WHERE user_id = $1 AND (CASE WHEN $2 THEN boulder_climbs ELSE rope_climbs END) > 0
           AND ($3::date IS NULL OR local_date >= $3) AND ($4::date IS NULL OR local_date <= $4)",
    )
    .bind(owner)
    .bind(family == Family::Boulder)
    .bind(from)
    .bind(to)
    .fetch_one(&state.pool)
    .await?;

    let system = system.unwrap_or_else(|| most_used_system(&tallies, family));
    Ok(assemble(system, family, &tallies, sessions, total_minutes))
}

fn most_used_system(counts: &[Tally], family: Family) -> GradeSystem {
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
    tallies: &[Tally],
    sessions: i64,
    total_minutes: i64,
) -> Stats {
    // Keyed by the grade's order in the target system, so steps sort by difficulty.
    let mut steps: BTreeMap<u32, PyramidStep> = BTreeMap::new();
    let mut months: BTreeMap<Date, (i64, Option<f64>)> = BTreeMap::new();
    for tally in tallies {
        let grade = system.nearest(tally.difficulty);
        let step = steps
            .entry(grade.difficulty_order)
            .or_insert_with(|| PyramidStep {
                grade: grade.label.to_owned(),
                sends: 0,
                attempts: 0,
            });
        step.sends += tally.sends;
        step.attempts += tally.fails;

        let month = months.entry(tally.month).or_insert((0, None));
        month.0 += tally.sends;
        if tally.sends > 0 {
            month.1 = Some(
                month
                    .1
                    .map_or(tally.difficulty, |h| h.max(tally.difficulty)),
            );
        }
    }
    let hardest_send = months
        .values()
        .filter_map(|(_, hardest)| *hardest)
        .reduce(f64::max);
    let label = |difficulty: f64| system.nearest(difficulty).label.to_owned();
    Stats {
        discipline: if family == Family::Boulder {
            "boulder"
        } else {
            "rope"
        }
        .to_owned(),
        grade_system: system.as_str().to_owned(),
        sends: tallies.iter().map(|t| t.sends).sum(),
        attempts: tallies.iter().map(|t| t.fails).sum(),
        sessions,
        total_minutes,
        max_grade: hardest_send.map(label),
        pyramid: steps
            .into_values()
            .filter(|step| step.sends > 0 || step.attempts > 0)
            .rev()
            .collect(),
        by_month: months
            .into_iter()
            .map(|(month, (sends, hardest))| MonthStats {
                month: format!("{:04}-{:02}", month.year(), u8::from(month.month())),
                sends,
                max_grade: hardest.map(label),
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
        .ensure_visible(&caller, owner, "no such user", request_id(&headers))
        .await?;

    // The tallies hold every climb once, a few thousand rows for the longest logbook.
    let (climbs, sends): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(sum(sends + fails), 0)::bigint, COALESCE(sum(sends), 0)::bigint
         FROM climb_tallies WHERE user_id = $1",
    )
    .bind(owner)
    .fetch_one(&state.pool)
    .await?;
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(owner)
        .fetch_one(&state.pool)
        .await?;
    // The hardest grade sent, as the climber wrote it; the earliest month wins a tie.
    let hardest = |disciplines: &'static [&'static str]| {
        let disciplines: Vec<String> = disciplines.iter().map(|d| (*d).to_owned()).collect();
        let pool = state.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT grade FROM climb_tallies
                 WHERE user_id = $1 AND sends > 0 AND discipline = ANY($2)
                 ORDER BY difficulty DESC, month, grade LIMIT 1",
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
