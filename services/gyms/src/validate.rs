//! Checking whole requests before anything is written. Each check collects every
//! problem it finds, so one 422 names every invalid field.
//!
//! Create and update share one path: an update is applied to the stored values first
//! and the result is checked as a whole (latitude without longitude is caught whichever
//! request brought it).

use clmb_common::{ApiResult, Validator};
use clmb_grades::{Family, Grade, GradeSystem};
use time::Date;

use crate::model::{
    CreateGym, CreateRoute, Discipline, GradeSystems, GradeSystemsInput, Gym, Route, UpdateGym,
    UpdateRoute, family_system_names, system_by_name,
};
use crate::text;

/// Every editable field of a gym as text and numbers, before checking.
#[derive(Clone, Debug, Default)]
pub struct GymInput {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub boulder_system: Option<String>,
    pub rope_system: Option<String>,
    /// Set when the request sent `null` where no null is allowed.
    pub nulls: Vec<&'static str>,
}

/// A gym's fields after checking: trimmed, empty texts gone, systems resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidGym {
    pub name: String,
    /// `None` on create means "make one from the name".
    pub slug: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub grade_systems: GradeSystems,
}

impl GymInput {
    pub fn from_create(body: CreateGym) -> Self {
        let systems = body.grade_systems.unwrap_or_default();
        Self {
            name: body.name,
            slug: body.slug,
            address: body.address,
            city: body.city,
            state: body.state,
            country: body.country,
            latitude: body.latitude,
            longitude: body.longitude,
            phone: body.phone,
            email: body.email,
            website: body.website,
            description: body.description,
            boulder_system: systems.boulder,
            rope_system: systems.rope,
            nulls: Vec::new(),
        }
    }

    /// The stored gym with an update applied on top.
    pub fn from_update(gym: &Gym, update: UpdateGym) -> Self {
        let mut nulls = Vec::new();
        let mut required =
            |field: &'static str, value: Option<Option<String>>, current: &str| match value {
                None => Some(current.to_owned()),
                Some(None) => {
                    nulls.push(field);
                    None
                }
                Some(Some(value)) => Some(value),
            };
        let name = required("name", update.name, &gym.name);
        let slug = required("slug", update.slug, &gym.slug);
        let systems = match update.grade_systems {
            None => GradeSystemsInput::default(),
            Some(None) => {
                nulls.push("grade_systems");
                GradeSystemsInput::default()
            }
            Some(Some(systems)) => systems,
        };
        fn merge<T: Clone>(value: Option<Option<T>>, current: &Option<T>) -> Option<T> {
            value.unwrap_or_else(|| current.clone())
        }
        Self {
            name,
            slug,
            address: merge(update.address, &gym.address),
            city: merge(update.city, &gym.city),
            state: merge(update.state, &gym.state),
            country: merge(update.country, &gym.country),
            latitude: merge(update.latitude, &gym.latitude),
            longitude: merge(update.longitude, &gym.longitude),
            phone: merge(update.phone, &gym.phone),
            email: merge(update.email, &gym.email),
            website: merge(update.website, &gym.website),
            description: merge(update.description, &gym.description),
            boulder_system: Some(
                systems
                    .boulder
                    .unwrap_or_else(|| gym.grade_systems.boulder.as_str().to_owned()),
            ),
            rope_system: Some(
                systems
                    .rope
                    .unwrap_or_else(|| gym.grade_systems.rope.as_str().to_owned()),
            ),
            nulls,
        }
    }

    pub fn validate(self) -> ApiResult<ValidGym> {
        let mut v = Validator::new();
        for field in &self.nulls {
            v.add(*field, "cannot be null");
        }

        let name = trimmed(self.name);
        match &name {
            None if !self.nulls.contains(&"name") => v.add("name", "is required"),
            _ => v.length("name", name.as_deref(), 1, 200),
        }
        let slug = trimmed(self.slug);
        if let Some(slug) = &slug
            && !text::is_slug(slug)
        {
            v.add(
                "slug",
                "must be lower-case letters and digits joined by single dashes, at most 100 \
                 characters, like `the-arch-2`",
            );
        }
        let address = trimmed(self.address);
        v.length("address", address.as_deref(), 1, 300);
        let city = trimmed(self.city);
        v.length("city", city.as_deref(), 1, 100);
        let state = trimmed(self.state);
        v.length("state", state.as_deref(), 1, 100);
        let country = trimmed(self.country);
        if let Some(country) = &country
            && !text::is_country_code(country)
        {
            v.add(
                "country",
                "must be an ISO 3166-1 alpha-2 code in upper case, like `CH`",
            );
        }
        coordinates(&mut v, self.latitude, self.longitude);
        let phone = trimmed(self.phone);
        if let Some(phone) = &phone
            && !is_phone(phone)
        {
            v.add("phone", "must be 3 to 40 digits, spaces and + - ( ) . /");
        }
        let email = trimmed(self.email);
        if let Some(email) = &email
            && !is_email(email)
        {
            v.add("email", "must be an email address like `desk@example.com`");
        }
        let website = trimmed(self.website);
        if let Some(website) = &website
            && !is_website(website)
        {
            v.add(
                "website",
                "must be an http:// or https:// address of at most 500 characters",
            );
        }
        let description = trimmed(self.description);
        v.length("description", description.as_deref(), 1, 5000);
        let boulder = system_of(
            &mut v,
            "grade_systems.boulder",
            self.boulder_system,
            Family::Boulder,
        );
        let rope = system_of(&mut v, "grade_systems.rope", self.rope_system, Family::Rope);

        v.finish()?;
        Ok(ValidGym {
            name: name.unwrap_or_default(),
            slug,
            address,
            city,
            state,
            country,
            latitude: self.latitude,
            longitude: self.longitude,
            phone,
            email,
            website,
            description,
            grade_systems: GradeSystems {
                boulder: boulder.unwrap_or(GradeSystems::DEFAULT.boulder),
                rope: rope.unwrap_or(GradeSystems::DEFAULT.rope),
            },
        })
    }
}

