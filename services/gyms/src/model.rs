//! The JSON shapes of the API: response bodies, request bodies and the names they use.

use clmb_grades::{Family, GradeSystem};
use serde::{Deserialize, Deserializer, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

/// What kind of climb a route is; `boulder` is graded in the gym's boulder system, the
/// others in its rope system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Discipline {
    Boulder,
    Sport,
    TopRope,
    Trad,
}

impl Discipline {
    pub const ALL: [Discipline; 4] = [
        Discipline::Boulder,
        Discipline::Sport,
        Discipline::TopRope,
        Discipline::Trad,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Discipline::Boulder => "boulder",
            Discipline::Sport => "sport",
            Discipline::TopRope => "top_rope",
            Discipline::Trad => "trad",
        }
    }

    pub fn from_name(name: &str) -> Option<Discipline> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }

    pub fn family(self) -> Family {
        match self {
            Discipline::Boulder => Family::Boulder,
            Discipline::Sport | Discipline::TopRope | Discipline::Trad => Family::Rope,
        }
    }

    pub fn of_family(family: Family) -> &'static [Discipline] {
        match family {
            Family::Boulder => &[Discipline::Boulder],
            Family::Rope => &[Discipline::Sport, Discipline::TopRope, Discipline::Trad],
        }
    }
}

/// The API name of a built-in grade system (documentation only: the values are
/// `clmb_grades::GradeSystem`, whose serde names these mirror; a test keeps them equal).
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GradeSystemName {
    VScale,
    Font,
    Yds,
    French,
    Uiaa,
    Ewbank,
}

/// A grade system by its exact API name (`v_scale`, not `V-Scale`).
pub fn system_by_name(name: &str) -> Option<GradeSystem> {
    GradeSystem::ALL.into_iter().find(|s| s.as_str() == name)
}

/// The names of a family's systems, for messages: `v_scale, font`.
pub fn family_system_names(family: Family) -> String {
    family
        .systems()
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The grade systems a gym grades its boulders and its roped routes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct GradeSystems {
    #[schema(value_type = GradeSystemName)]
    pub boulder: GradeSystem,
    #[schema(value_type = GradeSystemName)]
    pub rope: GradeSystem,
}

impl GradeSystems {
    pub const DEFAULT: GradeSystems = GradeSystems {
        boulder: GradeSystem::VScale,
        rope: GradeSystem::Yds,
    };

    pub fn for_family(self, family: Family) -> GradeSystem {
        match family {
            Family::Boulder => self.boulder,
            Family::Rope => self.rope,
        }
    }
}

/// A climbing gym. Every field is always present; optional ones are `null` when unset.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Gym {
    pub id: Uuid,
    pub name: String,
    /// Unique; made from the name when not given.
    pub slug: String,
    #[schema(required = true)]
    pub address: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    #[schema(required = true)]
    pub state: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[schema(required = true)]
    pub country: Option<String>,
    #[schema(required = true)]
    pub latitude: Option<f64>,
    #[schema(required = true)]
    pub longitude: Option<f64>,
    #[schema(required = true)]
    pub phone: Option<String>,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub website: Option<String>,
    #[schema(required = true)]
    pub description: Option<String>,
    pub grade_systems: GradeSystems,
    /// User ids of the gym's managers, earliest first.
    pub managers: Vec<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A route or boulder of a gym. Every field is always present, `null` when unset.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Route {
    pub id: Uuid,
    pub gym_id: Uuid,
    pub discipline: Discipline,
    /// Canonical label in `grade_system`, e.g. `V4`, `V4-5`, `5.10a/b`, `6a+`.
    pub grade: String,
    #[schema(value_type = GradeSystemName)]
    pub grade_system: GradeSystem,
    /// Place on the common scale all grade systems share (see `GET /grade-systems`).
    pub difficulty: f64,
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(required = true)]
    pub colour: Option<String>,
    #[schema(required = true)]
    pub section: Option<String>,
    #[schema(required = true)]
    pub setter: Option<String>,
    #[serde(with = "iso_date::option")]
    #[schema(required = true, value_type = Option<String>, format = Date)]
    pub set_on: Option<Date>,
    #[serde(with = "iso_date::option")]
    #[schema(required = true, value_type = Option<String>, format = Date)]
    pub stripped_on: Option<Date>,
    /// False once the route is stripped (archived); then `stripped_on` is set.
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Reads a field that may be absent (leave it), `null` (clear it) or a value (set it).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Grade systems as a request names them; a missing one keeps its current value (on
/// create: `v_scale` for boulder, `yds` for rope).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeSystemsInput {
    /// `v_scale` or `font`.
    #[schema(value_type = Option<GradeSystemName>)]
    pub boulder: Option<String>,
    /// `yds`, `french`, `uiaa` or `ewbank`.
    #[schema(value_type = Option<GradeSystemName>)]
    pub rope: Option<String>,
}

/// A new gym. Only `name` is required; empty optional texts are stored as `null`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGym {
    /// 1 to 200 characters.
    #[schema(required = true, value_type = String)]
    pub name: Option<String>,
    /// Lower-case letters, digits and single dashes, at most 100; made from the name
    /// when absent. An explicit slug another gym has is 409.
    pub slug: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    /// ISO 3166-1 alpha-2 in upper case, e.g. `CH`.
    pub country: Option<String>,
    /// -90..90; give both coordinates or neither.
    pub latitude: Option<f64>,
    /// -180..180; give both coordinates or neither.
    pub longitude: Option<f64>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// An `http://` or `https://` address.
    pub website: Option<String>,
    pub description: Option<String>,
    pub grade_systems: Option<GradeSystemsInput>,
}

