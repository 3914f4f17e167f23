//! Climbing grade systems: what grades exist, how to read them, how they compare.
//!
//! Pure data and parsing, no I/O. The gyms service lists and validates grades with it,
//! the sessions service converts them for statistics, the logbook importer reads the
//! grades of other sites' exports with it.
//!
//! # Systems
//!
//! | [`GradeSystem`] | name (`as_str`) | family | ladder ([`GradeSystem::grades`]) |
//! | --- | --- | --- | --- |
//! | `VScale` | `v_scale` | boulder | `VB`, `V0` … `V17` |
//! | `Font` | `font` | boulder | `3`, `4-`, `4`, `4+`, `5-`, `5`, `5+`, `6A`, `6A+` … `9A` |
//! | `Yds` | `yds` | rope | `Easy 5th`, `5.0` … `5.9`, `5.10a` … `5.15d` |
//! | `French` | `french` | rope | `1`, `2`, `3`, `4a`, `4a+` … `9c+` |
//! | `Uiaa` | `uiaa` | rope | `I`, `I+`, `II-` … `XII` (Roman numerals) |
//! | `Ewbank` | `ewbank` | rope | `1` … `39` |
//!
//! # The common scale
//!
//! Every grade has a `difficulty` (`f64`) on one scale shared by all systems, so that
//! grades compare and convert across systems: roughly 0 to 110, where each French
//! sub-grade from 4a up is two points (6a = 60, 7a = 72, 8a = 84, 9a = 96). The tables
//! follow OpenBeta's open conversion tables; see the `tables` module source for the
//! details and the few places smoothed. Some anchors: V5 = 69.25 ≈ Font 6C+ = 70,
//! 5.10a = 6a = 60, 5.12a = 7a+ = 74, 5.13b = 8a = 84. Boulder and rope grades share
//! the scale (V3 ≈ 6A ≈ French 6a), so a conversion across families is possible,
//! though climbers rarely want one.
//!
//! Converting is [`GradeSystem::nearest`]: the ladder grade of the target system
//! closest in difficulty (the easier one on a tie).
//!
//! # Listed grades and modified grades
//!
//! [`GradeSystem::grades`] is each system's ladder, the grades `GET /grade-systems`
//! lists, with `difficulty_order` = position in the ladder (0 = easiest). [`parse`]
//! also accepts *modified* forms, which are grades of the system too (a gym may set
//! them, a climber may log them), placed between two ladder grades:
//!
//! * plus and minus: `V4+`, `V5-`, `5.9+`, `5.9-`: a quarter of the step to the next
//!   (previous) ladder grade;
//! * ranges and slashes: `V4-5`, `5.10a/b`, `6a+/6b`, `6C+/7A`, `VII+/VIII-`, `21/22`:
//!   the midpoint of the two neighbouring grades (only neighbours are accepted);
//! * letterless YDS from 5.10 up: `5.10-` a quarter of the way from 5.10a to 5.10b,
//!   `5.10` a quarter of the way from 5.10b to 5.10c (just below the middle of
//!   5.10a–d), `5.10+` a quarter of the way from 5.10c to 5.10d.
//!
//! So `V4 < V4+ < V4-5 < V5- < V5`, and `5.10a < 5.10- < 5.10a/b < 5.10b < 5.10 <
//! 5.10b/c < 5.10c < 5.10+ < 5.10c/d < 5.10d`, the order Mountain Project sorts them in.
//! A modified grade's canonical label (`V4-5`, `5.10a/b`, `6a+/6b`) is stored as is and
//! reads back identically; [`Grade::listed`] tells whether a grade is on the ladder and
//! [`Grade::nearest_listed`] gives the ladder grade it rounds to (for pyramids).
//!
//! # Reading grades
//!
//! [`parse`] with a system accepts every form of that system, letters in any case
//! (`7a` as Font becomes `7A`). Without a system it detects one:
//!
//! * `V…`, `VB`, `V-easy` → V scale; `5.…`, `Easy 5th` → YDS;
//! * a digit with a letter: lower case → French (`6a+`), upper case → Font (`6C+`);
//! * Roman numerals, or an arabic number with `+`/`-` → UIAA (`VII+`, `7-`);
//! * a plain number: below 10 → UIAA (`7` is VII), 10 and more → Ewbank (`21`);
//!   plain `10`–`12` are therefore Ewbank, write `X`, `XI`, `XII` for those UIAA grades.
//!
//! Consequently the labels of Font `3`…`5+`, French `1`…`3` and Ewbank `1`…`9` need their
//! system to be read back (the API always stores `grade_system` beside the grade);
//! every other label reads back as itself even without one. [`parse_for_family`]
//! detects among one family only, letters in any case (`6a` as a boulder grade is
//! Font 6A, a plain `5+` is Font), with the same rule for plain numbers on rope.
//!
//! White space anywhere is ignored (`V 5`, `5. 10a`). A trailing safety rating after
//! white space goes to [`Grade::safety`]: `PG13` (also `PG-13`, `PG 13`), `PG`, `R`,
//! `X`, `G`. A lone `X` is the UIAA grade. Anything else is a [`GradeError`] whose
//! message lists the accepted forms.
//!
//! [`Grade`]'s `Display` prints the label, then the safety after a space (`5.11a PG13`),
//! and `parse(&grade.to_string(), Some(grade.system))` gives back an equal grade.

