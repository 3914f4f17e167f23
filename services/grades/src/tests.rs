use proptest::prelude::*;

use super::*;

fn grade(input: &str, system: Option<GradeSystem>) -> Grade {
    parse(input, system).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
}

fn info(system: GradeSystem, label: &str) -> &'static GradeInfo {
    system
        .find(label)
        .unwrap_or_else(|| panic!("{label} is not a {system} ladder grade"))
}

#[test]
fn every_ladder_is_strictly_increasing_and_numbered_from_zero() {
    for system in GradeSystem::ALL {
        let ladder = system.grades();
        assert!(!ladder.is_empty());
        for (i, g) in ladder.iter().enumerate() {
            assert_eq!(g.difficulty_order as usize, i, "{system} {}", g.label);
        }
        for pair in ladder.windows(2) {
            assert!(
                pair[0].difficulty < pair[1].difficulty,
                "{system}: {:?}",
                pair
            );
        }
        assert_eq!(system.easiest(), &ladder[0]);
    }
}

#[test]
fn every_ladder_label_parses_back_to_itself() {
    for system in GradeSystem::ALL {
        for g in system.grades() {
            let parsed = grade(g.label, Some(system));

            assert_eq!(parsed.label, g.label);
            assert_eq!(parsed.difficulty, g.difficulty);
            assert_eq!(parsed.safety, None);
            assert!(parsed.listed());
            assert_eq!(parsed.nearest_listed(), g);
        }
    }
}

#[test]
fn system_names_round_trip() {
    for system in GradeSystem::ALL {
        assert_eq!(GradeSystem::from_name(system.as_str()), Some(system));
        assert_eq!(system.as_str().parse::<GradeSystem>(), Ok(system));
        let json = serde_json::to_string(&system).unwrap();
        assert_eq!(json, format!("\"{}\"", system.as_str()));
        assert!(system.family().systems().contains(&system));
    }
    assert_eq!(GradeSystem::from_name("V-Scale"), Some(GradeSystem::VScale));
    assert_eq!(GradeSystem::from_name("british"), None);
    assert!(
        "british"
            .parse::<GradeSystem>()
            .unwrap_err()
            .to_string()
            .contains("ewbank")
    );
}

/// Conversions climbers use (OpenBeta's tables, Mountain Project's and theCrag's charts).
#[test]
fn known_correspondences_hold() {
    use GradeSystem::*;
    let cases = [
        (VScale, "V0", Font, "4"),
        (VScale, "V1", Font, "5"),
        (VScale, "V2", Font, "5+"),
        (VScale, "V3", Font, "6A"),
        (VScale, "V4", Font, "6B"),
        (VScale, "V5", Font, "6C+"),
        (VScale, "V6", Font, "7A"),
        (VScale, "V7", Font, "7A+"),
        (VScale, "V8", Font, "7B"),
        (VScale, "V9", Font, "7C"),
        (VScale, "V10", Font, "7C+"),
        (VScale, "V11", Font, "8A"),
        (VScale, "V15", Font, "8C"),
        (Font, "6A+", VScale, "V3"),
        (Font, "6B+", VScale, "V4"),
        (Font, "6C", VScale, "V5"),
        (Font, "6C+", VScale, "V5"),
        (Font, "7B+", VScale, "V8"),
        (Yds, "5.10a", French, "6a"),
        (Yds, "5.10c", French, "6b"),
        (Yds, "5.11d", French, "7a"),
        (Yds, "5.12a", French, "7a+"),
        (Yds, "5.12b", French, "7b"),
        (Yds, "5.13a", French, "7c+"),
        (Yds, "5.13b", French, "8a"),
        (Yds, "5.14a", French, "8b+"),
        (Yds, "5.14d", French, "9a"),
        (Yds, "5.15d", French, "9c"),
        (French, "6a", Yds, "5.10a"),
        (French, "7a+", Yds, "5.12a"),
        (French, "8a", Yds, "5.13b"),
        (French, "9a", Yds, "5.14d"),
        (French, "6a", Uiaa, "VI+"),
        (French, "6b", Uiaa, "VII"),
        (French, "7a", Uiaa, "VIII"),
        (French, "8a", Uiaa, "X-"),
        (Uiaa, "VII-", French, "6a+"),
        (Uiaa, "IX", French, "7c"),
        (Uiaa, "VI+", Yds, "5.10a"),
        (French, "6a", Ewbank, "18"),
        (French, "7a", Ewbank, "23"),
        (French, "8a", Ewbank, "29"),
        (Ewbank, "18", Yds, "5.10a"),
        (Ewbank, "24", Yds, "5.12a"),
        (Ewbank, "29", French, "8a"),
        (Yds, "5.8", French, "5a"),
    ];
    for (from, label, to, expected) in cases {
        let converted = info(from, label);
        assert_eq!(
            to.nearest(converted.difficulty).label,
            expected,
            "{from} {label} → {to}"
        );
    }
    // V5 and 6C+ land close together; 5.12a and 7a+ coincide.
    let gap = (info(VScale, "V5").difficulty - info(Font, "6C+").difficulty).abs();
    assert!(gap <= 1.0, "V5 vs 6C+ differ by {gap}");
    assert_eq!(
        info(Yds, "5.12a").difficulty,
        info(French, "7a+").difficulty
    );
}

