//! The real exports in `shared/fixtures/`, parsed with exact expectations.

// Test helpers outside #[test] functions: clippy.toml's allow-unwrap-in-tests misses them.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use clmb_grades::GradeSystem;
use clmb_logbook::{Ascent, AttemptType, Discipline, ParsedLog, Source, parse};
use time::macros::date;

fn fixture(path: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");
    std::fs::read(format!("{dir}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load(source: Source, path: &str) -> ParsedLog {
    parse(source, &fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn find<'a>(log: &'a ParsedLog, route: &str) -> Vec<&'a Ascent> {
    log.ascents
        .iter()
        .filter(|a| a.route_name == route)
        .collect()
}

fn one<'a>(log: &'a ParsedLog, route: &str) -> &'a Ascent {
    let found = find(log, route);
    assert_eq!(found.len(), 1, "{route}");
    found[0]
}

/// Data rows per file (CSV records, so a note with line breaks is one row), as the
/// fixtures' README counts them, and how many clmb rejects: the ice route of
/// boulders-crlf-ice; in alpine-aid-multipitch the six `Trad, Aid` and one `Aid` big
/// walls and the `Trad, Snow, Alpine` traverse.
#[test]
fn every_fixture_parses_into_the_expected_ascents_and_rejections() {
    let cases = [
        (
            Source::MountainProject,
            "mountain-project/sport-trad-clean.csv",
            74,
            0,
        ),
        (
            Source::MountainProject,
            "mountain-project/boulders-crlf-ice.csv",
            266,
            1,
        ),
        (
            Source::MountainProject,
            "mountain-project/alpine-aid-multipitch.csv",
            725,
            8,
        ),
        (
            Source::MountainProject,
            "mountain-project/boulders-no-style.csv",
            75,
            0,
        ),
        (Source::TheCrag, "thecrag/sample.csv", 3, 0),
        (Source::EightA, "8a/sample.csv", 9, 0),
    ];
    for (source, path, ascents, rejected) in cases {
        let log = load(source, path);

        assert_eq!(
            log.ascents.len(),
            ascents,
            "{path} ascents; rejected: {:?}",
            log.rejected
        );
        assert_eq!(
            log.rejected.len(),
            rejected,
            "{path} rejected: {:?}",
            log.rejected
        );
        let keys: HashSet<&str> = log.ascents.iter().map(|a| a.source_key.as_str()).collect();
        assert_eq!(keys.len(), ascents, "{path}: keys are unique");
        let prefix = format!("{}:", source.key_prefix());
        assert!(
            keys.iter().all(|k| k.starts_with(&prefix) && k.len() <= 40),
            "{path}"
        );
        for a in &log.ascents {
            assert_eq!(
                a.success,
                a.attempt_type != AttemptType::Attempt,
                "{path}:{}",
                a.line
            );
            assert_eq!(a.grade.family(), a.discipline.family(), "{path}:{}", a.line);
            if matches!(a.attempt_type, AttemptType::Onsight | AttemptType::Flash) {
                assert_eq!(a.attempts, Some(1), "{path}:{}", a.line);
            }
            assert!(!a.crag.is_empty() && !a.route_name.is_empty());
        }
        // Lines are the rows' own: strictly increasing, after the header.
        let mut lines: Vec<u64> = log
            .ascents
            .iter()
            .map(|a| a.line)
            .chain(log.rejected.iter().map(|r| r.line))
            .collect();
        lines.sort_unstable();
        assert!(lines.first().is_some_and(|l| *l == 2), "{path}");
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "{path}");
    }
}

