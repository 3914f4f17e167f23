//! 8a's logbook export.
//!
//! `Route/Boulder Name,difficulty,Sector Name,Crag Name,Town,Country,type,Route or
//! Boulder,tries,date,first_ascent,rating,…,repeat,…,comment`. Grades are French for
//! routes and Font for boulders. The tables below are reproduced in
//! `docs/import-mapping.md`.

use clmb_grades::{Family, GradeSystem};

use crate::table::{Header, Keys, clean_opt, clean_text, parse_date, positive_int};
use crate::{Ascent, AttemptType, Discipline, Source, attempts_for};

pub(crate) const REQUIRED: &[&str] = &[
    "Route/Boulder Name",
    "difficulty",
    "Crag Name",
    "type",
    "Route or Boulder",
    "date",
];

/// `type` → attempt type, whether on top rope, and the tries it implies.
const TYPES: &[(&str, AttemptType, bool, Option<i32>)] = &[
    ("os", AttemptType::Onsight, false, Some(1)),
    ("onsight", AttemptType::Onsight, false, Some(1)),
    ("fl", AttemptType::Flash, false, Some(1)),
    ("flash", AttemptType::Flash, false, Some(1)),
    ("rp", AttemptType::Redpoint, false, None),
    ("redpoint", AttemptType::Redpoint, false, None),
    ("go", AttemptType::Redpoint, false, Some(2)),
    ("tr", AttemptType::Redpoint, true, None),
    ("toprope", AttemptType::Redpoint, true, None),
    ("", AttemptType::Redpoint, false, None),
];

/// `Route or Boulder` → discipline (8a does not tell sport from trad: routes are sport).
const KINDS: &[(&str, Discipline)] = &[
    ("Route", Discipline::Sport),
    ("Boulder", Discipline::Boulder),
];

pub(crate) fn ascent(
    header: &Header,
    row: &csv::StringRecord,
    line: u64,
    keys: &mut Keys,
) -> Result<Ascent, String> {
    let get = |name| header.get(row, name);
    let local_date = parse_date(get("date"))?;
    let route_name = clean_text(get("Route/Boulder Name"));
    if route_name.is_empty() {
        return Err("the route name is empty".to_owned());
    }
    let type_text = get("type");
    let &(_, attempt_type, top_rope, implied_tries) = TYPES
        .iter()
        .find(|(name, ..)| name.eq_ignore_ascii_case(type_text))
        .ok_or_else(|| format!("unknown type `{type_text}`"))?;
    let kind_text = get("Route or Boulder");
    let &(_, discipline) = KINDS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(kind_text))
        .ok_or_else(|| format!("`Route or Boulder` is `{kind_text}`, neither Route nor Boulder"))?;
    let discipline = if top_rope && discipline == Discipline::Sport {
        Discipline::TopRope
    } else {
        discipline
    };
    // A repeat of a route already sent; an onsight or flash cannot be one.
    let attempt_type = if get("repeat") == "1" && attempt_type == AttemptType::Redpoint {
        AttemptType::Repeat
    } else {
        attempt_type
    };

    let difficulty = get("difficulty");
    let (system, family) = match discipline {
        Discipline::Boulder => (GradeSystem::Font, Family::Boulder),
        Discipline::Sport | Discipline::TopRope | Discipline::Trad => {
            (GradeSystem::French, Family::Rope)
        }
    };
    let grade = clmb_grades::parse(difficulty, Some(system))
        .or_else(|_| clmb_grades::parse_for_family(difficulty, family))
        .map_err(|e| format!("difficulty `{difficulty}`: {e}"))?;

    let tries_text = get("tries");
    let tries = positive_int(tries_text).or(implied_tries.filter(|_| tries_text.is_empty()));
    let attempts = attempts_for(attempt_type, tries)?;

    let crag = clean_opt(get("Crag Name"))
        .or_else(|| clean_opt(get("Sector Name")))
        .or_else(|| clean_opt(get("Town")))
        .ok_or("the row names no crag")?;
    let location_parts: Vec<String> = ["Sector Name", "Crag Name", "Town", "Country"]
        .iter()
        .filter_map(|c| clean_opt(get(c)))
        .collect();
    let notes = clean_opt(get("comment"));
    let date_text = local_date.to_string();
    let source_key = keys.key(
        Source::EightA,
        &[
            &date_text,
            &route_name,
            &crag,
            kind_text,
            type_text,
            tries_text,
            notes.as_deref().unwrap_or_default(),
        ],
    );
    Ok(Ascent {
        line,
        source_key,
        local_date,
        crag,
        route_name,
        discipline,
        grade,
        attempt_type,
        success: attempt_type.success(),
        attempts,
        pitches: None,
        rating: get("rating")
            .parse::<i16>()
            .ok()
            .filter(|r| (1..=5).contains(r)),
        notes,
        route_url: None,
        location: Some(location_parts.join(", ")).filter(|l| !l.is_empty()),
    })
}