mod parse;
mod tables;

use std::fmt;
use std::str::FromStr;

use parse::{Mode, normalise_body, parse_in, split_safety};

/// A built-in grade system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradeSystem {
    VScale,
    Font,
    Yds,
    French,
    Uiaa,
    Ewbank,
}

/// Whether a system grades boulders or roped climbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Boulder,
    Rope,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Boulder => "boulder",
            Family::Rope => "rope",
        }
    }

    /// The systems of this family, in the order detection tries them.
    pub fn systems(self) -> &'static [GradeSystem] {
        match self {
            Family::Boulder => &[GradeSystem::VScale, GradeSystem::Font],
            Family::Rope => &[
                GradeSystem::Yds,
                GradeSystem::French,
                GradeSystem::Uiaa,
                GradeSystem::Ewbank,
            ],
        }
    }
}

/// One grade of a system's ladder.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct GradeInfo {
    /// Canonical label, e.g. `V4`, `5.10a`, `6a+`, `VII-`.
    pub label: &'static str,
    /// Position in the system's ladder, 0 for the easiest.
    pub difficulty_order: u32,
    /// Place on the common scale shared by every system.
    pub difficulty: f64,
}

impl GradeSystem {
    /// Every built-in system: boulder systems first, then rope systems.
    pub const ALL: [GradeSystem; 6] = [
        GradeSystem::VScale,
        GradeSystem::Font,
        GradeSystem::Yds,
        GradeSystem::French,
        GradeSystem::Uiaa,
        GradeSystem::Ewbank,
    ];