/// Trims text; empty text counts as absent.
fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn coordinates(v: &mut Validator, latitude: Option<f64>, longitude: Option<f64>) {
    v.range("latitude", latitude, -90.0, 90.0);
    v.range("longitude", longitude, -180.0, 180.0);
    match (latitude, longitude) {
        (Some(_), None) => v.add("longitude", "is required when latitude is given"),
        (None, Some(_)) => v.add("latitude", "is required when longitude is given"),
        _ => {}
    }
}

fn is_phone(phone: &str) -> bool {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    phone.chars().count() <= 40
        && digits >= 3
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().//".contains(c))
}

fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_website(website: &str) -> bool {
    let lower = website.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    website.len() <= 500
        && rest.is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty() && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        })
}

/// Resolves a system name and checks it grades `family`.
fn system_of(
    v: &mut Validator,
    field: &str,
    name: Option<String>,
    family: Family,
) -> Option<GradeSystem> {
    let name = name?;
    match system_by_name(&name) {
        Some(system) if system.family() == family => Some(system),
        Some(system) => {
            v.add(
                field,
                format!(
                    "`{}` is a {} system; {} grades are one of {}",
                    system.as_str(),
                    system.family().as_str(),
                    family.as_str(),
                    family_system_names(family)
                ),
            );
            None
        }
        None => {
            v.add(
                field,
                format!(
                    "unknown grade system; one of {}",
                    family_system_names(family)
                ),
            );
            None
        }
    }
}

/// Every editable field of a route, before checking.
#[derive(Clone, Debug, Default)]
pub struct RouteInput {
    pub discipline: Option<String>,
    pub grade: Option<String>,
    /// The stored grade, kept when neither the grade nor the discipline's family
    /// changes (so a route keeps its system after the gym switches systems).
    pub kept_grade: Option<Grade>,
    pub name: Option<String>,
    pub colour: Option<String>,
    pub section: Option<String>,
    pub setter: Option<String>,
    pub set_on: DateInput,
    pub stripped_on: DateInput,
    pub active: Option<bool>,
    pub nulls: Vec<&'static str>,
}

/// A date as sent (text to read) or as stored.
#[derive(Clone, Debug, Default)]
pub enum DateInput {
    #[default]
    Absent,
    Text(String),
    Stored(Date),
}

impl DateInput {
    fn from_text(text: Option<String>) -> Self {
        text.map_or(DateInput::Absent, DateInput::Text)
    }

    fn read(self, v: &mut Validator, field: &str) -> Option<Date> {
        match self {
            DateInput::Absent => None,
            DateInput::Stored(date) => Some(date),
            DateInput::Text(text) => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                match Date::parse(text.trim(), format) {
                    Ok(date) => Some(date),
                    Err(_) => {
                        v.add(field, "must be a date like `2026-12-03`");
                        None
                    }
                }
            }
        }
    }
}

