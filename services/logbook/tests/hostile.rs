//! Hostile input for every source, `clmb` included: arbitrary bytes, CSV-shaped noise
//! (quotes, CRLF, a BOM, huge fields, thousands of columns) under each real header.
//! `parse` must neither panic nor hang: each parse runs on its own thread and the test
//! fails if it takes longer than a bound (5 s for a 1 MiB file, in a debug build).

// Test helpers outside #[test] functions: clippy.toml's allow-unwrap-in-tests misses them.
#![allow(clippy::unwrap_used)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use clmb_logbook::{LogbookError, ParsedLog, Source, parse};
use proptest::prelude::*;

/// The header row of each source's real export.
fn header(source: Source) -> &'static str {
    match source {
        Source::MountainProject => {
            "Date,Route,Rating,Notes,URL,Pitches,Location,\"Avg Stars\",\"Your Stars\",Style,\
             \"Lead Style\",\"Route Type\",\"Your Rating\",Length,\"Rating Code\""
        }
        Source::TheCrag => {
            "Route Name,Ascent Label,Ascent ID,Ascent Link,Ascent Type,Route Grade,Ascent Grade,\
             Route Gear Style,Ascent Gear Style,Route Height,Ascent Height,# Ascents,Route Stars,\
             Route ID,Route Link,Country,Country Link,Crag Name,Crag Link,Crag Path,With,Comment,\
             Quality,Ascent Date,Log Date,Shot"
        }
        Source::EightA => {
            "Route/Boulder Name,difficulty,Sector Name,Crag Name,Town,Country,type,Route or Boulder,\
             tries,date,first_ascent,rating,soft,hard,second_go,chipped,recommended,repeat,\
             with_kneepad,comment"
        }
        Source::Clmb => {
            "climb_id,session_id,local_date,session_name,gym_name,location,started_at,ended_at,\
             climbed_at,route_name,discipline,grade,grade_system,safety,attempt_type,success,\
             attempts,rating,notes"
        }
    }
}

/// Parses on another thread and fails the test if that takes longer than `limit`: a
/// parser stuck in a loop would otherwise hang the test run instead of failing it.
fn parse_within(
    source: Source,
    bytes: Vec<u8>,
    limit: Duration,
) -> Result<ParsedLog, LogbookError> {
    let (done, result) = mpsc::channel();
    let size = bytes.len();
    std::thread::spawn(move || {
        let started = Instant::now();
        let parsed = parse(source, &bytes);
        done.send((parsed, started.elapsed())).ok();
    });
    match result.recv_timeout(limit) {
        Ok((parsed, took)) => {
            assert!(took < limit, "{source}: {size} bytes took {took:?}");
            parsed
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{source}: parsing {size} bytes took longer than {limit:?}")
        }
        // The sender is gone without sending: the parse panicked.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("{source}: parsing {size} bytes panicked")
        }
    }
}

const SMALL: Duration = Duration::from_secs(2);
const MIB: usize = 1024 * 1024;
const LARGE: Duration = Duration::from_secs(5);

/// Everything a parse answers must account for its rows; only whole-file problems are
/// errors, and those a header row of the source cannot have.
fn check_accounts_for_rows(source: Source, log: &ParsedLog) {
    for ascent in &log.ascents {
        assert!(ascent.source_key.starts_with(source.key_prefix()));
        assert!(ascent.line >= 2);
    }
    for rejected in &log.rejected {
        assert!(rejected.line >= 2);
        assert!(!rejected.reason.is_empty());
    }
}

