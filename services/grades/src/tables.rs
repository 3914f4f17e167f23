//! The built-in grade ladders, easiest first, each grade placed on the common scale.
//!
//! The common scale runs from 0 to about 110. From French 4a upward every French
//! sub-grade is two points: 4a = 36, 5a = 48, 6a = 60, 7a = 72, 8a = 84, 9a = 96.
//! Every other system is placed against it with the correspondences of OpenBeta's
//! open grade tables (`sandbag`, files `data/routes.csv` and `data/boulder.csv`, which
//! put all rope systems on one 0–107 score and V/Font on the same score), taking the
//! middle of each grade's band, then smoothed where that table jumps:
//!
//! * YDS 5.10a–5.12a: the 14 points between French 6a and 7a+ are shared evenly by the
//!   eight letter grades (1.75 each), so 5.10a = 6a and 5.12a = 7a+ exactly; from
//!   5.12a up one letter is one French sub-grade (5.13b = 8a, 5.14d = 9a), as on
//!   Mountain Project's and theCrag's charts.
//! * V scale: each V grade sits on the Font grade climbers pair it with (V0 = 4,
//!   V3 = 6A, V5 = 6C+, V6 = 7A, V8 = 7B, V11 = 8A, V17 = 9A), a little off it where a
//!   V grade spans two Font grades so that `nearest` picks the usual partner.
//! * UIAA and Ewbank: the middle of their band in the OpenBeta table; the easy UIAA
//!   grades below IV, which that table lumps together, are spaced evenly.
//!
//! Tests in `lib.rs` pin the correspondences (V5 ≈ 6C+, 5.10a ≈ 6a, 5.12a ≈ 7a+,
//! 8a ≈ 5.13b, …) and check that every ladder is strictly increasing.

use crate::GradeInfo;

