//! Reading grade text. Every reader takes the grade body with all white space
//! already removed and the safety suffix already split off.

use crate::tables::{EWBANK, FONT, FRENCH, UIAA, V_SCALE, YDS};
use crate::{GradeInfo, GradeSystem};

/// Where between two neighbouring ladder grades the modified forms sit, as a fraction
/// of the step: `V4+` a quarter up from V4, `V4-5` half way, `V5-` a quarter below V5.
/// This gives `V4 < V4+ < V4-5 < V5- < V5`, Mountain Project's order.
const PLUS: f64 = 0.25;
const MINUS: f64 = -0.25;
const HALF: f64 = 0.5;

/// Letterless YDS grades (5.10-, 5.10, 5.10+), as a position among the letters of
/// their number (a = 0 … d = 3). Mountain Project sorts them 5.10a < 5.10- < 5.10a/b
/// < 5.10b < 5.10 < 5.10b/c < 5.10c < 5.10+ < 5.10c/d < 5.10d; these positions keep
/// that order, with plain 5.10 just below the middle of 5.10a–d.
const YDS_MINUS_POS: f64 = 0.25;
const YDS_PLAIN_POS: f64 = 1.25;
const YDS_PLUS_POS: f64 = 2.25;

/// How strictly a reader must recognise its own system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The caller named the system: accept every form of it, letters in any case.
    Explicit,
    /// Guessing the system. With `letter_case`, French must be lower case and Font
    /// upper case (both systems are candidates); without it, only one of them is.
    Detect { letter_case: bool },
}

/// A recognised grade: canonical label and place on the common scale.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Parsed {
    pub(crate) label: String,
    pub(crate) difficulty: f64,
}

impl Parsed {
    fn listed(info: &GradeInfo) -> Self {
        Self {
            label: info.label.to_owned(),
            difficulty: info.difficulty,
        }
    }

    fn between(ladder: &[GradeInfo], pos: f64, label: String) -> Self {
        Self {
            label,
            difficulty: at(ladder, pos),
        }
    }
}

/// Difficulty at a fractional ladder position; outside the ladder the nearest step
/// is extended (`V17+`).
fn at(ladder: &[GradeInfo], pos: f64) -> f64 {
    let len = ladder.len();
    if len < 2 {
        return ladder.first().map_or(0.0, |g| g.difficulty);
    }
    let i = (pos.floor().max(0.0) as usize).min(len - 2);
    match (ladder.get(i), ladder.get(i + 1)) {
        (Some(a), Some(b)) => a.difficulty + (pos - i as f64) * (b.difficulty - a.difficulty),
        _ => 0.0,
    }
}

/// Splits leading ASCII digits off as a number: no leading zero, at most 3 digits.
fn leading_number(s: &str) -> Option<(usize, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let digits = s.get(..end)?;
    if digits.is_empty() || digits.len() > 3 || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    Some((digits.parse().ok()?, s.get(end..)?))
}

fn position(ladder: &[GradeInfo], label: &str) -> Option<usize> {
    ladder
        .iter()
        .position(|g| g.label.eq_ignore_ascii_case(label))
}

pub(crate) fn parse_in(system: GradeSystem, body: &str, mode: Mode) -> Option<Parsed> {
    match system {
        GradeSystem::VScale => v_scale(body),
        GradeSystem::Font => font(body, mode),
        GradeSystem::Yds => yds(body),
        GradeSystem::French => french(body, mode),
        GradeSystem::Uiaa => uiaa(body, mode),
        GradeSystem::Ewbank => ewbank(body, mode),
    }
}

/// `VB`, `V-easy`, `V5`, `V5+`, `V5-`, `V4-5` (also `V4-V5`, `V4/5`).
fn v_scale(body: &str) -> Option<Parsed> {
    let lower = body.to_ascii_lowercase();
    let rest = lower.strip_prefix('v')?;
    if matches!(rest, "b" | "-easy" | "easy") {
        return V_SCALE.first().map(Parsed::listed);
    }
    let (n, tail) = leading_number(rest)?;
    let idx = n + 1;
    let info = V_SCALE.get(idx)?;
    let pos = idx as f64;
    match tail {
        "" => Some(Parsed::listed(info)),
        "+" => Some(Parsed::between(&V_SCALE, pos + PLUS, format!("V{n}+"))),
        "-" => Some(Parsed::between(&V_SCALE, pos + MINUS, format!("V{n}-"))),
        _ => {
            let upper = tail.strip_prefix('-').or_else(|| tail.strip_prefix('/'))?;
            let upper = upper.strip_prefix('v').unwrap_or(upper);
            let (m, rest) = leading_number(upper)?;
            (rest.is_empty() && m == n + 1 && V_SCALE.get(m + 1).is_some())
                .then(|| Parsed::between(&V_SCALE, pos + HALF, format!("V{n}-{m}")))
        }
    }
}

