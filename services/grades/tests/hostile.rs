//! The grade parser against hostile input: any characters, grade-like noise, very long
//! text. It must answer (a grade or an error) without panicking and in bounded time:
//! each parse runs on its own thread and the test fails past the bound.

// Test helpers outside #[test] functions: clippy.toml's allow-unwrap-in-tests misses them.
#![allow(clippy::unwrap_used)]

use std::sync::mpsc;
use std::time::Duration;

use clmb_grades::{Family, GradeSystem, parse, parse_for_family};
use proptest::prelude::*;

/// Runs every entry point on `input` on another thread; fails on a panic or when the
/// whole lot takes longer than `limit`.
fn parse_everything_within(input: String, limit: Duration) {
    let (done, result) = mpsc::channel();
    let size = input.len();
    std::thread::spawn(move || {
        let mut parsed = 0usize;
        parsed += usize::from(parse(&input, None).is_ok());
        for system in GradeSystem::ALL {
            parsed += usize::from(parse(&input, Some(system)).is_ok());
        }
        for family in [Family::Boulder, Family::Rope] {
            parsed += usize::from(parse_for_family(&input, family).is_ok());
        }
        done.send(parsed).ok();
    });
    match result.recv_timeout(limit) {
        Ok(_) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("parsing {size} bytes took longer than {limit:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("parsing {size} bytes panicked"),
    }
}

/// Pieces grades are written with, and some that only look like them.
fn piece() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "V",
        "v",
        "5.",
        "5",
        "1",
        "0",
        "9",
        "10",
        "15",
        "a",
        "b",
        "c",
        "d",
        "A",
        "B",
        "C",
        "+",
        "-",
        "/",
        ".",
        " ",
        "  ",
        "PG13",
        "PG-13",
        "R",
        "X",
        "VB",
        "V-easy",
        "VI",
        "XII",
        "ix",
        "E",
        "HVS",
        "7a+",
        "8C+",
        "\u{2013}",
        "\u{00a0}",
        "\t",
        "\n",
        "\0",
        "99999999999999999999",
        "-1",
        "½",
        "ⅸ",
    ];
    prop_oneof![
        4 => prop::sample::select(PIECES).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ]
}

const SMALL: Duration = Duration::from_secs(2);
const MIB: usize = 1024 * 1024;

proptest! {
    #[test]
    fn any_characters_never_panic_or_hang(
        chars in prop::collection::vec(any::<char>(), 0..300),
    ) {
        parse_everything_within(chars.into_iter().collect(), SMALL);
    }

    #[test]
    fn grade_like_noise_never_panics_or_hangs(pieces in prop::collection::vec(piece(), 0..40)) {
        parse_everything_within(pieces.concat(), SMALL);
    }

    #[test]
    fn arbitrary_bytes_read_as_text_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        parse_everything_within(String::from_utf8_lossy(&bytes).into_owned(), SMALL);
    }
}

#[test]
fn a_mebibyte_of_grade_like_text_is_answered_in_bounded_time() {
    for unit in ["5.10a/", "V4-", "7a+/", "1", " ", "+", "/", "PG13 ", "é"] {
        let input = unit.repeat(MIB / unit.len());
        parse_everything_within(input, Duration::from_secs(5));
    }
}