/// Builds a ladder from `(label, difficulty)` pairs, numbering `difficulty_order`
/// from 0 in the given order.
const fn ladder<const N: usize>(src: [(&'static str, f64); N]) -> [GradeInfo; N] {
    let mut out = [GradeInfo {
        label: "",
        difficulty_order: 0,
        difficulty: 0.0,
    }; N];
    let mut i = 0;
    while i < N {
        out[i] = GradeInfo {
            label: src[i].0,
            difficulty_order: i as u32,
            difficulty: src[i].1,
        };
        i += 1;
    }
    out
}

/// Hueco V scale. `VB` (also written `V-easy`) is the grade below V0.
pub(crate) static V_SCALE: [GradeInfo; 19] = ladder([
    ("VB", 32.0),
    ("V0", 41.0),
    ("V1", 49.5),
    ("V2", 55.0),
    ("V3", 60.5),
    ("V4", 64.5),
    ("V5", 69.25),
    ("V6", 72.0),
    ("V7", 74.5),
    ("V8", 76.75),
    ("V9", 80.0),
    ("V10", 82.0),
    ("V11", 84.0),
    ("V12", 86.0),
    ("V13", 88.0),
    ("V14", 90.0),
    ("V15", 92.0),
    ("V16", 94.0),
    ("V17", 96.0),
]);

/// Fontainebleau boulder grades: plain numbers below 6A, letters (upper case) from 6A.
pub(crate) static FONT: [GradeInfo; 26] = ladder([
    ("3", 30.0),
    ("4-", 36.0),
    ("4", 40.0),
    ("4+", 44.0),
    ("5-", 47.0),
    ("5", 50.0),
    ("5+", 55.0),
    ("6A", 60.0),
    ("6A+", 62.0),
    ("6B", 64.0),
    ("6B+", 66.0),
    ("6C", 68.0),
    ("6C+", 70.0),
    ("7A", 72.0),
    ("7A+", 74.0),
    ("7B", 76.0),
    ("7B+", 78.0),
    ("7C", 80.0),
    ("7C+", 82.0),
    ("8A", 84.0),
    ("8A+", 86.0),
    ("8B", 88.0),
    ("8B+", 90.0),
    ("8C", 92.0),
    ("8C+", 94.0),
    ("9A", 96.0),
]);

/// Yosemite Decimal System, from Mountain Project's `Easy 5th` to 5.15d.
pub(crate) static YDS: [GradeInfo; 35] = ladder([
    ("Easy 5th", 5.5),
    ("5.0", 10.5),
    ("5.1", 14.5),
    ("5.2", 19.5),
    ("5.3", 23.5),
    ("5.4", 28.0),
    ("5.5", 33.0),
    ("5.6", 38.0),
    ("5.7", 43.0),
    ("5.8", 48.5),
    ("5.9", 54.0),
    ("5.10a", 60.0),
    ("5.10b", 61.75),
    ("5.10c", 63.5),
    ("5.10d", 65.25),
    ("5.11a", 67.0),
    ("5.11b", 68.75),
    ("5.11c", 70.5),
    ("5.11d", 72.25),
    ("5.12a", 74.0),
    ("5.12b", 76.0),
    ("5.12c", 78.0),
    ("5.12d", 80.0),
    ("5.13a", 82.0),
    ("5.13b", 84.0),
    ("5.13c", 86.0),
    ("5.13d", 88.0),
    ("5.14a", 90.0),
    ("5.14b", 92.0),
    ("5.14c", 94.0),
    ("5.14d", 96.0),
    ("5.15a", 98.0),
    ("5.15b", 100.0),
    ("5.15c", 102.0),
    ("5.15d", 104.0),
]);

/// French sport grades (lower case letters): 1, 2, 3, then 4a to 9c+ with every plus.
pub(crate) static FRENCH: [GradeInfo; 39] = ladder([
    ("1", 4.0),
    ("2", 16.0),
    ("3", 28.0),
    ("4a", 36.0),
    ("4a+", 38.0),
    ("4b", 40.0),
    ("4b+", 42.0),
    ("4c", 44.0),
    ("4c+", 46.0),
    ("5a", 48.0),
    ("5a+", 50.0),
    ("5b", 52.0),
    ("5b+", 54.0),
    ("5c", 56.0),
    ("5c+", 58.0),
    ("6a", 60.0),
    ("6a+", 62.0),
    ("6b", 64.0),
    ("6b+", 66.0),
    ("6c", 68.0),
    ("6c+", 70.0),
    ("7a", 72.0),
    ("7a+", 74.0),
    ("7b", 76.0),
    ("7b+", 78.0),
    ("7c", 80.0),
    ("7c+", 82.0),
    ("8a", 84.0),
    ("8a+", 86.0),
    ("8b", 88.0),
    ("8b+", 90.0),
    ("8c", 92.0),
    ("8c+", 94.0),
    ("9a", 96.0),
    ("9a+", 98.0),
    ("9b", 100.0),
    ("9b+", 102.0),
    ("9c", 104.0),
    ("9c+", 106.0),
]);

/// UIAA, written with Roman numerals (its official notation); arabic input is accepted.
pub(crate) static UIAA: [GradeInfo; 34] = ladder([
    ("I", 4.0),
    ("I+", 8.0),
    ("II-", 12.0),
    ("II", 16.0),
    ("II+", 20.0),
    ("III-", 24.0),
    ("III", 28.0),
    ("III+", 32.0),
    ("IV-", 34.5),
    ("IV", 36.5),
    ("IV+", 39.5),
    ("V-", 43.0),
    ("V", 47.0),
    ("V+", 51.0),
    ("VI-", 54.5),
    ("VI", 56.5),
    ("VI+", 59.5),
    ("VII-", 62.5),
    ("VII", 64.5),
    ("VII+", 66.5),
    ("VIII-", 70.0),
    ("VIII", 72.5),
    ("VIII+", 75.0),
    ("IX-", 78.0),
    ("IX", 80.5),
    ("IX+", 82.5),
    ("X-", 84.5),
    ("X", 86.5),
    ("X+", 88.5),
    ("XI-", 92.0),
    ("XI", 95.5),
    ("XI+", 100.0),
    ("XII-", 104.0),
    ("XII", 106.5),
]);

/// Ewbank (Australia, New Zealand, South Africa): plain numbers 1 to 39.
pub(crate) static EWBANK: [GradeInfo; 39] = ladder([
    ("1", 1.0),
    ("2", 4.0),
    ("3", 7.0),
    ("4", 10.0),
    ("5", 13.0),
    ("6", 16.0),
    ("7", 19.0),
    ("8", 22.0),
    ("9", 25.0),
    ("10", 28.0),
    ("11", 31.0),
    ("12", 34.0),
    ("13", 38.5),
    ("14", 42.0),
    ("15", 45.0),
    ("16", 48.5),
    ("17", 54.0),
    ("18", 59.0),
    ("19", 62.0),
    ("20", 64.5),
    ("21", 67.5),
    ("22", 69.5),
    ("23", 72.0),
    ("24", 74.5),
    ("25", 76.5),
    ("26", 78.5),
    ("27", 80.5),
    ("28", 82.5),
    ("29", 84.5),
    ("30", 86.5),
    ("31", 88.5),
    ("32", 90.5),
    ("33", 92.5),
    ("34", 94.5),
    ("35", 96.5),
    ("36", 98.5),
    ("37", 100.5),
    ("38", 102.5),
    ("39", 104.5),
]);
