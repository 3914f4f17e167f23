//! Reading other logbooks' export files into normalized ascents.
//!
//! Pure parsing, no database: the sessions service calls [`parse`] with the uploaded
//! bytes and writes the [`Ascent`]s (one session per `(local_date, crag)`), skipping
//! those whose [`Ascent::source_key`] it already has, and answers the
//! [`RejectedRow`]s as `rows_rejected`.
//!
//! ```
//! use clmb_logbook::{parse, Source};
//!
//! let csv = "Date,Route,Rating,Notes,URL,Pitches,Location,\"Avg Stars\",\"Your Stars\",\
//! Style,\"Lead Style\",\"Route Type\",\"Your Rating\",Length,\"Rating Code\"\n\
//! 2020-08-17,Rainbow,5.10a/b PG13,,,1,\"New Hampshire > *Rumney > Main Cliff\",2.1,3,Lead,Onsight,Sport,,,\n";
//! let log = parse(Source::MountainProject, csv.as_bytes()).unwrap();
//! let ascent = &log.ascents[0];
//! assert_eq!(ascent.grade.to_string(), "5.10a/b PG13");
//! assert_eq!(ascent.crag, "New Hampshire > *Rumney");
//! assert_eq!(ascent.rating, Some(4));
//! ```
//!
//! # Sources
//!
//! | [`Source`] | `from_name` | file | key |
//! | --- | --- | --- | --- |
//! | `MountainProject` | `mountain-project` | ticks CSV | `mp:` + hash |
//! | `TheCrag` | `thecrag` | logbook CSV | `thecrag:` + `Ascent ID` |
//! | `EightA` | `8a` | logbook export | `8a:` + hash |
//!
//! How each source's style and route-type values map onto [`AttemptType`] and
//! [`Discipline`] is tabulated in `docs/import-mapping.md` at the repository root; the
//! tables there are the ones in `mountain_project.rs`, `thecrag.rs` and `eight_a.rs`.
//!
//! # Rules for every source
//!
//! * Columns are found by header name (trimmed, any case), never by position; extra
//!   columns are ignored. A missing required column is a [`LogbookError`] naming it;
//!   so are an empty file and one that is not UTF-8. Everything else is per row.
//! * A UTF-8 BOM, CRLF line ends, quoted commas, doubled quotes and line breaks inside
//!   quoted fields are read as CSV does. Free text has HTML entities decoded (`&#39;`)
//!   and its line ends made `\n`.
//! * Every data row becomes exactly one [`Ascent`] or one [`RejectedRow`] with a reason;
//!   `line` is the 1-based line where the row starts (the header is line 1).
//! * Dates are the climber's calendar dates as written: `2020-08-17`, `8/17/2020`
//!   (month first, as Mountain Project writes), `2023-04-21T00:00:00Z`,
//!   `2019-08-30 0:00:00`. A time or offset after the date is ignored, never applied.
//! * The grade is read with `clmb_grades` in the family of the discipline, a safety
//!   suffix going to `grade.safety`. Kinds of climbing clmb does not log (ice, mixed,
//!   aid, snow, via ferrata) are rejected with a reason naming them.
//! * `attempt_type`, `success` and `attempts` agree with the API's rules: onsight and
//!   flash are one successful attempt, redpoint and repeat succeed, attempt fails.
//!
//! # Idempotency
//!
//! `source_key` is the source's own ascent id where it has one (theCrag's `Ascent ID`);
//! otherwise a SHA-256 of the fields the climber entered for that ascent (date, route,
//! style, tries or pitches, notes: never the site's consensus grade, stars or area
//! names, which change between exports) and of how many earlier rows of the file have
//! the same fields. Two identical rows (a repeat lap) thus get two keys, and a later
//! export with rows added or reordered gives every old ascent its old key.

mod clmb;
mod eight_a;
mod mountain_project;
mod table;
mod thecrag;

use std::fmt;

pub use clmb_grades::Grade;

/// A logbook site whose export clmb reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    MountainProject,
    TheCrag,
    EightA,
    /// clmb's own CSV export.
    Clmb,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::MountainProject,
        Source::TheCrag,
        Source::EightA,
        Source::Clmb,
    ];

    /// The name in `POST /imports/{source}`: `mountain-project`, `thecrag`, `8a`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::MountainProject => "mountain-project",
            Source::TheCrag => "thecrag",
            Source::EightA => "8a",
            Source::Clmb => "clmb",
        }
    }

    pub fn from_name(name: &str) -> Option<Source> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// What `source_key`s of this source start with, before the `:`.
    pub fn key_prefix(self) -> &'static str {
        match self {
            Source::MountainProject => "mp",
            Source::TheCrag => "thecrag",
            Source::EightA => "8a",
            Source::Clmb => "clmb",
        }
    }

    /// The columns a file of this source must have.
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Source::MountainProject => mountain_project::REQUIRED,
            Source::TheCrag => thecrag::REQUIRED,
            Source::EightA => eight_a::REQUIRED,
            Source::Clmb => clmb::REQUIRED,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the climb was climbed, as clmb logs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discipline {
    Boulder,
    Sport,
    TopRope,
    Trad,
}

