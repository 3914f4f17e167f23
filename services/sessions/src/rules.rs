//! The rules of a logged climb: how ascent style, success and attempts fit together, and
//! how a grade is read for a discipline.

use clmb_common::Validator;
use clmb_grades::{Family, Grade, GradeSystem};

pub const DISCIPLINES: &[&str] = &["boulder", "sport", "top_rope", "trad"];
pub const ATTEMPT_TYPES: &[&str] = &["onsight", "flash", "redpoint", "repeat", "attempt"];

pub fn family_of(discipline: &str) -> Family {
    if discipline == "boulder" {
        Family::Boulder
    } else {
        Family::Rope
    }
}

/// A consistent (attempt type, success, attempts) triple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub attempt_type: String,
    pub success: bool,
    pub attempts: i32,
}

/// Applies the rules of api.md: `onsight` and `flash` mean one attempt and a send;
/// `redpoint` and `repeat` mean a send; `attempt` means no send. A contradiction is an
/// error on the contradicting field; what is missing is derived. Without an attempt
/// type, it is derived from the rest: a send on the first go is a flash, a send after
/// more is a redpoint, no send is an attempt.
pub fn resolve_outcome(
    check: &mut Validator,
    attempt_type: Option<&str>,
    success: Option<bool>,
    attempts: Option<i32>,
) -> Option<Outcome> {
    if let Some(n) = attempts
        && n < 1
    {
        check.add("attempts", "must be at least 1");
        return None;
    }
    let attempt_type = match attempt_type {
        Some(kind) if ATTEMPT_TYPES.contains(&kind) => kind.to_owned(),
        Some(_) => {
            check.add(
                "attempt_type",
                format!("must be one of: {}", ATTEMPT_TYPES.join(", ")),
            );
            return None;
        }
        None => match (success, attempts) {
            (Some(true), Some(1)) => "flash".to_owned(),
            (Some(true), _) => "redpoint".to_owned(),
            (Some(false), _) => "attempt".to_owned(),
            (None, _) => {
                check.add("attempt_type", "is required unless `success` is given");
                return None;
            }
        },
    };
    let sends = attempt_type != "attempt";
    if success.is_some_and(|s| s != sends) {
        let message = if sends {
            format!("must be true for `{attempt_type}`")
        } else {
            "must be false for `attempt`".to_owned()
        };
        check.add("success", message);
        return None;
    }
    let single_go = matches!(attempt_type.as_str(), "onsight" | "flash");
    if single_go && attempts.is_some_and(|n| n != 1) {
        check.add("attempts", format!("must be 1 for `{attempt_type}`"));
        return None;
    }
    Some(Outcome {
        attempt_type,
        success: sends,
        attempts: attempts.unwrap_or(1),
    })
}

/// Reads a grade for a discipline, in `system` when named, else in whichever system of
/// the discipline's family reads it.
pub fn read_grade(
    check: &mut Validator,
    discipline: &str,
    grade: &str,
    system: Option<&str>,
) -> Option<Grade> {
    let family = family_of(discipline);
    let system = match system.map(|name| (name, GradeSystem::from_name(name))) {
        None => None,
        Some((_, Some(system))) if system.family() == family => Some(system),
        Some((name, _)) => {
            let names: Vec<&str> = GradeSystem::ALL
                .iter()
                .filter(|s| s.family() == family)
                .map(|s| s.as_str())
                .collect();
            check.add(
                "grade_system",
                format!(
                    "`{name}` is not a grade system for {discipline}; use one of: {}",
                    names.join(", ")
                ),
            );
            return None;
        }
    };
    let parsed = match system {
        Some(system) => clmb_grades::parse(grade, Some(system)),
        None => clmb_grades::parse_for_family(grade, family),
    };
    match parsed {
        Ok(grade) => Some(grade),
        Err(error) => {
            check.add("grade", error.to_string());
            None
        }
    }
}

/// Checks a time a climber gives (`started_at`, `ended_at`, `climbed_at`): after 1900 and
/// no later than a day from now, so a clock a little ahead or a far time zone is fine but
/// a typo in the year is not. It also keeps `duration_minutes` well inside its integer.
pub fn check_time(check: &mut Validator, field: &str, at: time::OffsetDateTime) {
    let earliest = time::macros::datetime!(1900-01-01 0:00 UTC);
    let latest = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    if at < earliest {
        check.add(field, "must not be before 1900");
    } else if at > latest {
        check.add(field, "must not be in the future");
    }
}

/// Checks that a session ends after it starts. There is no upper bound on its length: a
/// session a climber forgot to end is ended late, at "now", and keeps that duration.
pub fn check_span(
    check: &mut Validator,
    started_at: time::OffsetDateTime,
    ended_at: Option<time::OffsetDateTime>,
) {
    if ended_at.is_some_and(|ended_at| ended_at < started_at) {
        check.add("ended_at", "must not be before started_at");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(
        kind: Option<&str>,
        success: Option<bool>,
        attempts: Option<i32>,
    ) -> Result<Outcome, Vec<String>> {
        let mut check = Validator::new();
        let result = resolve_outcome(&mut check, kind, success, attempts);
        match check.finish() {
            Ok(()) => Ok(result.expect("an outcome when no error")),
            Err(clmb_common::ApiError::Validation(errors)) => {
                Err(errors.into_iter().map(|e| e.field).collect())
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_flash_is_one_attempt_and_a_send() {
        let flash = outcome(Some("flash"), None, None).unwrap();
        assert_eq!((flash.success, flash.attempts), (true, 1));
    }

    #[test]
    fn contradictions_name_the_contradicting_field() {
        assert_eq!(
            outcome(Some("onsight"), Some(false), None),
            Err(vec!["success".to_owned()])
        );
        assert_eq!(
            outcome(Some("flash"), None, Some(3)),
            Err(vec!["attempts".to_owned()])
        );
        assert_eq!(
            outcome(Some("attempt"), Some(true), None),
            Err(vec!["success".to_owned()])
        );
        assert_eq!(
            outcome(Some("redpoint"), Some(false), Some(4)),
            Err(vec!["success".to_owned()])
        );
    }

    #[test]
    fn a_missing_attempt_type_is_derived_from_success_and_attempts() {
        assert_eq!(
            outcome(None, Some(true), Some(1)).unwrap().attempt_type,
            "flash"
        );
        assert_eq!(
            outcome(None, Some(true), Some(5)).unwrap().attempt_type,
            "redpoint"
        );
        assert_eq!(
            outcome(None, Some(false), None).unwrap().attempt_type,
            "attempt"
        );
        assert_eq!(
            outcome(None, None, None),
            Err(vec!["attempt_type".to_owned()])
        );
    }

    #[test]
    fn a_redpoint_keeps_its_attempts() {
        let redpoint = outcome(Some("redpoint"), None, Some(7)).unwrap();
        assert_eq!((redpoint.success, redpoint.attempts), (true, 7));
    }
}
