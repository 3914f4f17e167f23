//! Importing a later export of the same logbook: old ascents keep their keys.

// Test helpers outside #[test] functions: clippy.toml's allow-unwrap-in-tests misses them.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use clmb_logbook::{LogbookError, Source, parse};

fn fixture(path: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");
    std::fs::read(format!("{dir}/{path}")).unwrap()
}

/// The file's header and records, read with the csv crate.
fn records(bytes: &[u8]) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header = reader.headers().unwrap().clone();
    (header, reader.records().map(Result::unwrap).collect())
}

fn write(header: &csv::StringRecord, rows: &[csv::StringRecord], crlf: bool) -> Vec<u8> {
    let terminator = if crlf {
        csv::Terminator::CRLF
    } else {
        csv::Terminator::Any(b'\n')
    };
    let mut writer = csv::WriterBuilder::new()
        .terminator(terminator)
        .from_writer(Vec::new());
    writer.write_record(header).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    let mut bytes = writer.into_inner().unwrap();
    if crlf {
        bytes.splice(0..0, "\u{feff}".bytes());
    }
    bytes
}

/// Keys with what they identify (date, route, notes), to compare across files.
fn keyed(bytes: &[u8], source: Source) -> HashMap<String, (time::Date, String, Option<String>)> {
    let log = parse(source, bytes).unwrap();
    log.ascents
        .into_iter()
        .map(|a| (a.source_key, (a.local_date, a.route_name, a.notes)))
        .collect()
}

#[test]
fn a_later_export_with_new_rows_anywhere_keeps_every_old_key() {
    for (source, path) in [
        (
            Source::MountainProject,
            "mountain-project/alpine-aid-multipitch.csv",
        ),
        (
            Source::MountainProject,
            "mountain-project/boulders-crlf-ice.csv",
        ),
        (Source::EightA, "8a/sample.csv"),
        (Source::TheCrag, "thecrag/sample.csv"),
    ] {
        let original = fixture(path);
        let (header, rows) = records(&original);
        let before = keyed(&original, source);

        // New ticks at the start, in the middle and at the end, including one more
        // identical lap of an existing row; old rows reversed; CRLF and a BOM.
        let mut changed: Vec<csv::StringRecord> = rows.iter().rev().cloned().collect();
        let mut new_first = rows[0].clone();
        let mut new_middle = rows[rows.len() / 2].clone();
        let fresh = |r: &mut csv::StringRecord, tag: &str| {
            let mut fields: Vec<String> = r.iter().map(str::to_owned).collect();
            for (i, name) in header.iter().enumerate() {
                if ["Notes", "comment", "Comment"].contains(&name) {
                    fields[i] = format!("new tick {tag}");
                }
                if name == "Ascent ID" {
                    fields[i] = format!("99{tag}");
                }
            }
            *r = csv::StringRecord::from(fields);
        };
        fresh(&mut new_first, "1");
        fresh(&mut new_middle, "2");
        changed.insert(0, new_first);
        let middle = changed.len() / 2;
        changed.insert(middle, new_middle);
        changed.push(rows[rows.len() - 1].clone());
        let reexport = write(&header, &changed, true);
        let after = keyed(&reexport, source);

        for (key, what) in &before {
            assert_eq!(after.get(key), Some(what), "{path}: {key} lost or changed");
        }
        let added = usize::from(source != Source::TheCrag) + 2;
        assert_eq!(after.len(), before.len() + added, "{path}");
    }
}

#[test]
fn the_same_file_twice_gives_the_same_keys_in_the_same_order() {
    let bytes = fixture("mountain-project/alpine-aid-multipitch.csv");

    let first = parse(Source::MountainProject, &bytes).unwrap();
    let second = parse(Source::MountainProject, &bytes).unwrap();

    assert_eq!(first, second);
}

#[test]
fn files_that_are_not_the_source_format_are_errors_naming_the_problem() {
    let mp = fixture("mountain-project/sport-trad-clean.csv");

    let wrong = parse(Source::TheCrag, &mp).unwrap_err();
    assert!(
        matches!(&wrong, LogbookError::MissingColumns { missing, .. } if missing.contains(&"Ascent ID"))
    );
    assert!(wrong.to_string().contains("`Route Name`"), "{wrong}");
    assert_eq!(parse(Source::EightA, b"").unwrap_err(), LogbookError::Empty);
    assert_eq!(
        parse(Source::EightA, b" \r\n").unwrap_err(),
        LogbookError::Empty
    );
    assert!(matches!(
        parse(Source::MountainProject, b"Date,\xff\xfe").unwrap_err(),
        LogbookError::NotUtf8 { offset: 5 }
    ));
    // Header only: a valid, empty log.
    let header_only = parse(
        Source::MountainProject,
        "Date,Route,Rating,Location,Route Type\n".as_bytes(),
    )
    .unwrap();
    assert!(header_only.ascents.is_empty() && header_only.rejected.is_empty());
}

#[test]
fn columns_are_found_by_name_in_any_order_and_bad_rows_say_why() {
    let csv = "\u{feff}route type,LOCATION,Rating,Route,Date,Style,Extra\r\n\
        Sport,\"Utah > Maple Canyon > Pipe Dream\",5.11c,\"Says \"\"hi\"\", twice\",8/7/2021,Lead,x\r\n\
        Sport,\"Utah > Maple\",5.11c,Nameless,13/7/2021,Lead,x\r\n\
        Sport,\"Utah > Maple\",5.11q,Bad Grade,8/7/2021,Lead,x\r\n\
        Sport,\"Utah > Maple\",5.11c,Odd Style,8/7/2021,Dyno,x\r\n\
        ,,,,,,\r\n\
        Boulder,\"Utah > Joe's\",V3,Short row\r\n";

    let log = parse(Source::MountainProject, csv.as_bytes()).unwrap();

    assert_eq!(log.ascents.len(), 1);
    let a = &log.ascents[0];
    assert_eq!(a.route_name, "Says \"hi\", twice");
    assert_eq!(a.local_date, time::macros::date!(2021 - 08 - 07));
    assert_eq!(a.crag, "Utah > Maple Canyon");
    let reasons: Vec<(u64, &str)> = log
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(
        reasons[0].0 == 3 && reasons[0].1.contains("13/7/2021"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == 4 && reasons[1].1.contains("accepted forms"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].0 == 5 && reasons[2].1.contains("Dyno"),
        "{reasons:?}"
    );
    assert!(
        reasons[3].0 == 6 && reasons[3].1.contains("empty"),
        "{reasons:?}"
    );
    assert!(
        reasons[4].0 == 7 && reasons[4].1.contains("date"),
        "{reasons:?}"
    );
}