/// Pieces CSV files are made of, dangerous ones over-represented. (Picked from a list
/// rather than generated from regexes: those are slow to draw in a debug build.)
fn token() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        ",",
        "\"",
        "\"\"",
        "\r\n",
        "\n",
        "\r",
        "\u{feff}",
        "\0",
        " ",
        "\t",
        "&#39;",
        "&amp;",
        "&#",
        "&#x1F600;",
        "&#99999999999;",
        "&;",
        "5.10a/b PG13",
        "V4-5",
        "7a+/7b",
        "V-easy",
        "5.",
        "/",
        "2020-08-17",
        "8/17/2020",
        "2019-02-30",
        "2023-04-21T00:00:00Z",
        "99999999999999999999",
        "-0",
        "boulder",
        "sport",
        "top_rope",
        "onsight",
        "attempt",
        "Lead",
        "Fell/Hung",
        "Boulder",
        "Trad, Sport",
        "font",
        "yds",
        "v_scale",
        "阳朔",
        "\u{202e}",
    ];
    prop_oneof![
        3 => prop::sample::select(PIECES).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ]
}

fn csv_shaped() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 0..200).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic_or_hang_for_any_source(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        source in prop::sample::select(Source::ALL.to_vec()),
    ) {
        let _ = parse_within(source, bytes, SMALL);
    }

    #[test]
    fn csv_shaped_noise_under_a_real_header_is_read_row_by_row(
        body in csv_shaped(),
        source in prop::sample::select(Source::ALL.to_vec()),
        bom in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let text = format!(
            "{}{}{}{body}",
            if bom { "\u{feff}" } else { "" },
            header(source),
            if crlf { "\r\n" } else { "\n" },
        );
        let log = parse_within(source, text.into_bytes(), SMALL);
        // The header is whole, so whatever follows is rows: never a whole-file error.
        let log = log.map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_accounts_for_rows(source, &log);
    }

    #[test]
    fn csv_shaped_noise_as_a_header_is_an_error_or_rows(
        text in csv_shaped(),
        source in prop::sample::select(Source::ALL.to_vec()),
    ) {
        if let Ok(log) = parse_within(source, text.into_bytes(), SMALL) {
            check_accounts_for_rows(source, &log);
        }
    }
}

#[test]
fn a_one_mebibyte_field_is_read_in_bounded_time() {
    for source in Source::ALL {
        for field in ["x", "\"\"", "&#39;", "é", "\r\n"] {
            let huge = field.repeat(MIB / field.len());
            let text = format!("{}\n\"{huge}\",{huge}\n", header(source));
            let log = parse_within(source, text.into_bytes(), LARGE).unwrap();
            assert_eq!(log.ascents.len() + log.rejected.len(), 1, "{source}");
        }
    }
}

#[test]
fn an_unclosed_quote_over_a_mebibyte_is_read_in_bounded_time() {
    for source in Source::ALL {
        let text = format!("{}\n\"{}", header(source), "a,\n".repeat(MIB / 3));
        let log = parse_within(source, text.into_bytes(), LARGE).unwrap();
        assert!(log.ascents.len() + log.rejected.len() <= 1, "{source}");
    }
}

#[test]
fn thousands_of_columns_and_rows_are_read_in_bounded_time() {
    for source in Source::ALL {
        let wide_header = format!("{},{}", header(source), "extra,".repeat(20_000));
        let wide_row = "5.10a,".repeat(20_000);
        let text = format!("{wide_header}\n{wide_row}\n{wide_row}\n");
        let log = parse_within(source, text.into_bytes(), LARGE).unwrap();
        assert_eq!(log.ascents.len() + log.rejected.len(), 2, "{source}");

        // A mebibyte of short rows: each one an ascent or a rejection.
        let row = "2020-08-17,Route,5.10a,,,1,Crag,,,Lead,Onsight,Sport,,,\r\n";
        let rows = MIB / row.len();
        let text = format!("\u{feff}{}\r\n{}", header(source), row.repeat(rows));
        let log = parse_within(source, text.into_bytes(), LARGE).unwrap();
        assert_eq!(log.ascents.len() + log.rejected.len(), rows, "{source}");
    }
}

#[test]
fn a_header_of_a_mebibyte_is_refused_in_bounded_time() {
    for source in Source::ALL {
        let text = "a,".repeat(MIB / 2);
        let parsed = parse_within(source, text.into_bytes(), LARGE);
        assert!(
            matches!(parsed, Err(LogbookError::MissingColumns { .. })),
            "{source}: {parsed:?}"
        );
    }
}