/// A partial update of a gym: absent fields stay, `null` clears an optional field.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGym {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub slug: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub state: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<GradeSystemsInput>)]
    pub grade_systems: Option<Option<GradeSystemsInput>>,
}

/// `{user_id}` of the user to make a manager.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddManager {
    pub user_id: Uuid,
}

/// A new route. `discipline` and `grade` are required.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoute {
    #[schema(required = true, value_type = Discipline)]
    pub discipline: Option<String>,
    /// A grade of the gym's system for the discipline's family, in any form the grade
    /// parser reads (`v5`, `V 5`, `V4-5`, `5.10a/b`, `5.11`); stored canonically.
    #[schema(value_type = String)]
    pub grade: Option<String>,
    pub name: Option<String>,
    pub colour: Option<String>,
    pub section: Option<String>,
    pub setter: Option<String>,
    /// `YYYY-MM-DD`; defaults to today (UTC).
    #[schema(format = Date)]
    pub set_on: Option<String>,
    /// `YYYY-MM-DD`; only for a route created already stripped (`active: false`).
    #[schema(format = Date)]
    pub stripped_on: Option<String>,
    /// Defaults to true.
    pub active: Option<bool>,
}

/// A partial update of a route: absent fields stay, `null` clears an optional field.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoute {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Discipline>)]
    pub discipline: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub grade: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub colour: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub section: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub setter: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date)]
    pub set_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date)]
    pub stripped_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    pub active: Option<Option<bool>>,
}

/// One grade of a system's ladder.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GradeEntry {
    pub label: &'static str,
    /// Position in the ladder, 0 for the easiest.
    pub difficulty_order: u32,
    /// Place on the common scale all systems share: grades of different systems
    /// compare by it.
    pub difficulty: f64,
}

/// A built-in grade system with its grades, easiest first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GradeSystemEntry {
    #[schema(value_type = GradeSystemName)]
    pub name: GradeSystem,
    #[schema(value_type = String, example = "boulder")]
    pub family: Family,
    pub grades: Vec<GradeEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_system_names_are_the_grade_crate_names() {
        let documented = [
            GradeSystemName::VScale,
            GradeSystemName::Font,
            GradeSystemName::Yds,
            GradeSystemName::French,
            GradeSystemName::Uiaa,
            GradeSystemName::Ewbank,
        ];

        let names: Vec<String> = documented
            .iter()
            .map(|n| serde_json::to_string(n).unwrap())
            .collect();
        let expected: Vec<String> = GradeSystem::ALL
            .iter()
            .map(|s| format!("\"{}\"", s.as_str()))
            .collect();

        assert_eq!(names, expected);
    }

    #[test]
    fn an_update_tells_an_absent_field_from_a_null_one() {
        let update: UpdateGym = serde_json::from_str(r#"{"city": null, "name": "X"}"#).unwrap();

        assert_eq!(update.city, Some(None));
        assert_eq!(update.name, Some(Some("X".to_owned())));
        assert_eq!(update.state, None);
    }
}