/// The widest gap from a ladder grade to its neighbours.
fn step_around(ladder: &[GradeInfo], g: &GradeInfo) -> f64 {
    let i = g.difficulty_order as usize;
    let below = i
        .checked_sub(1)
        .map(|j| g.difficulty - ladder[j].difficulty);
    let above = ladder.get(i + 1).map(|n| n.difficulty - g.difficulty);
    below.into_iter().chain(above).fold(0.0, f64::max)
}

#[test]
fn converting_to_every_system_and_back_does_not_drift() {
    for from in GradeSystem::ALL {
        for to in GradeSystem::ALL {
            let ladder = to.grades();
            let covered = ladder[0].difficulty..=ladder[ladder.len() - 1].difficulty;
            for g in from.grades() {
                let there = to.nearest(g.difficulty);
                let back = from.nearest(there.difficulty);
                let there_again = to.nearest(back.difficulty);
                let back_again = from.nearest(there_again.difficulty);

                // Converting into the same system is the identity.
                if from == to {
                    assert_eq!(there, g);
                }
                // After one round trip the grade is settled: converting it there and
                // back again changes nothing, so repeated conversions do not wander off.
                assert_eq!(
                    back_again, back,
                    "{from} {} → {to} {}",
                    g.label, there.label
                );
                // Within the other system's range, the round trip errs by less than the
                // other system's step there (a coarse system cannot do better).
                if covered.contains(&g.difficulty) {
                    let error = (back.difficulty - g.difficulty).abs();
                    assert!(
                        error <= step_around(ladder, there),
                        "{from} {} → {to} {} → {}",
                        g.label,
                        there.label,
                        back.label
                    );
                }
            }
        }
    }
}