/// `Easy 5th`, `5.0`–`5.9` with `+`/`-`, `5.10a`, `5.10a/b`, `5.10`, `5.10+`, `5.10-`.
fn yds(body: &str) -> Option<Parsed> {
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "easy5th" | "easy5thclass") {
        return YDS.first().map(Parsed::listed);
    }
    let (n, tail) = leading_number(lower.strip_prefix("5.")?)?;
    if n <= 9 {
        let idx = n + 1;
        let pos = idx as f64;
        return match tail {
            "" => YDS.get(idx).map(Parsed::listed),
            "+" => Some(Parsed::between(&YDS, pos + PLUS, format!("5.{n}+"))),
            "-" => Some(Parsed::between(&YDS, pos + MINUS, format!("5.{n}-"))),
            _ => None,
        };
    }
    if n > 15 {
        return None;
    }
    // Index of 5.Na: Easy 5th and 5.0–5.9 come first, then four letters per number.
    let first = 11 + (n - 10) * 4;
    let base = first as f64;
    let letter = |c: char| "abcd".find(c);
    let mut chars = tail.chars();
    match (chars.next(), chars.next(), chars.next(), chars.next()) {
        (None, ..) => Some(Parsed::between(
            &YDS,
            base + YDS_PLAIN_POS,
            format!("5.{n}"),
        )),
        (Some('+'), None, ..) => Some(Parsed::between(
            &YDS,
            base + YDS_PLUS_POS,
            format!("5.{n}+"),
        )),
        (Some('-'), None, ..) => Some(Parsed::between(
            &YDS,
            base + YDS_MINUS_POS,
            format!("5.{n}-"),
        )),
        (Some(a), None, ..) => YDS.get(first + letter(a)?).map(Parsed::listed),
        (Some(a), Some('/'), Some(b), None) => {
            let (la, lb) = (letter(a)?, letter(b)?);
            (lb == la + 1)
                .then(|| Parsed::between(&YDS, base + la as f64 + HALF, format!("5.{n}{a}/{b}")))
        }
        _ => None,
    }
}

/// A ladder grade, or a slash between two neighbours: `6a+/6b`, also `6a+/b`, `6a/+`.
fn slash_ladder(ladder: &[GradeInfo], body: &str) -> Option<Parsed> {
    let Some((left, right)) = body.split_once('/') else {
        return ladder.get(position(ladder, body)?).map(Parsed::listed);
    };
    let i = position(ladder, left)?;
    let (lo, hi) = (ladder.get(i)?, ladder.get(i + 1)?);
    let number = left.get(..1).unwrap_or_default();
    let candidates = [
        right.to_owned(),
        format!("{number}{right}"),
        format!("{left}{right}"),
    ];
    candidates
        .iter()
        .any(|c| hi.label.eq_ignore_ascii_case(c))
        .then(|| {
            Parsed::between(
                ladder,
                i as f64 + HALF,
                format!("{}/{}", lo.label, hi.label),
            )
        })
}

