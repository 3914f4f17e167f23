//! CSV reading shared by every source: header lookup by name, rows with their line
//! numbers, and the text clean-ups every field needs.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use time::{Date, Month};

use crate::{LogbookError, Source};

/// The header of a file: column positions by name (trimmed, case-insensitive).
pub(crate) struct Header {
    columns: HashMap<String, usize>,
}

impl Header {
    /// Finds the required columns, or names every missing one.
    pub(crate) fn read(
        source: Source,
        record: &csv::StringRecord,
        required: &[&'static str],
    ) -> Result<Self, LogbookError> {
        let mut columns = HashMap::new();
        for (i, name) in record.iter().enumerate() {
            // The first duplicate wins: later ones are unknown extras.
            columns.entry(name.trim().to_lowercase()).or_insert(i);
        }
        let header = Self { columns };
        let missing: Vec<&'static str> = required
            .iter()
            .copied()
            .filter(|name| header.index(name).is_none())
            .collect();
        if missing.is_empty() {
            Ok(header)
        } else {
            Err(LogbookError::MissingColumns {
                site: source,
                missing,
            })
        }
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.columns.get(&name.to_lowercase()).copied()
    }

    /// The trimmed value of a column in a row; empty when the column or field is absent.
    pub(crate) fn get<'r>(&self, row: &'r csv::StringRecord, name: &str) -> &'r str {
        self.index(name)
            .and_then(|i| row.get(i))
            .map_or("", str::trim)
    }

    /// Like [`Header::get`], `None` when empty.
    pub(crate) fn opt<'r>(&self, row: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        Some(self.get(row, name)).filter(|v| !v.is_empty())
    }
}

/// A data row's start line, and its fields or why the CSV reader could not read it.
pub(crate) type Row = (u64, Result<csv::StringRecord, String>);

/// Reads the whole file as CSV records with their 1-based start line; a record the
/// CSV reader cannot read comes back as an error message for that line.
pub(crate) fn records(
    source: Source,
    bytes: &[u8],
) -> Result<(csv::StringRecord, Vec<Row>), LogbookError> {
    let text = std::str::from_utf8(bytes).map_err(|e| LogbookError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(LogbookError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| LogbookError::Header {
            site: source,
            reason: e.to_string(),
        })?
        .clone();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(text);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = lines.line_at(record.position().map_or(0, csv::Position::byte));
                rows.push((line, Ok(record.clone())));
            }
            Err(e) => {
                let line = lines.line_at(e.position().map_or(0, csv::Position::byte));
                rows.push((line, Err(format!("the row cannot be read as CSV: {e}"))));
                // A broken quote can swallow the rest of the file: stop rather than loop.
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
            }
        }
    }
    Ok((header, rows))
}

/// Line numbers from byte offsets. The CSV reader's own line count is one short after
/// a CRLF line end (it places the record at the `\n` of the previous `\r\n`), so
/// lines are counted here: line ends before the record's first real character.
struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The 1-based line of the record starting at `byte`; offsets only grow.
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while self
            .text
            .get(start)
            .is_some_and(|b| matches!(b, b'\r' | b'\n'))
        {
            start += 1;
        }
        if start >= self.offset {
            let newlines = self.text.get(self.offset..start).unwrap_or_default();
            self.line += newlines.iter().filter(|b| **b == b'\n').count() as u64;
            self.offset = start;
        }
        self.line
    }
}

/// A calendar date as the file writes it, never moved through a time zone:
/// `2020-08-17`, `8/17/2020`, `2023-06-01T00:00:00Z`, `2019-10-10 0:00:00`.
pub(crate) fn parse_date(text: &str) -> Result<Date, String> {
    let unreadable = || {
        format!("date `{text}` is not a date like 2020-08-17, 8/17/2020 or 2020-08-17T00:00:00Z")
    };
    // The date part ends where a time starts; its offset is ignored on purpose.
    let day_part = text.split(['T', ' ']).next().unwrap_or_default();
    let numbers: Vec<&str> = if day_part.contains('-') {
        day_part.split('-').collect()
    } else {
        day_part.split('/').collect()
    };
    let [a, b, c] = numbers.as_slice() else {
        return Err(unreadable());
    };
    let number = |s: &str| {
        s.parse::<u16>()
            .ok()
            .filter(|_| !s.is_empty() && s.len() <= 4)
    };
    let (year, month, day) = if day_part.contains('-') {
        // ISO: year first, four digits.
        (number(a).filter(|_| a.len() == 4), number(b), number(c))
    } else {
        // Mountain Project writes US dates: month/day/year.
        (number(c).filter(|_| c.len() == 4), number(a), number(b))
    };
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return Err(unreadable());
    };
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok());
    let day = u8::try_from(day).ok();
    let date = match (month, day) {
        (Some(month), Some(day)) => Date::from_calendar_date(i32::from(year), month, day)
            .map_err(|_| format!("date `{text}` does not exist"))?,
        _ => return Err(unreadable()),
    };
    // Somewhere on Earth it is already tomorrow (UTC+14), never the day after.
    let latest = time::OffsetDateTime::now_utc()
        .date()
        .next_day()
        .unwrap_or(Date::MAX);
    if date > latest {
        return Err(format!("date `{text}` is in the future"));
    }
    Ok(date)
}

