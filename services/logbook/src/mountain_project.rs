//! Mountain Project's ticks export.
//!
//! `Date,Route,Rating,Notes,URL,Pitches,Location,"Avg Stars","Your Stars",Style,
//! "Lead Style","Route Type","Your Rating",Length,"Rating Code"`. The tables below are
//! reproduced in `docs/import-mapping.md`.

use clmb_grades::{GradeSystem, parse as parse_grade};

use crate::table::{Header, Keys, clean_opt, clean_text, parse_date, positive_int};
use crate::{Ascent, AttemptType, Discipline, Source, attempts_for};

pub(crate) const REQUIRED: &[&str] = &["Date", "Route", "Rating", "Location", "Route Type"];

/// What one part of `Route Type` (comma-separated) says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoutePart {
    /// A way of free climbing clmb logs.
    Free(Discipline),
    /// The setting, not a way of climbing: ignored next to a free part.
    Alpine,
    /// A kind of climbing clmb does not log: the row is rejected.
    NotLogged(&'static str),
}

const ROUTE_TYPES: &[(&str, RoutePart)] = &[
    ("Trad", RoutePart::Free(Discipline::Trad)),
    ("Sport", RoutePart::Free(Discipline::Sport)),
    ("TR", RoutePart::Free(Discipline::TopRope)),
    ("Boulder", RoutePart::Free(Discipline::Boulder)),
    ("Alpine", RoutePart::Alpine),
    ("Ice", RoutePart::NotLogged("ice")),
    ("Mixed", RoutePart::NotLogged("mixed")),
    ("Aid", RoutePart::NotLogged("aid")),
    ("Snow", RoutePart::NotLogged("snow")),
];

/// What `Style` says about the discipline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StyleKind {
    /// Led or soloed: the route's own rope discipline.
    Lead,
    /// On a rope from above (top rope, following): `top_rope`.
    TopRope,
    /// One of the boulder styles.
    Boulder,
    /// No style given.
    Unknown,
}

/// `Style` → discipline hint and attempt type (when `Lead Style` is empty).
const STYLES: &[(&str, StyleKind, AttemptType)] = &[
    ("", StyleKind::Unknown, AttemptType::Redpoint),
    ("Lead", StyleKind::Lead, AttemptType::Redpoint),
    ("Solo", StyleKind::Lead, AttemptType::Redpoint),
    ("TR", StyleKind::TopRope, AttemptType::Redpoint),
    ("Follow", StyleKind::TopRope, AttemptType::Redpoint),
    ("Send", StyleKind::Boulder, AttemptType::Redpoint),
    ("Flash", StyleKind::Boulder, AttemptType::Flash),
    ("Attempt", StyleKind::Boulder, AttemptType::Attempt),
];

/// `Lead Style` → attempt type; empty leaves it to `Style`.
const LEAD_STYLES: &[(&str, Option<AttemptType>)] = &[
    ("", None),
    ("Onsight", Some(AttemptType::Onsight)),
    ("Flash", Some(AttemptType::Flash)),
    ("Redpoint", Some(AttemptType::Redpoint)),
    ("Pinkpoint", Some(AttemptType::Redpoint)),
    ("Fell/Hung", Some(AttemptType::Attempt)),
];