impl Discipline {
    pub fn as_str(self) -> &'static str {
        match self {
            Discipline::Boulder => "boulder",
            Discipline::Sport => "sport",
            Discipline::TopRope => "top_rope",
            Discipline::Trad => "trad",
        }
    }

    /// The grade family of the discipline.
    pub fn family(self) -> clmb_grades::Family {
        match self {
            Discipline::Boulder => clmb_grades::Family::Boulder,
            Discipline::Sport | Discipline::TopRope | Discipline::Trad => clmb_grades::Family::Rope,
        }
    }
}

/// The style of an ascent, as the API's `attempt_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptType {
    Onsight,
    Flash,
    Redpoint,
    Repeat,
    Attempt,
}

impl AttemptType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptType::Onsight => "onsight",
            AttemptType::Flash => "flash",
            AttemptType::Redpoint => "redpoint",
            AttemptType::Repeat => "repeat",
            AttemptType::Attempt => "attempt",
        }
    }

    /// Whether this style means the climb was completed.
    pub fn success(self) -> bool {
        !matches!(self, AttemptType::Attempt)
    }
}

/// One ascent read from a file, ready to become a climb.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Ascent {
    /// 1-based line where the row starts.
    pub line: u64,
    /// Stable identity of this ascent across exports; see the crate docs.
    pub source_key: String,
    /// The climber's calendar date, as written in the file.
    pub local_date: time::Date,
    /// Where: the session's location. One session per `(local_date, crag)`.
    pub crag: String,
    pub route_name: String,
    pub discipline: Discipline,
    pub grade: Grade,
    pub attempt_type: AttemptType,
    pub success: bool,
    pub attempts: Option<i32>,
    pub pitches: Option<i32>,
    /// The climber's own stars, 1..=5, when the file has them.
    pub rating: Option<i16>,
    pub notes: Option<String>,
    pub route_url: Option<String>,
    /// The full location as the file gives it (area path, sector, town, country).
    pub location: Option<String>,
}

/// A row that could not become an ascent, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RejectedRow {
    /// 1-based line where the row starts (the header is line 1).
    pub line: u64,
    pub reason: String,
}

/// Everything read from one file: each data row is in exactly one of the two lists.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ParsedLog {
    pub ascents: Vec<Ascent>,
    pub rejected: Vec<RejectedRow>,
}

/// A file that is not an export of the named source at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogbookError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not UTF-8 text (first invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("the file's first line cannot be read as a CSV header for {site}: {reason}")]
    Header { site: Source, reason: String },
    #[error(
        "not a {site} export: the header lacks the column{} {}",
        if missing.len() == 1 { "" } else { "s" },
        missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
    )]
    MissingColumns {
        site: Source,
        missing: Vec<&'static str>,
    },
}

/// Reads an export file of `source`.
pub fn parse(source: Source, bytes: &[u8]) -> Result<ParsedLog, LogbookError> {
    let (header_record, rows) = table::records(source, bytes)?;
    let header = table::Header::read(source, &header_record, source.required_columns())?;
    let mut keys = table::Keys::default();
    let mut log = ParsedLog::default();
    for (line, row) in rows {
        let result = row.and_then(|row| {
            if row.iter().all(|field| field.trim().is_empty()) {
                return Err("the row is empty".to_owned());
            }
            match source {
                Source::MountainProject => mountain_project::ascent(&header, &row, line, &mut keys),
                Source::TheCrag => thecrag::ascent(&header, &row, line, &mut keys),
                Source::EightA => eight_a::ascent(&header, &row, line, &mut keys),
                Source::Clmb => clmb::ascent(&header, &row, line),
            }
        });
        match result {
            Ok(ascent) => log.ascents.push(ascent),
            Err(reason) => log.rejected.push(RejectedRow { line, reason }),
        }
    }
    Ok(log)
}

/// Reads a grade for a discipline, turning its error into a row rejection reason.
pub(crate) fn grade_for(text: &str, discipline: Discipline) -> Result<Grade, String> {
    clmb_grades::parse_for_family(text, discipline.family())
        .map_err(|e| format!("grade of a {} climb: {e}", discipline.as_str()))
}

/// `attempts` as the API derives it: onsight and flash are one attempt; a count the
/// file gives must agree with that.
pub(crate) fn attempts_for(
    attempt_type: AttemptType,
    given: Option<i32>,
) -> Result<Option<i32>, String> {
    match (attempt_type, given) {
        (AttemptType::Onsight | AttemptType::Flash, None | Some(1)) => Ok(Some(1)),
        (AttemptType::Onsight | AttemptType::Flash, Some(n)) => Err(format!(
            "{} means a first try, but the row gives {n} tries",
            attempt_type.as_str()
        )),
        (_, given) => Ok(given),
    }
}
