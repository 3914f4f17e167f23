//! `parse` never panics and accounts for every row, whatever it is given.

// Test helpers outside #[test] functions: clippy.toml's allow-unwrap-in-tests misses them.
#![allow(clippy::unwrap_used)]

use clmb_logbook::{Source, parse};
use proptest::prelude::*;

const HEADERS: [(Source, &str); 3] = [
    (
        Source::MountainProject,
        "Date,Route,Rating,Notes,URL,Pitches,Location,\"Avg Stars\",\"Your Stars\",Style,\
         \"Lead Style\",\"Route Type\",\"Your Rating\",Length,\"Rating Code\"",
    ),
    (
        Source::TheCrag,
        "Route Name,Ascent Label,Ascent ID,Ascent Link,Ascent Type,Route Grade,Ascent Grade,\
         Route Gear Style,Ascent Gear Style,Route Height,Ascent Height,# Ascents,Route Stars,\
         Route ID,Route Link,Country,Country Link,Crag Name,Crag Link,Crag Path,With,Comment,\
         Quality,Ascent Date,Log Date,Shot",
    ),
    (
        Source::EightA,
        "Route/Boulder Name,difficulty,Sector Name,Crag Name,Town,Country,type,Route or Boulder,\
         tries,date,first_ascent,rating,soft,hard,second_go,chipped,recommended,repeat,\
         with_kneepad,comment",
    ),
];

/// Field values real files hold, mixed with noise.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        prop::sample::select(vec![
            "2020-08-17",
            "8/17/2020",
            "2023-04-21T00:00:00Z",
            "2019-08-30 0:00:00",
            "2019-02-30",
            "5.10a/b PG13",
            "V4-5",
            "5.9 V2 R",
            "WI2",
            "5.10 A0",
            "V-easy",
            "7a+",
            "7A",
            "18",
            "Lead",
            "TR",
            "Send",
            "Fell/Hung",
            "Onsight",
            "Red point",
            "Top rope with rest",
            "os",
            "rp",
            "Trad, Sport",
            "Sport, TR, Alpine",
            "Ice",
            "Boulder",
            "Route",
            "Sport",
            "-1",
            "4",
            "NH > Rumney > Wall",
            "Yangshuo(阳朔)",
            "7715472699",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
        "[a-z ,\"\r\n]{0,12}",
    ]
}

fn csv_file(columns: usize) -> impl Strategy<Value = (Vec<Vec<String>>, bool)> {
    (
        prop::collection::vec(prop::collection::vec(field(), 0..columns + 2), 0..8),
        any::<bool>(),
    )
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), source in 0usize..3) {
        let _ = parse(HEADERS[source].0, &bytes);
    }

    #[test]
    fn arbitrary_text_after_a_real_header_never_panics(body in "\\PC{0,300}", source in 0usize..3) {
        let (source, header) = HEADERS[source];
        let text = format!("{header}\n{body}");
        let log = parse(source, text.as_bytes());
        prop_assert!(log.is_ok());
    }

    #[test]
    fn every_row_of_a_real_header_file_is_an_ascent_or_a_rejection(
        source in 0usize..3,
        (rows, crlf) in csv_file(26),
    ) {
        let (source, header) = HEADERS[source];
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
            .from_writer(Vec::new());
        // Rows with no field or one empty field are blank lines to CSV: not rows.
        let rows: Vec<Vec<String>> =
            rows.into_iter().filter(|r| !(r.is_empty() || r.len() == 1 && r[0].is_empty())).collect();
        for row in &rows {
            writer.write_record(row).unwrap();
        }
        let body = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        let text = format!("{header}{}{body}", if crlf { "\r\n" } else { "\n" });

        let log = parse(source, text.as_bytes()).unwrap();

        prop_assert_eq!(log.ascents.len() + log.rejected.len(), rows.len());
        let mut lines: Vec<u64> =
            log.ascents.iter().map(|a| a.line).chain(log.rejected.iter().map(|r| r.line)).collect();
        lines.sort_unstable();
        lines.dedup();
        prop_assert_eq!(lines.len(), rows.len());
        prop_assert!(lines.iter().all(|l| *l >= 2));
        for a in &log.ascents {
            prop_assert!(a.source_key.starts_with(source.key_prefix()));
            prop_assert_eq!(a.success, a.attempt_type.success());
        }
    }
}