pub(crate) fn ascent(
    header: &Header,
    row: &csv::StringRecord,
    line: u64,
    keys: &mut Keys,
) -> Result<Ascent, String> {
    let get = |name| header.get(row, name);
    let local_date = parse_date(get("Date"))?;
    let route_name = clean_text(get("Route"));
    if route_name.is_empty() {
        return Err("the route name is empty".to_owned());
    }
    let location = clean_text(get("Location"));
    let crag = crag_of(&location).ok_or("the location is empty")?;

    let (style, style_attempt) = lookup(STYLES, get("Style"), |(n, ..)| n)
        .map(|&(_, kind, attempt)| (kind, attempt))
        .ok_or_else(|| format!("unknown style `{}`", get("Style")))?;
    let lead_attempt = lookup(LEAD_STYLES, get("Lead Style"), |(n, _)| n)
        .map(|&(_, attempt)| attempt)
        .ok_or_else(|| format!("unknown lead style `{}`", get("Lead Style")))?;
    let attempt_type = match (style_attempt, lead_attempt) {
        (AttemptType::Attempt, _) => AttemptType::Attempt,
        (_, Some(lead)) => lead,
        (from_style, None) => from_style,
    };

    let discipline = discipline(get("Route Type"), style)?;
    let rating = get("Rating");
    let grade = grade(rating, discipline)?;

    let pitches_text = get("Pitches");
    let notes = clean_opt(get("Notes"));
    let route_url = header.opt(row, "URL").map(str::to_owned);
    let route_identity = route_url
        .as_deref()
        .and_then(route_id)
        .unwrap_or(&route_name);
    let date_text = local_date.to_string();
    let source_key = keys.key(
        Source::MountainProject,
        &[
            &date_text,
            route_identity,
            get("Style"),
            get("Lead Style"),
            pitches_text,
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
        attempts: attempts_for(attempt_type, None)?,
        pitches: positive_int(pitches_text),
        rating: your_stars(get("Your Stars")),
        notes,
        route_url,
        location: Some(location),
    })
}

fn lookup<'t, T>(table: &'t [T], value: &str, name: impl Fn(&T) -> &&str) -> Option<&'t T> {
    table
        .iter()
        .find(|entry| name(entry).eq_ignore_ascii_case(value))
}

/// The session's place from an area path such as `New Hampshire > *Rumney > Venus
/// Wall`: the state and area (`New Hampshire > *Rumney`), or for paths under
/// `International` the continent, country and area, so that a day moving between
/// walls or boulders of one area stays one session.
fn crag_of(location: &str) -> Option<String> {
    let parts: Vec<&str> = location
        .split('>')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let depth = if parts
        .first()
        .is_some_and(|p| p.eq_ignore_ascii_case("International"))
    {
        4
    } else {
        2
    };
    let kept: Vec<&str> = parts.into_iter().take(depth).collect();
    (!kept.is_empty()).then(|| kept.join(" > "))
}

/// The numeric route id in `https://www.mountainproject.com/route/105962298/...`.
fn route_id(url: &str) -> Option<&str> {
    let rest = url.split("/route/").nth(1)?;
    let id = rest.split('/').next()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

/// Discipline from `Route Type` and `Style` (see `docs/import-mapping.md`).
fn discipline(route_type: &str, style: StyleKind) -> Result<Discipline, String> {
    let mut free = Vec::new();
    for part in route_type
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match lookup(ROUTE_TYPES, part, |(n, _)| n).map(|(_, kind)| *kind) {
            Some(RoutePart::Free(d)) => free.push(d),
            Some(RoutePart::Alpine) => {}
            Some(RoutePart::NotLogged(kind)) => {
                return Err(format!(
                    "route type `{route_type}`: {kind} climbing is not logged by clmb"
                ));
            }
            None => return Err(format!("unknown route type `{part}` in `{route_type}`")),
        }
    }
    let first = free.first().copied().ok_or_else(|| {
        format!(
            "route type `{route_type}` names no rock climbing discipline (trad, sport, TR, boulder)"
        )
    })?;
    let has = |d: Discipline| free.contains(&d);
    let first_rope = free.iter().copied().find(|d| *d != Discipline::Boulder);
    let first_lead = free
        .iter()
        .copied()
        .find(|d| matches!(d, Discipline::Trad | Discipline::Sport));
    Ok(match style {
        StyleKind::TopRope if first_rope.is_some() => Discipline::TopRope,
        StyleKind::Lead => first_lead.or(first_rope).unwrap_or(first),
        StyleKind::Boulder if has(Discipline::Boulder) => Discipline::Boulder,
        StyleKind::Boulder => first_rope.unwrap_or(first),
        StyleKind::TopRope | StyleKind::Unknown => first,
    })
}

