//! theCrag's logbook CSV.
//!
//! `Route Name,Ascent Label,Ascent ID,Ascent Link,Ascent Type,Route Grade,Ascent Grade,
//! Route Gear Style,Ascent Gear Style,…,Crag Name,Crag Link,Crag Path,With,Comment,
//! Quality,Ascent Date,Log Date,Shot`. Tick types follow theCrag's own list of
//! `tick-type` labels. The tables below are reproduced in `docs/import-mapping.md`.

use crate::table::{Header, Keys, clean_opt, clean_text, parse_date};
use crate::{Ascent, AttemptType, Discipline, Source, attempts_for, grade_for};

pub(crate) const REQUIRED: &[&str] = &[
    "Route Name",
    "Ascent ID",
    "Ascent Type",
    "Route Grade",
    "Ascent Date",
];

/// What an `Ascent Type` means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tick {
    /// An ascent; `top_rope` when it was on a rope from above (top rope, second).
    Climbed {
        attempt: AttemptType,
        top_rope: bool,
    },
    /// Not an ascent clmb logs.
    NotLogged(&'static str),
}

const fn lead(attempt: AttemptType) -> Tick {
    Tick::Climbed {
        attempt,
        top_rope: false,
    }
}

const fn rope_above(attempt: AttemptType) -> Tick {
    Tick::Climbed {
        attempt,
        top_rope: true,
    }
}

const TICK_TYPES: &[(&str, Tick)] = &[
    ("Onsight", lead(AttemptType::Onsight)),
    ("Flash", lead(AttemptType::Flash)),
    ("Red point", lead(AttemptType::Redpoint)),
    ("Ground up red point", lead(AttemptType::Redpoint)),
    ("Pink point", lead(AttemptType::Redpoint)),
    ("Green point", lead(AttemptType::Redpoint)),
    ("Green point flash", lead(AttemptType::Flash)),
    ("Green point onsight", lead(AttemptType::Onsight)),
    ("Clean", lead(AttemptType::Redpoint)),
    ("Send", lead(AttemptType::Redpoint)),
    ("Lead", lead(AttemptType::Redpoint)),
    ("Tick", lead(AttemptType::Redpoint)),
    ("", lead(AttemptType::Redpoint)),
    ("First ascent", lead(AttemptType::Redpoint)),
    ("First free ascent", lead(AttemptType::Redpoint)),
    ("Repeat", lead(AttemptType::Repeat)),
    ("Solo", lead(AttemptType::Redpoint)),
    ("Onsight solo", lead(AttemptType::Onsight)),
    ("Roped Solo", lead(AttemptType::Redpoint)),
    ("Lead solo", lead(AttemptType::Redpoint)),
    ("Deep water solo", lead(AttemptType::Redpoint)),
    ("Top rope onsight", rope_above(AttemptType::Onsight)),
    ("Top rope flash", rope_above(AttemptType::Flash)),
    ("Top rope clean", rope_above(AttemptType::Redpoint)),
    ("Top rope", rope_above(AttemptType::Redpoint)),
    ("Top rope with rest", rope_above(AttemptType::Attempt)),
    ("Second", rope_above(AttemptType::Redpoint)),
    ("Second clean", rope_above(AttemptType::Redpoint)),
    ("Second onsight", rope_above(AttemptType::Onsight)),
    ("Second flash", rope_above(AttemptType::Flash)),
    ("Second with rest", rope_above(AttemptType::Attempt)),
    ("Hang dog", lead(AttemptType::Attempt)),
    ("All free with rest", lead(AttemptType::Attempt)),
    ("Dab", lead(AttemptType::Attempt)),
    ("Attempt", lead(AttemptType::Attempt)),
    ("Retreat", lead(AttemptType::Attempt)),
    ("Working", lead(AttemptType::Attempt)),
    ("Aid", Tick::NotLogged("aid climbing is not logged by clmb")),
    (
        "Aid solo",
        Tick::NotLogged("aid climbing is not logged by clmb"),
    ),
    (
        "Via ferrata",
        Tick::NotLogged("via ferrata is not logged by clmb"),
    ),
    (
        "Ghost",
        Tick::NotLogged("a ghost tick is not an ascent of the climber"),
    ),
    (
        "Mark",
        Tick::NotLogged("a mark is a note on a route, not an ascent"),
    ),
    (
        "Target",
        Tick::NotLogged("a target is a wish-list entry, not an ascent"),
    ),
    ("Hit", Tick::NotLogged("a hit-list entry is not an ascent")),
];

/// What a gear style says about the discipline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gear {
    Is(Discipline),
    /// Says nothing about the discipline (free solo, unknown, …).
    Silent,
    NotLogged(&'static str),
}