#[test]
fn crlf_file_keeps_notes_whole_and_rejects_the_ice_route() {
    let log = load(
        Source::MountainProject,
        "mountain-project/boulders-crlf-ice.csv",
    );

    assert_eq!(log.rejected.len(), 1);
    assert_eq!(
        log.rejected[0].line, 120,
        "Willey's Slide starts on line 120"
    );
    assert!(
        log.rejected[0].reason.contains("ice"),
        "{}",
        log.rejected[0].reason
    );
    let bear_claw = one(&log, "Bear Claw");
    assert_eq!(
        bear_claw.notes.as_deref(),
        Some(
            "with after clipped is a solid tiny rain; from a long on feet, great a heel reach \
             the wet belay\nbad hook to second in ledge hold; crimpy the go the pumpy the start, \
             jug; slab corner finish, crux then"
        )
    );
    assert_eq!(bear_claw.line, 195);
    // The row after the two-line note is numbered from its own first line.
    let after: Vec<&Ascent> = log.ascents.iter().filter(|a| a.line > 195).collect();
    assert_eq!(after[0].line, 197);
    // The same route twice on one day: two ascents, two keys.
    let green = find(&log, "The Green Piece");
    assert_eq!(green.len(), 2);
    assert!(green.iter().all(|a| a.local_date == date!(2024 - 07 - 14)));
    assert_ne!(green[0].source_key, green[1].source_key);
    assert_eq!(green[1].attempt_type, AttemptType::Attempt);
    assert_eq!(green[1].discipline, Discipline::TopRope);
    // A rope grade and a boulder grade in one rating: the route type decides.
    let animal = one(&log, "Animal Logic");
    assert_eq!(
        (animal.discipline, animal.grade.label.as_str()),
        (Discipline::Boulder, "V6")
    );
    assert!(!animal.success);
    // HTML entities from the site are decoded.
    let warm_up = one(&log, "Warm-up Traverse");
    assert!(
        warm_up
            .notes
            .as_deref()
            .is_some_and(|n| n.ends_with("felt it's steep"))
    );
    assert_eq!(one(&log, "Mr. H").grade.label, "VB");
    let axe = one(&log, "The Axe Head");
    assert_eq!(
        (axe.grade.label.as_str(), axe.grade.safety.as_deref()),
        ("V1", Some("PG13"))
    );
    assert_eq!(
        (axe.attempt_type, axe.attempts, axe.rating),
        (AttemptType::Flash, Some(1), Some(5))
    );
}

#[test]
fn alpine_file_keeps_repeat_laps_and_reads_combined_types() {
    let log = load(
        Source::MountainProject,
        "mountain-project/alpine-aid-multipitch.csv",
    );

    // Two identical rows on lines 251 and 252: a repeat lap, both kept.
    let big: Vec<&Ascent> = find(&log, "Mr. Big");
    let laps: Vec<&&Ascent> = big
        .iter()
        .filter(|a| a.line == 251 || a.line == 252)
        .collect();
    assert_eq!(laps.len(), 2);
    assert_ne!(laps[0].source_key, laps[1].source_key);
    assert_eq!(laps[0].attempt_type, AttemptType::Attempt);
    assert_eq!(big.len(), 3);
    // Aid and snow are rejected with the reason named.
    let reasons: Vec<&str> = log.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(reasons.iter().filter(|r| r.contains("aid")).count(), 7);
    assert_eq!(reasons.iter().filter(|r| r.contains("snow")).count(), 1);
    // `Trad, Boulder` rated `5.11 V2` with no style: the first type, trad.
    let spin = one(&log, "Spin to Win");
    assert_eq!(
        (spin.discipline, spin.grade.label.as_str()),
        (Discipline::Trad, "5.11")
    );
    let plumbers = find(&log, "Plumbers Crack (North side chimney)");
    assert!(!plumbers.is_empty());
    assert!(
        plumbers
            .iter()
            .all(|a| a.grade.label == "V0" && a.grade.safety.as_deref() == Some("R"))
    );
    assert_eq!(one(&log, "Northwest Arete").grade.label, "VB");
    let positive = one(&log, "Positive Vibrations");
    assert_eq!(
        (positive.discipline, positive.pitches),
        (Discipline::Trad, Some(12))
    );
    let three_fools = one(&log, "Three Fools aka Kelley Route 32");
    assert_eq!(
        three_fools.notes.as_deref(),
        Some("the wet belay bad hook to\nsecond in ledge hold; crimpy the go")
    );
    assert!(
        log.ascents
            .iter()
            .any(|a| a.grade.label == "5.10b/c" && a.grade.safety.as_deref() == Some("PG13"))
    );
    assert!(log.ascents.iter().any(|a| a.grade.label == "5.10-"));
    assert!(
        log.ascents
            .iter()
            .all(|a| a.grade.system == GradeSystem::Yds || a.grade.system == GradeSystem::VScale)
    );
}