/// A route's fields after checking.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidRoute {
    pub discipline: Discipline,
    pub grade: Grade,
    pub name: Option<String>,
    pub colour: Option<String>,
    pub section: Option<String>,
    pub setter: Option<String>,
    pub set_on: Option<Date>,
    pub stripped_on: Option<Date>,
    pub active: bool,
}

impl RouteInput {
    pub fn from_create(body: CreateRoute, today: Date) -> Self {
        Self {
            discipline: body.discipline,
            grade: body.grade,
            kept_grade: None,
            name: body.name,
            colour: body.colour,
            section: body.section,
            setter: body.setter,
            set_on: body
                .set_on
                .map_or(DateInput::Stored(today), DateInput::Text),
            stripped_on: DateInput::from_text(body.stripped_on),
            active: body.active,
            nulls: Vec::new(),
        }
    }

    /// The stored route with an update applied on top.
    pub fn from_update(route: &Route, update: UpdateRoute) -> Self {
        let mut nulls = Vec::new();
        let discipline = match update.discipline {
            None => Some(route.discipline.as_str().to_owned()),
            Some(None) => {
                nulls.push("discipline");
                None
            }
            Some(value) => value,
        };
        let new_family = discipline
            .as_deref()
            .and_then(Discipline::from_name)
            .map(Discipline::family);
        let (grade, kept_grade) = match update.grade {
            None if new_family == Some(route.discipline.family()) => {
                let kept = Grade {
                    system: route.grade_system,
                    label: route.grade.clone(),
                    difficulty: route.difficulty,
                    safety: None,
                };
                (None, Some(kept))
            }
            // The family changed: the stored grade must now read in the other system.
            None => (Some(route.grade.clone()), None),
            Some(None) => {
                nulls.push("grade");
                (None, None)
            }
            Some(value) => (value, None),
        };
        let date = |value: Option<Option<String>>, current: Option<Date>| match value {
            None => current.map_or(DateInput::Absent, DateInput::Stored),
            Some(value) => DateInput::from_text(value),
        };
        let active = match update.active {
            None => Some(route.active),
            Some(None) => {
                nulls.push("active");
                None
            }
            Some(value) => value,
        };
        // Re-opening a route clears its strip date unless the request sets one (which
        // is then refused as contradictory).
        let stripped_on = match (&update.stripped_on, update.active) {
            (None, Some(Some(true))) => DateInput::Absent,
            _ => date(update.stripped_on.clone(), route.stripped_on),
        };
        Self {
            discipline,
            grade,
            kept_grade,
            name: update.name.unwrap_or_else(|| route.name.clone()),
            colour: update.colour.unwrap_or_else(|| route.colour.clone()),
            section: update.section.unwrap_or_else(|| route.section.clone()),
            setter: update.setter.unwrap_or_else(|| route.setter.clone()),
            set_on: date(update.set_on, route.set_on),
            stripped_on,
            active,
            nulls,
        }
    }