    /// The API name: `v_scale`, `font`, `yds`, `french`, `uiaa`, `ewbank`.
    pub fn as_str(self) -> &'static str {
        match self {
            GradeSystem::VScale => "v_scale",
            GradeSystem::Font => "font",
            GradeSystem::Yds => "yds",
            GradeSystem::French => "french",
            GradeSystem::Uiaa => "uiaa",
            GradeSystem::Ewbank => "ewbank",
        }
    }

    /// A name people read: `V scale`, `Font`, `YDS`, `French`, `UIAA`, `Ewbank`.
    pub fn display_name(self) -> &'static str {
        match self {
            GradeSystem::VScale => "V scale",
            GradeSystem::Font => "Font",
            GradeSystem::Yds => "YDS",
            GradeSystem::French => "French",
            GradeSystem::Uiaa => "UIAA",
            GradeSystem::Ewbank => "Ewbank",
        }
    }

    /// The system with this API name (case-insensitive, `-` taken for `_`).
    pub fn from_name(name: &str) -> Option<GradeSystem> {
        let name = name.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn family(self) -> Family {
        match self {
            GradeSystem::VScale | GradeSystem::Font => Family::Boulder,
            GradeSystem::Yds | GradeSystem::French | GradeSystem::Uiaa | GradeSystem::Ewbank => {
                Family::Rope
            }
        }
    }

    /// The system's ladder, easiest first; never empty.
    pub fn grades(self) -> &'static [GradeInfo] {
        match self {
            GradeSystem::VScale => &tables::V_SCALE,
            GradeSystem::Font => &tables::FONT,
            GradeSystem::Yds => &tables::YDS,
            GradeSystem::French => &tables::FRENCH,
            GradeSystem::Uiaa => &tables::UIAA,
            GradeSystem::Ewbank => &tables::EWBANK,
        }
    }

    /// The first grade of the ladder (indexes a fixed-size array: checked when compiling).
    pub fn easiest(self) -> &'static GradeInfo {
        match self {
            GradeSystem::VScale => &tables::V_SCALE[0],
            GradeSystem::Font => &tables::FONT[0],
            GradeSystem::Yds => &tables::YDS[0],
            GradeSystem::French => &tables::FRENCH[0],
            GradeSystem::Uiaa => &tables::UIAA[0],
            GradeSystem::Ewbank => &tables::EWBANK[0],
        }
    }

    /// The ladder grade with exactly this canonical label (case-insensitive).
    pub fn find(self, label: &str) -> Option<&'static GradeInfo> {
        self.grades()
            .iter()
            .find(|g| g.label.eq_ignore_ascii_case(label))
    }

    /// Converts a difficulty into this system: the ladder grade closest to it, the
    /// easier one on a tie (and the easiest for NaN).
    pub fn nearest(self, difficulty: f64) -> &'static GradeInfo {
        let mut best = self.easiest();
        for g in self.grades() {
            if (g.difficulty - difficulty).abs() < (best.difficulty - difficulty).abs() {
                best = g;
            }
        }
        best
    }
}

impl fmt::Display for GradeSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GradeSystem {
    type Err = UnknownSystem;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GradeSystem::from_name(s).ok_or_else(|| UnknownSystem(s.chars().take(40).collect()))
    }
}

/// A grade system name that is not one of the built-ins.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown grade system `{0}`; known systems: v_scale, font, yds, french, uiaa, ewbank")]
pub struct UnknownSystem(pub String);

/// A grade as read from text: system, canonical label, difficulty and safety rating.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Grade {
    pub system: GradeSystem,
    /// Canonical label, e.g. `V4-5`, `5.10a/b`, `6a+`; never includes the safety.
    pub label: String,
    /// Place on the common scale.
    pub difficulty: f64,
    /// `PG`, `PG13`, `R`, `X` or `G` when the text carried one.
    pub safety: Option<String>,
}

impl Grade {
    pub fn family(&self) -> Family {
        self.system.family()
    }

    /// Whether the label is one of the system's ladder grades (not a modified form).
    pub fn listed(&self) -> bool {
        self.system.grades().iter().any(|g| g.label == self.label)
    }

    /// The ladder grade of its own system this grade rounds to (`V4+` → `V4`).
    pub fn nearest_listed(&self) -> &'static GradeInfo {
        self.system.nearest(self.difficulty)
    }

    /// This grade converted into another system.
    pub fn convert(&self, to: GradeSystem) -> &'static GradeInfo {
        to.nearest(self.difficulty)
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.safety {
            Some(safety) => write!(f, "{} {}", self.label, safety),
            None => f.write_str(&self.label),
        }
    }
}

impl FromStr for Grade {
    type Err = GradeError;

    /// Same as [`parse`] without a system.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s, None)
    }
}