#[test]
fn sport_trad_file_maps_top_rope_style_and_safety() {
    let log = load(
        Source::MountainProject,
        "mountain-project/sport-trad-clean.csv",
    );

    let wrench = one(&log, "I Thought You Had It");
    assert_eq!(
        (wrench.grade.label.as_str(), wrench.grade.safety.as_deref()),
        ("5.8", Some("PG13"))
    );
    assert_eq!(
        wrench.discipline,
        Discipline::TopRope,
        "Style TR on a Sport route"
    );
    let butterflies = one(&log, "Dancing Butterflies");
    assert_eq!(
        (butterflies.discipline, butterflies.attempt_type),
        (Discipline::Sport, AttemptType::Flash)
    );
    assert_eq!(
        butterflies.rating,
        Some(5),
        "4 stars on Mountain Project's 0-4 scale"
    );
    assert_eq!(butterflies.crag, "International > Asia > Laos > Thakhek");
    let roadside = one(&log, "Roadside Attraction");
    assert_eq!(roadside.discipline, Discipline::Trad);
    let chloe = find(&log, "Chloe's Breakfast Special");
    assert_eq!(chloe.len(), 2);
    assert_ne!(chloe[0].local_date, chloe[1].local_date);
}

#[test]
fn boulders_without_style_are_sends() {
    let log = load(
        Source::MountainProject,
        "mountain-project/boulders-no-style.csv",
    );

    assert!(
        log.ascents
            .iter()
            .all(|a| a.discipline == Discipline::Boulder
                && a.attempt_type == AttemptType::Redpoint
                && a.local_date == date!(2022 - 06 - 07))
    );
    let ranges: HashSet<&str> = log.ascents.iter().map(|a| a.grade.label.as_str()).collect();
    for label in ["V4-5", "V5-6", "V6-7", "V0-1", "V4-", "V3+"] {
        assert!(ranges.contains(label), "{label}");
    }
    let crags: HashSet<&str> = log.ascents.iter().map(|a| a.crag.as_str()).collect();
    assert_eq!(
        crags,
        HashSet::from([
            "New York > The Gunks",
            "New York > Ice Pond",
            "New York > Powerlinez",
            "New York > New York City"
        ])
    );
}

#[test]
fn thecrag_sample_keeps_ids_dates_and_safety() {
    let log = load(Source::TheCrag, "thecrag/sample.csv");

    let double = one(&log, "Double Cross");
    assert_eq!(double.source_key, "thecrag:7715472699");
    assert_eq!(double.local_date, date!(2023 - 04 - 21));
    assert_eq!(
        (double.grade.label.as_str(), double.grade.safety.as_deref()),
        ("5.7", Some("PG13"))
    );
    assert_eq!(
        (double.discipline, double.attempt_type),
        (Discipline::Trad, AttemptType::Redpoint)
    );
    assert_eq!(double.crag, "Joshua Tree National Park");
    let caveman = one(&log, "Caveman Finish");
    assert_eq!(
        (caveman.discipline, caveman.grade.label.as_str()),
        (Discipline::Boulder, "V3")
    );
    assert_eq!(one(&log, "SW Corner").discipline, Discipline::Sport);
}

#[test]
fn eight_a_sample_keeps_town_script_and_calendar_dates() {
    let log = load(Source::EightA, "8a/sample.csv");

    let single = one(&log, "Single Life");
    assert_eq!(single.local_date, date!(2019 - 08 - 30));
    assert_eq!(single.crag, "Yangshuo");
    assert!(
        single
            .location
            .as_deref()
            .is_some_and(|l| l.contains("Yangshuo(阳朔)")),
        "{:?}",
        single.location
    );
    assert_eq!(
        (single.grade.system, single.grade.label.as_str()),
        (GradeSystem::French, "8a")
    );
    assert_eq!((single.attempts, single.rating), (Some(24), Some(5)));
    let viva = one(&log, "Viva Festina");
    assert_eq!(
        (viva.attempt_type, viva.attempts),
        (AttemptType::Onsight, Some(1))
    );
    assert_eq!(
        viva.local_date,
        date!(2021 - 05 - 16),
        "a noon time stays on its day"
    );
    let marihuana = one(&log, "Marihuana");
    assert_eq!(
        (marihuana.attempts, marihuana.attempt_type),
        (None, AttemptType::Redpoint)
    );
    assert_eq!(
        marihuana.notes.as_deref(),
        Some("the wet belay bad hook to second in ledge hold, crimpy")
    );
    let sepia = one(&log, "Memorias de una sepia");
    assert!(
        sepia
            .notes
            .as_deref()
            .is_some_and(|n| n.contains("très bien") && n.contains('–'))
    );
}