    /// Checks the route against the gym's grade systems; `today` is the strip date of
    /// a route archived without one.
    pub fn validate(self, systems: GradeSystems, today: Date) -> ApiResult<ValidRoute> {
        let mut v = Validator::new();
        for field in &self.nulls {
            v.add(*field, "cannot be null");
        }

        let discipline = match self.discipline.as_deref() {
            None if self.nulls.contains(&"discipline") => None,
            None => {
                v.add("discipline", "is required");
                None
            }
            Some(name) => {
                let found = Discipline::from_name(name);
                if found.is_none() {
                    v.add(
                        "discipline",
                        "must be one of boulder, sport, top_rope, trad",
                    );
                }
                found
            }
        };
        let grade = match (self.kept_grade, self.grade, discipline) {
            (Some(kept), _, _) => Some(kept),
            (None, None, _) => {
                if !self.nulls.contains(&"grade") {
                    v.add("grade", "is required");
                }
                None
            }
            // Without a valid discipline there is no system to read the grade in.
            (None, Some(_), None) => None,
            (None, Some(text), Some(discipline)) => {
                read_grade(&mut v, &text, systems.for_family(discipline.family()))
            }
        };
        let name = trimmed(self.name);
        v.length("name", name.as_deref(), 1, 100);
        let colour = trimmed(self.colour);
        v.length("colour", colour.as_deref(), 1, 50);
        let section = trimmed(self.section);
        v.length("section", section.as_deref(), 1, 100);
        let setter = trimmed(self.setter);
        v.length("setter", setter.as_deref(), 1, 100);
        let set_on = self.set_on.read(&mut v, "set_on");
        let explicit_strip = matches!(self.stripped_on, DateInput::Text(_));
        let mut stripped_on = self.stripped_on.read(&mut v, "stripped_on");
        let active = self.active.unwrap_or(true);
        if active && stripped_on.is_some() {
            v.add(
                "stripped_on",
                "must be null while the route is active; send `\"active\": false` to archive it",
            );
        } else if !active && stripped_on.is_none() {
            stripped_on = Some(today);
        }
        if let (Some(set), Some(stripped)) = (set_on, stripped_on)
            && stripped < set
            && !active
        {
            let field = if explicit_strip {
                "stripped_on"
            } else {
                "set_on"
            };
            v.add(field, "a route cannot be stripped before it was set");
        }

        v.finish()?;
        let (Some(discipline), Some(grade)) = (discipline, grade) else {
            // `finish` has refused every path that leaves either unset.
            return Err(clmb_common::ApiError::validation("grade", "is required"));
        };
        Ok(ValidRoute {
            discipline,
            grade,
            name,
            colour,
            section,
            setter,
            set_on,
            stripped_on,
            active,
        })
    }
}

/// Reads a route grade in the gym's system; the parser's message names the accepted
/// forms when it cannot.
fn read_grade(v: &mut Validator, text: &str, system: GradeSystem) -> Option<Grade> {
    match clmb_grades::parse(text, Some(system)) {
        Ok(grade) if grade.safety.is_some() => {
            v.add(
                "grade",
                "safety ratings (PG, PG13, R, X) are not recorded for gym routes; send the \
                 grade without one",
            );
            None
        }
        Ok(grade) => Some(grade),
        Err(error) => {
            v.add(
                "grade",
                format!("{error} (this gym grades in {})", system.as_str()),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clmb_common::ApiError;

    fn fields(result: ApiResult<impl std::fmt::Debug>) -> Vec<String> {
        match result {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_gym_with_only_a_name_gets_the_default_systems() {
        let input = GymInput {
            name: Some("  The Arch ".into()),
            ..GymInput::default()
        };

        let gym = input.validate().unwrap();

        assert_eq!(gym.name, "The Arch");
        assert_eq!(gym.grade_systems, GradeSystems::DEFAULT);
        assert_eq!(gym.slug, None);
    }

    #[test]
    fn every_invalid_gym_field_is_named() {
        let input = GymInput {
            name: Some(" ".into()),
            slug: Some("Not A Slug".into()),
            country: Some("ch".into()),
            latitude: Some(91.0),
            phone: Some("call us".into()),
            email: Some("nope".into()),
            website: Some("ftp://x".into()),
            boulder_system: Some("yds".into()),
            rope_system: Some("nope".into()),
            ..GymInput::default()
        };

        let named = fields(input.validate());

        for field in [
            "name",
            "slug",
            "country",
            "latitude",
            "longitude",
            "phone",
            "email",
            "website",
            "grade_systems.boulder",
            "grade_systems.rope",
        ] {
            assert!(
                named.contains(&field.to_owned()),
                "{field} missing from {named:?}"
            );
        }
    }

    #[test]
    fn a_route_grade_reads_in_the_gyms_system_for_its_family() {
        let today = time::macros::date!(2026 - 12 - 03);
        let input = RouteInput {
            discipline: Some("sport".into()),
            grade: Some("5.10 a/b".into()),
            set_on: DateInput::Stored(today),
            ..RouteInput::default()
        };

        let route = input.validate(GradeSystems::DEFAULT, today).unwrap();

        assert_eq!(route.grade.label, "5.10a/b");
        assert_eq!(route.grade.system, GradeSystem::Yds);
        assert!(route.active);
    }

    #[test]
    fn an_archived_route_without_a_date_is_stripped_today() {
        let today = time::macros::date!(2026 - 12 - 03);
        let input = RouteInput {
            discipline: Some("boulder".into()),
            grade: Some("v3".into()),
            active: Some(false),
            ..RouteInput::default()
        };

        let route = input.validate(GradeSystems::DEFAULT, today).unwrap();

        assert_eq!(route.stripped_on, Some(today));
        assert!(!route.active);
    }
}