#[test]
fn forgiving_inputs_are_understood() {
    use GradeSystem::*;
    // (input, system asked for, system read, canonical label, safety)
    type Case = (
        &'static str,
        Option<GradeSystem>,
        GradeSystem,
        &'static str,
        Option<&'static str>,
    );
    let cases: &[Case] = &[
        ("v5", None, VScale, "V5", None),
        ("V 5", None, VScale, "V5", None),
        (" V5 ", None, VScale, "V5", None),
        ("VB", None, VScale, "VB", None),
        ("vb", None, VScale, "VB", None),
        ("V-easy", None, VScale, "VB", None),
        ("V0+", None, VScale, "V0+", None),
        ("V0-", None, VScale, "V0-", None),
        ("V4-5", None, VScale, "V4-5", None),
        ("V4-V5", None, VScale, "V4-5", None),
        ("V4/5", None, VScale, "V4-5", None),
        ("V4–5", None, VScale, "V4-5", None),
        ("V7 PG13", None, VScale, "V7", Some("PG13")),
        ("5.10a/b", None, Yds, "5.10a/b", None),
        ("5.10A/B", None, Yds, "5.10a/b", None),
        ("5.10+", None, Yds, "5.10+", None),
        ("5.9-", None, Yds, "5.9-", None),
        ("5.11", None, Yds, "5.11", None),
        ("5.11+", None, Yds, "5.11+", None),
        ("5.1", None, Yds, "5.1", None),
        ("5.11a PG13", None, Yds, "5.11a", Some("PG13")),
        ("5.11a pg-13", None, Yds, "5.11a", Some("PG13")),
        ("5.10 PG 13", None, Yds, "5.10", Some("PG13")),
        ("5.9 R", None, Yds, "5.9", Some("R")),
        ("5.12 X", None, Yds, "5.12", Some("X")),
        ("Easy 5th", None, Yds, "Easy 5th", None),
        ("easy 5th R", None, Yds, "Easy 5th", Some("R")),
        ("6a+", None, French, "6a+", None),
        ("7a", None, French, "7a", None),
        ("6a+/6b", None, French, "6a+/6b", None),
        ("6a+/b", None, French, "6a+/6b", None),
        ("7A", None, Font, "7A", None),
        ("6C+", None, Font, "6C+", None),
        ("6C+/7A", None, Font, "6C+/7A", None),
        ("7a", Some(Font), Font, "7A", None),
        ("7A", Some(French), French, "7a", None),
        ("5+", Some(Font), Font, "5+", None),
        ("3", Some(French), French, "3", None),
        ("VII+", None, Uiaa, "VII+", None),
        ("vii+", None, Uiaa, "VII+", None),
        ("7-", None, Uiaa, "VII-", None),
        ("7", None, Uiaa, "VII", None),
        ("X", None, Uiaa, "X", None),
        ("X X", None, Uiaa, "X", Some("X")),
        ("V-", None, Uiaa, "V-", None),
        ("10-", None, Uiaa, "X-", None),
        ("7+/8-", None, Uiaa, "VII+/VIII-", None),
        ("10", Some(Uiaa), Uiaa, "X", None),
        ("21", None, Ewbank, "21", None),
        ("10", None, Ewbank, "10", None),
        ("21/22", None, Ewbank, "21/22", None),
        ("7", Some(Ewbank), Ewbank, "7", None),
    ];
    for &(input, system, expected_system, label, safety) in cases {
        let g = grade(input, system);

        assert_eq!(g.system, expected_system, "{input:?}");
        assert_eq!(g.label, label, "{input:?}");
        assert_eq!(g.safety.as_deref(), safety, "{input:?}");
    }
}

#[test]
fn family_detection_reads_letters_in_any_case() {
    let boulder = |s| parse_for_family(s, Family::Boulder).unwrap();
    let rope = |s| parse_for_family(s, Family::Rope).unwrap();

    assert_eq!(
        (boulder("6a").system, boulder("6a").label.as_str()),
        (GradeSystem::Font, "6A")
    );
    assert_eq!(boulder("5+").system, GradeSystem::Font);
    assert_eq!(boulder("V3").system, GradeSystem::VScale);
    assert_eq!(
        (rope("7A").system, rope("7A").label.as_str()),
        (GradeSystem::French, "7a")
    );
    assert_eq!(rope("5").system, GradeSystem::Uiaa);
    assert_eq!(rope("19").system, GradeSystem::Ewbank);
    assert_eq!(rope("5.9").system, GradeSystem::Yds);
    assert!(parse_for_family("5.10a", Family::Boulder).is_err());
    assert!(parse_for_family("V5", Family::Rope).is_err());
}