fn french(body: &str, mode: Mode) -> Option<Parsed> {
    if let Mode::Detect { letter_case } = mode {
        // Guessing: a French grade needs its letter (plain 1–3 read as UIAA/Ewbank).
        if !body.chars().any(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        if letter_case && body.chars().any(|c| c.is_ascii_uppercase()) {
            return None;
        }
    }
    slash_ladder(&FRENCH, body)
}

fn font(body: &str, mode: Mode) -> Option<Parsed> {
    if mode == (Mode::Detect { letter_case: true }) {
        // Guessing among all systems: Font only when written with its capital letter.
        let has_capital = body.chars().any(|c| matches!(c, 'A'..='C'));
        if !has_capital || body.chars().any(|c| c.is_ascii_lowercase()) {
            return None;
        }
    }
    slash_ladder(&FONT, body)
}

/// One UIAA grade: roman or arabic number and an optional `+`/`-`; its ladder index
/// and whether it was a plain arabic number (which Ewbank also uses).
fn uiaa_one(s: &str) -> Option<(usize, bool)> {
    let (number, modifier) = match s.as_bytes().last()? {
        b'+' => (s.get(..s.len() - 1)?, 1),
        b'-' => (s.get(..s.len() - 1)?, -1),
        _ => (s, 0),
    };
    let arabic = number.bytes().all(|b| b.is_ascii_digit());
    let n = if arabic {
        leading_number(number)
            .filter(|(_, rest)| rest.is_empty())?
            .0
    } else {
        const ROMAN: [&str; 12] = [
            "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
        ];
        ROMAN.iter().position(|r| r.eq_ignore_ascii_case(number))? + 1
    };
    // Ladder: I, I+, then n-, n, n+ for every n from II to XII (XII has no XII+).
    let idx = match (n, modifier) {
        (1, 0) => 0,
        (1, 1) => 1,
        (2..=12, m) => (3 * n - 3).checked_add_signed(m)?,
        _ => return None,
    };
    (idx < UIAA.len()).then_some((idx, arabic && modifier == 0))
}

fn uiaa(body: &str, mode: Mode) -> Option<Parsed> {
    // Guessing: a plain arabic number of 10 or more is Ewbank, not UIAA.
    let ewbank_like =
        |plain: bool, idx: usize| plain && idx >= 27 && matches!(mode, Mode::Detect { .. });
    match body.split_once('/') {
        None => {
            let (idx, plain) = uiaa_one(body)?;
            if ewbank_like(plain, idx) {
                return None;
            }
            UIAA.get(idx).map(Parsed::listed)
        }
        Some((left, right)) => {
            let (i, plain_i) = uiaa_one(left)?;
            let (j, plain_j) = uiaa_one(right)?;
            if j != i + 1 || (ewbank_like(plain_i, i) && ewbank_like(plain_j, j)) {
                return None;
            }
            let (lo, hi) = (UIAA.get(i)?, UIAA.get(j)?);
            Some(Parsed::between(
                &UIAA,
                i as f64 + HALF,
                format!("{}/{}", lo.label, hi.label),
            ))
        }
    }
}

fn ewbank(body: &str, mode: Mode) -> Option<Parsed> {
    let one = |s: &str| -> Option<usize> {
        let (n, rest) = leading_number(s)?;
        let low = matches!(mode, Mode::Detect { .. }) && n < 10;
        (rest.is_empty() && (1..=EWBANK.len()).contains(&n) && !low).then_some(n)
    };
    match body.split_once('/') {
        None => EWBANK.get(one(body)? - 1).map(Parsed::listed),
        Some((left, right)) => {
            let (a, b) = (one(left)?, one(right)?);
            (b == a + 1)
                .then(|| Parsed::between(&EWBANK, (a - 1) as f64 + HALF, format!("{a}/{b}")))
        }
    }
}

/// Safety ratings climbers append to a grade, canonical spelling first.
const SAFETY: [(&str, &[&str]); 5] = [
    ("PG13", &["PG13", "PG-13"]),
    ("PG", &["PG"]),
    ("R", &["R"]),
    ("X", &["X"]),
    ("G", &["G"]),
];

/// Splits a trailing safety rating (`5.9 R`, `V7 PG13`, `5.10 PG 13`) off the text.
/// It must follow white space, so a lone `X` stays the UIAA grade X.
pub(crate) fn split_safety(text: &str) -> (&str, Option<&'static str>) {
    let trimmed = text.trim();
    // "PG 13" is the one safety rating that may itself contain a space.
    if let Some(head) = strip_suffix_ci(trimmed, "PG 13")
        && head.ends_with(char::is_whitespace)
        && !head.trim().is_empty()
    {
        return (head.trim_end(), Some("PG13"));
    }
    let Some((head, last)) = trimmed.rsplit_once(char::is_whitespace) else {
        return (trimmed, None);
    };
    if head.trim().is_empty() {
        return (trimmed, None);
    }
    SAFETY
        .iter()
        .find(|(_, spellings)| spellings.iter().any(|s| s.eq_ignore_ascii_case(last)))
        .map_or((trimmed, None), |(canonical, _)| {
            (head.trim_end(), Some(*canonical))
        })
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix)
        .then(|| s.get(..cut))
        .flatten()
}

/// Removes white space and writes dashes the way the readers expect.
pub(crate) fn normalise_body(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{FF0B}' => '+',
            c => c,
        })
        .collect()
}