/// The grade for the discipline out of a rating such as `5.10a/b PG13`, `5.9 V2 R`
/// (a rope grade and a boulder grade: the discipline chooses) or `Easy 5th`.
fn grade(rating: &str, discipline: Discipline) -> Result<clmb_grades::Grade, String> {
    let tokens: Vec<&str> = rating.split_whitespace().collect();
    if tokens.is_empty() {
        return Err("the rating is empty".to_owned());
    }
    for token in &tokens {
        if let Some(kind) = not_logged_grade(token) {
            return Err(format!(
                "rating `{rating}` is a grade of {kind}, which clmb does not log"
            ));
        }
    }
    let (body, safety) = match tokens.split_last() {
        Some((last, body)) if !body.is_empty() && is_safety(last) => (body, Some(*last)),
        _ => (tokens.as_slice(), None),
    };
    let is_boulder = |t: &&str| {
        let lower = t.to_ascii_lowercase();
        lower.starts_with('v')
            && lower.get(1..).is_some_and(|r| {
                r.starts_with(|c: char| c.is_ascii_digit()) || r == "b" || r == "-easy"
            })
    };
    let boulder: Vec<&str> = body.iter().copied().filter(|t| is_boulder(t)).collect();
    let rope: Vec<&str> = body.iter().copied().filter(|t| !is_boulder(t)).collect();
    let (parts, system) = match discipline {
        Discipline::Boulder => (boulder, GradeSystem::VScale),
        Discipline::Sport | Discipline::TopRope | Discipline::Trad => (rope, GradeSystem::Yds),
    };
    if parts.is_empty() {
        return Err(format!(
            "rating `{rating}` has no {} grade for a {} climb",
            system.display_name(),
            discipline.as_str()
        ));
    }
    let mut text = parts.join(" ");
    if let Some(safety) = safety {
        text = format!("{text} {safety}");
    }
    parse_grade(&text, Some(system)).map_err(|e| format!("rating `{rating}`: {e}"))
}

fn is_safety(token: &str) -> bool {
    ["PG13", "PG-13", "PG", "R", "X"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(token))
}

/// Parts of a Mountain Project rating that grade climbing clmb does not log: water ice
/// and alpine ice (`WI2`, `AI3`), mixed (`M5`), aid (`A0`, `C2`), snow (`Easy Snow`),
/// and 3rd/4th class scrambling.
fn not_logged_grade(token: &str) -> Option<&'static str> {
    let upper = token.to_ascii_uppercase();
    let numbered = |prefix: &str| {
        upper.strip_prefix(prefix).is_some_and(|rest| {
            rest.starts_with(|c: char| c.is_ascii_digit())
                && rest
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-'))
        })
    };
    if numbered("WI") || numbered("AI") {
        Some("ice")
    } else if numbered("M") {
        Some("mixed climbing")
    } else if numbered("A") || numbered("C") {
        Some("aid climbing")
    } else if upper == "SNOW" {
        Some("snow")
    } else if upper == "3RD" || upper == "4TH" {
        Some("3rd or 4th class scrambling")
    } else {
        None
    }
}