#[test]
fn modified_grades_sit_between_their_neighbours_in_mountain_projects_order() {
    let orders: [&[&str]; 3] = [
        &["V3", "V3+", "V3-4", "V4-", "V4", "V4+", "V4-5", "V5-", "V5"],
        &["V-easy", "V0-", "V0", "V0+", "V0-1", "V1-", "V1"],
        &[
            "5.9-", "5.9", "5.9+", "5.10a", "5.10-", "5.10a/b", "5.10b", "5.10", "5.10b/c",
            "5.10c", "5.10+", "5.10c/d", "5.10d", "5.11-", "5.11",
        ],
    ];
    for order in orders {
        let difficulties: Vec<f64> = order.iter().map(|s| grade(s, None).difficulty).collect();
        for (pair, labels) in difficulties.windows(2).zip(order.windows(2)) {
            assert!(
                pair[0] < pair[1],
                "{} should be easier than {}",
                labels[0],
                labels[1]
            );
        }
    }
    let v45 = grade("V4-5", None);
    assert_eq!(
        v45.difficulty,
        (info(GradeSystem::VScale, "V4").difficulty + info(GradeSystem::VScale, "V5").difficulty)
            / 2.0
    );
    assert!(!v45.listed());
    assert_eq!(grade("V4+", None).nearest_listed().label, "V4");
    assert_eq!(grade("V5-", None).nearest_listed().label, "V5");
}

#[test]
fn unreadable_text_is_an_error_listing_the_accepted_forms() {
    let bad = [
        "",
        "   ",
        "V18",
        "V4-6",
        "V5-4",
        "5.",
        "5.16a",
        "5.10e",
        "5.10a/c",
        "5.10a+",
        "5.9a",
        "6d",
        "10a",
        "WI2",
        "A0",
        "C2",
        "M5",
        "3rd",
        "PG13",
        "XIII",
        "I-",
        "XII+",
        "40",
        "0",
        "7A/7C",
        "hello",
        "5.10a PG14",
        "V05",
    ];
    for input in bad {
        let err = parse(input, None).expect_err(input);
        let message = err.to_string();
        assert!(message.contains("accepted forms"), "{input:?}: {message}");
        assert!(
            message.contains("5.10a/b") && message.contains("V4-5"),
            "{message}"
        );
    }
    let err = parse("7A", Some(GradeSystem::Yds)).unwrap_err();
    assert_eq!(
        err,
        GradeError::Unreadable {
            input: "7A".into(),
            expected: Expected::System(GradeSystem::Yds)
        }
    );
    let message = err.to_string();
    assert!(
        message.starts_with("`7A` is not a YDS grade; accepted forms: YDS:"),
        "{message}"
    );
    assert!(!message.contains("Font"), "{message}");
    assert!(matches!(parse(" ", None), Err(GradeError::Empty { .. })));
    let long = "x".repeat(1000);
    match parse(&long, None) {
        Err(GradeError::Unreadable { input, .. }) => assert_eq!(input.len(), 40),
        other => panic!("{other:?}"),
    }
}

#[test]
fn display_prints_label_and_safety_and_reads_back() {
    let g = grade("5.11a  pg13", None);

    assert_eq!(g.to_string(), "5.11a PG13");
    assert_eq!(grade(&g.to_string(), None), g);
    assert_eq!("V4-5".parse::<Grade>().unwrap().to_string(), "V4-5");
    let json = serde_json::to_value(grade("V7 PG13", None)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"system": "v_scale", "label": "V7", "difficulty": 74.5, "safety": "PG13"})
    );
}

#[test]
fn labels_that_need_their_system_are_the_documented_ones() {
    // Everything else reads back without a system.
    for system in GradeSystem::ALL {
        for g in system.grades() {
            let detected = parse(g.label, None).ok().map(|p| p.system);
            let needs_system = match system {
                GradeSystem::Font => !g.label.contains(['A', 'B', 'C']),
                GradeSystem::French => !g.label.contains(['a', 'b', 'c']),
                GradeSystem::Ewbank => g.difficulty_order < 9,
                _ => false,
            };
            assert_eq!(
                detected != Some(system),
                needs_system,
                "{system} {}",
                g.label
            );
        }
    }
}