/// What a failed parse was looking for; decides which forms the message lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    Any,
    System(GradeSystem),
    Family(Family),
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let systems: &[GradeSystem] = match self {
            Expected::Any => &GradeSystem::ALL,
            Expected::System(s) => std::slice::from_ref(s),
            Expected::Family(family) => family.systems(),
        };
        let forms: Vec<&str> = systems.iter().map(|s| forms(*s)).collect();
        write!(f, "accepted forms: {}", forms.join("; "))?;
        if matches!(self, Expected::Any | Expected::Family(Family::Rope)) {
            f.write_str(
                "; without a grade system a plain number below 10 is UIAA and 10 or more is Ewbank",
            )?;
        }
        if matches!(self, Expected::Any) {
            f.write_str(", a letter grade in lower case is French and in upper case Font")?;
        }
        f.write_str("; a safety rating PG, PG13, R or X may follow after a space")
    }
}

fn forms(system: GradeSystem) -> &'static str {
    match system {
        GradeSystem::VScale => {
            "V scale: VB (or V-easy), V0 to V17, with + or -, or two neighbours like V4-5"
        }
        GradeSystem::Font => {
            "Font: 3, 4-, 4, 4+, 5-, 5, 5+, 6A to 9A with +, or a slash like 6C+/7A"
        }
        GradeSystem::Yds => {
            "YDS: Easy 5th, 5.0 to 5.9 with + or -, 5.10a to 5.15d, a slash like 5.10a/b, \
             or no letter like 5.11, 5.11+, 5.11-"
        }
        GradeSystem::French => "French: 1, 2, 3, 4a to 9c+, or a slash like 6a+/6b",
        GradeSystem::Uiaa => "UIAA: I to XII or 1 to 12, with + or -, or a slash like VII+/VIII-",
        GradeSystem::Ewbank => "Ewbank: 1 to 39, or a slash like 21/22",
    }
}

/// Text that is not a grade (of the expected system or family).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GradeError {
    #[error("the grade is empty; {expected}")]
    Empty { expected: Expected },
    #[error("`{input}` is not {} grade; {expected}", article(*expected))]
    Unreadable {
        /// The offending text, cut to 40 characters.
        input: String,
        expected: Expected,
    },
}

fn article(expected: Expected) -> String {
    match expected {
        Expected::Any => "a known".to_owned(),
        Expected::System(s) => format!("a {}", s.display_name()),
        Expected::Family(f) => format!("a {}", f.as_str()),
    }
}

/// Longest text worth trying: real grades are short, and errors echo the input.
const MAX_INPUT: usize = 40;

/// Reads a grade. With `system`, the text must be a grade of that system; without,
/// the system is detected (see the crate docs for the rules).
pub fn parse(input: &str, system: Option<GradeSystem>) -> Result<Grade, GradeError> {
    match system {
        Some(s) => read(input, &[s], Mode::Explicit, Expected::System(s)),
        None => read(
            input,
            &GradeSystem::ALL,
            Mode::Detect { letter_case: true },
            Expected::Any,
        ),
    }
}

/// Reads a grade of one family, detecting which of its systems.
pub fn parse_for_family(input: &str, family: Family) -> Result<Grade, GradeError> {
    read(
        input,
        family.systems(),
        Mode::Detect { letter_case: false },
        Expected::Family(family),
    )
}

fn read(
    input: &str,
    systems: &[GradeSystem],
    mode: Mode,
    expected: Expected,
) -> Result<Grade, GradeError> {
    let unreadable = || GradeError::Unreadable {
        input: input.trim().chars().take(MAX_INPUT).collect(),
        expected,
    };
    if input.trim().is_empty() {
        return Err(GradeError::Empty { expected });
    }
    if input.len() > 4 * MAX_INPUT {
        return Err(unreadable());
    }
    let (text, safety) = split_safety(input);
    let body = normalise_body(text);
    systems
        .iter()
        .find_map(|&system| {
            parse_in(system, &body, mode).map(|p| Grade {
                system,
                label: p.label,
                difficulty: p.difficulty,
                safety: safety.map(str::to_owned),
            })
        })
        .ok_or_else(unreadable)
}

#[cfg(test)]
mod tests;