/// `Your Stars`: -1 for none, else Mountain Project's 0 (bomb) to 4 stars, which
/// become 1 to 5.
fn your_stars(text: &str) -> Option<i16> {
    let stars: i16 = text.parse().ok()?;
    (0..=4).contains(&stars).then_some(stars + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_types_and_styles_choose_the_discipline() {
        use Discipline::*;
        let cases = [
            ("Sport", StyleKind::TopRope, Ok(TopRope)),
            ("Sport", StyleKind::Lead, Ok(Sport)),
            ("Trad, Sport", StyleKind::Lead, Ok(Trad)),
            ("Sport, TR", StyleKind::Unknown, Ok(Sport)),
            ("TR", StyleKind::Lead, Ok(TopRope)),
            ("Trad, Alpine", StyleKind::Lead, Ok(Trad)),
            ("Sport, TR, Alpine", StyleKind::TopRope, Ok(TopRope)),
            ("Trad, Boulder", StyleKind::Unknown, Ok(Trad)),
            ("Sport, Boulder", StyleKind::Boulder, Ok(Boulder)),
            ("Boulder", StyleKind::TopRope, Ok(Boulder)),
            ("Boulder", StyleKind::Unknown, Ok(Boulder)),
        ];
        for (route_type, style, expected) in cases {
            assert_eq!(
                discipline(route_type, style),
                expected,
                "{route_type} {style:?}"
            );
        }
        for (route_type, word) in [
            ("Ice", "ice"),
            ("Trad, Aid", "aid"),
            ("Aid", "aid"),
            ("Trad, Snow, Alpine", "snow"),
            ("Trad, Mixed", "mixed"),
            ("Alpine", "no rock climbing"),
            ("Trad, Canyoneering", "unknown route type"),
            ("", "no rock climbing"),
        ] {
            let reason = discipline(route_type, StyleKind::Lead).unwrap_err();
            assert!(reason.contains(word), "{route_type}: {reason}");
        }
    }

    #[test]
    fn ratings_give_the_grade_of_the_discipline_with_safety_apart() {
        let cases = [
            ("5.10a/b PG13", Discipline::Sport, "5.10a/b", Some("PG13")),
            ("5.9 V2 R", Discipline::Boulder, "V2", Some("R")),
            ("5.9 V2 R", Discipline::Trad, "5.9", Some("R")),
            ("5.12b V6", Discipline::Boulder, "V6", None),
            ("5.11 V2", Discipline::Trad, "5.11", None),
            ("V-easy", Discipline::Boulder, "VB", None),
            ("V0-1", Discipline::Boulder, "V0-1", None),
            ("5.10-", Discipline::TopRope, "5.10-", None),
            ("Easy 5th", Discipline::Trad, "Easy 5th", None),
            ("5.0", Discipline::Trad, "5.0", None),
        ];
        for (rating, discipline, label, safety) in cases {
            let grade = grade(rating, discipline).unwrap();
            assert_eq!(
                (grade.label.as_str(), grade.safety.as_deref()),
                (label, safety),
                "{rating}"
            );
        }
        for (rating, discipline, word) in [
            ("WI2", Discipline::Trad, "ice"),
            ("5.10 A0", Discipline::Trad, "aid"),
            ("C3", Discipline::Trad, "aid"),
            ("5.9 Easy Snow", Discipline::Trad, "snow"),
            ("4th", Discipline::Trad, "scrambling"),
            ("V3", Discipline::Sport, "no YDS grade"),
            ("5.9", Discipline::Boulder, "no V scale grade"),
            ("5.10q", Discipline::Sport, "accepted forms"),
            ("", Discipline::Sport, "empty"),
        ] {
            let reason = grade(rating, discipline).unwrap_err();
            assert!(reason.contains(word), "{rating}: {reason}");
        }
    }

    #[test]
    fn crag_is_the_area_not_the_wall() {
        assert_eq!(
            crag_of("New Hampshire > *Rumney > Venus Wall").as_deref(),
            Some("New Hampshire > *Rumney")
        );
        assert_eq!(
            crag_of("International > Asia > Laos > Thakhek > Elephant").as_deref(),
            Some("International > Asia > Laos > Thakhek")
        );
        assert_eq!(crag_of("Utah").as_deref(), Some("Utah"));
        assert_eq!(crag_of(" > "), None);
    }

    #[test]
    fn stars_and_route_ids() {
        assert_eq!(your_stars("-1"), None);
        assert_eq!(your_stars("0"), Some(1));
        assert_eq!(your_stars("4"), Some(5));
        assert_eq!(your_stars("2.5"), None);
        assert_eq!(
            route_id("https://www.mountainproject.com/route/105962298/shealyns-way"),
            Some("105962298")
        );
        assert_eq!(route_id("https://example.com/x"), None);
    }
}