/// Free text as the climber meant it: HTML entities decoded (Mountain Project writes
/// `&#39;`), Windows line ends made `\n`, outer white space trimmed.
pub(crate) fn clean_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    decode_entities(text.trim())
}

/// Like [`clean_text`], `None` when nothing is left.
pub(crate) fn clean_opt(text: &str) -> Option<String> {
    Some(clean_text(text)).filter(|t| !t.is_empty())
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(rest.get(..start).unwrap_or_default());
        let tail = rest.get(start..).unwrap_or_default();
        let decoded = tail.get(1..).and_then(|t| {
            let end = t.find(';').filter(|&end| end <= 10)?;
            let name = t.get(..end)?;
            let ch = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => '\u{a0}',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code).filter(|c| *c != '\0')?
                }
            };
            Some((ch, end + 2))
        });
        match decoded {
            Some((ch, consumed)) => {
                out.push(ch);
                rest = tail.get(consumed..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// Builds `source_key`s: a hash of the fields that identify an ascent, plus the number
/// of earlier rows in the file with exactly the same fields (a repeat lap), so that
/// identical rows get different keys and a re-export with rows added elsewhere gives
/// every old row its old key.
#[derive(Default)]
pub(crate) struct Keys {
    seen: HashMap<Vec<u8>, u32>,
}

impl Keys {
    pub(crate) fn key(&mut self, source: Source, fields: &[&str]) -> String {
        let mut identity = Vec::new();
        for field in fields {
            identity.extend_from_slice(field.as_bytes());
            identity.push(0x1f);
        }
        let occurrence = self.seen.entry(identity.clone()).or_insert(0);
        let mut hasher = Sha256::new();
        hasher.update(&identity);
        hasher.update(occurrence.to_string().as_bytes());
        *occurrence += 1;
        let digest = hasher.finalize();
        let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        format!("{}:{hex}", source.key_prefix())
    }
}

/// A positive whole number, or `None`.
pub(crate) fn positive_int(text: &str) -> Option<i32> {
    text.trim().parse::<i32>().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn a_date_past_tomorrow_is_refused_as_in_the_future() {
        let error = parse_date("3000-01-01").unwrap_err();
        assert!(error.contains("in the future"), "{error}");
        let tomorrow = time::OffsetDateTime::now_utc().date().next_day().unwrap();
        assert_eq!(parse_date(&tomorrow.to_string()), Ok(tomorrow));
    }

    #[test]
    fn dates_keep_the_calendar_day_whatever_the_form() {
        assert_eq!(parse_date("2020-08-17"), Ok(date!(2020 - 08 - 17)));
        assert_eq!(parse_date("8/17/2020"), Ok(date!(2020 - 08 - 17)));
        assert_eq!(parse_date("08/07/2020"), Ok(date!(2020 - 08 - 07)));
        assert_eq!(
            parse_date("2023-06-01T00:00:00Z"),
            Ok(date!(2023 - 06 - 01))
        );
        assert_eq!(
            parse_date("2023-06-01T23:30:00-07:00"),
            Ok(date!(2023 - 06 - 01))
        );
        assert_eq!(parse_date("2019-10-10 0:00:00"), Ok(date!(2019 - 10 - 10)));
        for bad in [
            "",
            "yesterday",
            "2019-02-30",
            "17/8/20",
            "2020-13-01",
            "1/2",
            "99999-1-1",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_is_decoded_and_line_ends_unified() {
        assert_eq!(
            clean_text(" it&#39;s steep &amp; &#x41;&quot; "),
            "it's steep & A\""
        );
        assert_eq!(clean_text("a\r\nb\rc"), "a\nb\nc");
        assert_eq!(clean_text("R&D &bogus; &#0; &"), "R&D &bogus; &#0; &");
        assert_eq!(clean_opt("  "), None);
    }

    #[test]
    fn identical_fields_get_distinct_keys_in_file_order() {
        let mut keys = Keys::default();
        let first = keys.key(Source::MountainProject, &["2020-01-01", "route"]);
        let second = keys.key(Source::MountainProject, &["2020-01-01", "route"]);
        let other = keys.key(Source::MountainProject, &["2020-01-01", "route", "x"]);

        assert_ne!(first, second);
        assert_ne!(first, other);
        assert!(first.starts_with("mp:") && first.len() == 3 + 24, "{first}");
        let mut again = Keys::default();
        assert_eq!(
            again.key(Source::MountainProject, &["2020-01-01", "route"]),
            first
        );
    }
}
