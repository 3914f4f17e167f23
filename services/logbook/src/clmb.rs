//! clmb's own CSV export (`GET /users/me/export?format=csv`), read back.
//!
//! An export imported into another account gives back the same climbs: every column
//! clmb writes is read, grades in their own system. Each climb's key is its clmb id, so
//! importing one export twice adds nothing the second time.

use clmb_grades::GradeSystem;

use crate::table::{Header, clean_opt, clean_text, parse_date, positive_int};
use crate::{Ascent, AttemptType, Discipline};

pub(crate) const REQUIRED: &[&str] = &[
    "climb_id",
    "local_date",
    "discipline",
    "grade",
    "grade_system",
    "attempt_type",
];

const DISCIPLINES: &[(&str, Discipline)] = &[
    ("boulder", Discipline::Boulder),
    ("sport", Discipline::Sport),
    ("top_rope", Discipline::TopRope),
    ("trad", Discipline::Trad),
];

const ATTEMPT_TYPES: &[(&str, AttemptType)] = &[
    ("onsight", AttemptType::Onsight),
    ("flash", AttemptType::Flash),
    ("redpoint", AttemptType::Redpoint),
    ("repeat", AttemptType::Repeat),
    ("attempt", AttemptType::Attempt),
];

pub(crate) fn ascent(
    header: &Header,
    row: &csv::StringRecord,
    line: u64,
) -> Result<Ascent, String> {
    let get = |name| header.get(row, name);
    let climb_id = get("climb_id").trim();
    if climb_id.is_empty() {
        return Err("the climb id is empty".to_owned());
    }
    let local_date = parse_date(get("local_date"))?;
    let discipline_text = get("discipline");
    let &(_, discipline) = DISCIPLINES
        .iter()
        .find(|(name, _)| *name == discipline_text)
        .ok_or_else(|| format!("unknown discipline `{discipline_text}`"))?;
    let style = get("attempt_type");
    let &(_, attempt_type) = ATTEMPT_TYPES
        .iter()
        .find(|(name, _)| *name == style)
        .ok_or_else(|| format!("unknown attempt type `{style}`"))?;

    let system_name = get("grade_system");
    let system = GradeSystem::from_name(system_name)
        .ok_or_else(|| format!("unknown grade system `{system_name}`"))?;
    if system.family() != discipline.family() {
        return Err(format!(
            "`{system_name}` is not a grade system for {discipline_text}"
        ));
    }
    let grade_text = match clean_opt(get("safety")) {
        Some(safety) => format!("{} {safety}", get("grade")),
        None => get("grade").to_owned(),
    };
    let grade = clmb_grades::parse(&grade_text, Some(system))
        .map_err(|e| format!("grade `{grade_text}`: {e}"))?;

    // The gym's name, else the crag, else the session: what the session was at.
    let crag = clean_opt(get("gym_name"))
        .or_else(|| clean_opt(get("location")))
        .or_else(|| clean_opt(get("session_id")))
        .unwrap_or_default();
    Ok(Ascent {
        line,
        source_key: format!("clmb:{climb_id}"),
        local_date,
        crag,
        route_name: clean_text(get("route_name")),
        discipline,
        grade,
        attempt_type,
        success: attempt_type.success(),
        attempts: positive_int(get("attempts")),
        pitches: None,
        rating: get("rating")
            .parse::<i16>()
            .ok()
            .filter(|r| (1..=5).contains(r)),
        notes: clean_opt(get("notes")),
        route_url: None,
        location: clean_opt(get("location")),
    })
}