const GEAR_STYLES: &[(&str, Gear)] = &[
    ("Sport", Gear::Is(Discipline::Sport)),
    ("Trad", Gear::Is(Discipline::Trad)),
    ("Mixed trad", Gear::Is(Discipline::Trad)),
    ("Boulder", Gear::Is(Discipline::Boulder)),
    ("Top rope", Gear::Is(Discipline::TopRope)),
    ("Second", Gear::Is(Discipline::TopRope)),
    ("Free solo", Gear::Silent),
    ("Solo", Gear::Silent),
    ("Deep water solo", Gear::Silent),
    ("Traverse", Gear::Silent),
    ("Alpine", Gear::Silent),
    ("Unknown", Gear::Silent),
    ("", Gear::Silent),
    ("Aid", Gear::NotLogged("aid climbing")),
    ("Ice", Gear::NotLogged("ice climbing")),
    ("Mixed", Gear::NotLogged("mixed climbing")),
    ("Via ferrata", Gear::NotLogged("via ferrata")),
];

/// `Quality`, the climber's own opinion of the route, onto 1..=5 stars.
const QUALITY: &[(&str, i16)] = &[
    ("Crap", 1),
    ("Don't Bother", 1),
    ("Average", 2),
    ("Good", 3),
    ("Very Good", 4),
    ("Classic", 5),
    ("Mega Classic", 5),
];

fn lookup<'t, T: Copy>(table: &'t [(&str, T)], value: &str) -> Option<&'t T> {
    table
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(value))
        .map(|(_, v)| v)
}

pub(crate) fn ascent(
    header: &Header,
    row: &csv::StringRecord,
    line: u64,
    keys: &mut Keys,
) -> Result<Ascent, String> {
    let get = |name| header.get(row, name);
    let local_date = parse_date(get("Ascent Date"))?;
    let route_name = clean_text(get("Route Name"));
    if route_name.is_empty() {
        return Err("the route name is empty".to_owned());
    }
    let tick_text = get("Ascent Type");
    let (attempt_type, top_rope) = match lookup(TICK_TYPES, tick_text) {
        Some(Tick::Climbed { attempt, top_rope }) => (*attempt, *top_rope),
        Some(Tick::NotLogged(why)) => return Err(format!("ascent type `{tick_text}`: {why}")),
        None => return Err(format!("unknown ascent type `{tick_text}`")),
    };

    let grade_text = header
        .opt(row, "Route Grade")
        .or_else(|| header.opt(row, "Ascent Grade"));
    let grade_text = grade_text.ok_or("the route has no grade")?;
    let mut discipline = None;
    for column in ["Ascent Gear Style", "Route Gear Style"] {
        let style = get(column);
        match lookup(GEAR_STYLES, style) {
            Some(Gear::Is(d)) => {
                discipline = discipline.or(Some(*d));
            }
            Some(Gear::Silent) => {}
            Some(Gear::NotLogged(kind)) => {
                return Err(format!(
                    "gear style `{style}`: {kind} is not logged by clmb"
                ));
            }
            None => return Err(format!("unknown gear style `{style}`")),
        }
    }
    // Without a gear style, the grade tells boulder from route (routes count as sport).
    let discipline = discipline.unwrap_or_else(|| {
        let boulder = clmb_grades::parse_for_family(grade_text, clmb_grades::Family::Boulder);
        if boulder.is_ok() {
            Discipline::Boulder
        } else {
            Discipline::Sport
        }
    });
    let discipline = if top_rope && discipline != Discipline::Boulder {
        Discipline::TopRope
    } else {
        discipline
    };
    let grade = grade_for(grade_text, discipline)?;

    let crag_path = clean_opt(get("Crag Path"));
    let crag = clean_opt(get("Crag Name"))
        .or_else(|| {
            crag_path
                .as_deref()
                .and_then(|p| p.split(" - ").next())
                .map(str::to_owned)
        })
        .or_else(|| clean_opt(get("Country")))
        .ok_or("the row names no crag")?;
    let notes = clean_opt(get("Comment"));
    let ascent_id = get("Ascent ID");
    let source_key = if ascent_id.is_empty() {
        let date_text = local_date.to_string();
        let route = header.opt(row, "Route ID").unwrap_or(&route_name);
        keys.key(
            Source::TheCrag,
            &[
                &date_text,
                route,
                tick_text,
                notes.as_deref().unwrap_or_default(),
            ],
        )
    } else {
        format!("{}:{}", Source::TheCrag.key_prefix(), ascent_id)
    };
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
        attempts: attempts_for(attempt_type, None)?,
        pitches: None,
        rating: lookup(QUALITY, get("Quality")).copied(),
        notes,
        route_url: header.opt(row, "Route Link").map(str::to_owned),
        location: crag_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tick_type_has_one_meaning() {
        for (i, (name, _)) in TICK_TYPES.iter().enumerate() {
            let first = TICK_TYPES
                .iter()
                .position(|(n, _)| n.eq_ignore_ascii_case(name));
            assert_eq!(first, Some(i), "{name} listed twice");
        }
        assert_eq!(
            lookup(TICK_TYPES, "red point"),
            Some(&lead(AttemptType::Redpoint))
        );
        assert_eq!(
            lookup(TICK_TYPES, "Top rope with rest"),
            Some(&rope_above(AttemptType::Attempt))
        );
        assert!(matches!(
            lookup(TICK_TYPES, "Aid"),
            Some(Tick::NotLogged(_))
        ));
    }
}