/// Text made of the characters grades are written with.
fn gradeish() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ vVbB0-9.+/abcdABCDIXixPGRr\\-]{1,10}( (PG13|R|X|PG|pg 13))?")
        .expect("valid regex")
}

fn modified_grade() -> impl Strategy<Value = (GradeSystem, String)> {
    prop_oneof![
        (0usize..18, prop_oneof![Just(""), Just("+"), Just("-")])
            .prop_map(|(n, m)| (GradeSystem::VScale, format!("V{n}{m}"))),
        (0usize..17).prop_map(|n| (GradeSystem::VScale, format!("V{n}-{}", n + 1))),
        (0usize..10, prop_oneof![Just(""), Just("+"), Just("-")])
            .prop_map(|(n, m)| (GradeSystem::Yds, format!("5.{n}{m}"))),
        (
            10usize..16,
            prop_oneof![
                Just(""),
                Just("+"),
                Just("-"),
                Just("a"),
                Just("b/c"),
                Just("c/d"),
                Just("d")
            ]
        )
            .prop_map(|(n, m)| (GradeSystem::Yds, format!("5.{n}{m}"))),
        (1usize..13, prop_oneof![Just(""), Just("+"), Just("-")])
            .prop_filter("I- and XII+ do not exist", |(n, m)| !matches!(
                (n, *m),
                (1, "-") | (12, "+")
            ))
            .prop_map(|(n, m)| (GradeSystem::Uiaa, format!("{n}{m}"))),
        (1usize..39).prop_map(|n| (GradeSystem::Ewbank, format!("{n}/{}", n + 1))),
        (0usize..38).prop_map(|i| {
            let ladder = GradeSystem::French.grades();
            (
                GradeSystem::French,
                format!("{}/{}", ladder[i].label, ladder[i + 1].label),
            )
        }),
        (0usize..25).prop_map(|i| {
            let ladder = GradeSystem::Font.grades();
            (
                GradeSystem::Font,
                format!("{}/{}", ladder[i].label, ladder[i + 1].label),
            )
        }),
    ]
}

proptest! {
    #[test]
    fn parsing_any_text_never_panics(s in "\\PC{0,60}", system in proptest::option::of(0usize..6)) {
        let system = system.map(|i| GradeSystem::ALL[i]);
        let _ = parse(&s, system);
        let _ = parse_for_family(&s, Family::Boulder);
        let _ = parse_for_family(&s, Family::Rope);
    }

    #[test]
    fn whatever_parses_prints_a_label_that_reads_back_equal(s in gradeish()) {
        if let Ok(g) = parse(&s, None) {
            prop_assert_eq!(parse(&g.to_string(), None), Ok(g.clone()));
            prop_assert_eq!(parse(&g.to_string(), Some(g.system)), Ok(g));
        }
        for family in [Family::Boulder, Family::Rope] {
            if let Ok(g) = parse_for_family(&s, family) {
                prop_assert_eq!(parse_for_family(&g.to_string(), family), Ok(g.clone()));
                prop_assert_eq!(parse(&g.to_string(), Some(g.system)), Ok(g));
            }
        }
    }

    #[test]
    fn every_modified_grade_reads_back_and_rounds_to_a_neighbour(
        (system, text) in modified_grade(),
        safety in proptest::option::of(prop_oneof![Just("PG13"), Just("R"), Just("X")]),
    ) {
        let text = match safety { Some(s) => format!("{text} {s}"), None => text };
        let g = parse(&text, Some(system)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(g.safety.as_deref(), safety);
        prop_assert_eq!(parse(&g.to_string(), Some(system)), Ok(g.clone()));
        let ladder = system.grades();
        let (lo, hi) = (ladder[0].difficulty, ladder[ladder.len() - 1].difficulty);
        prop_assert!(g.difficulty.is_finite());
        prop_assert!(g.difficulty >= lo - 5.0 && g.difficulty <= hi + 5.0);
    }
}
