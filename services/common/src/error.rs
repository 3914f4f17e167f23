//! The one error type every clmb HTTP handler returns, rendered as RFC 9457
//! `application/problem+json`.
//!
//! Clients get a stable `type`, a short `title` and a `detail` they can show; internal
//! causes are logged once (by [`ApiError::into_response`]) and never leave the process.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request, named the way the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("invalid fields")]
    BadRequestFields(Vec<FieldError>),
    #[error("authentication required: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// A service this request needs answered badly (502), was unreachable (503) or too
    /// slow (504).
    #[error("upstream {service} failed with {status}")]
    Upstream {
        service: &'static str,
        status: StatusCode,
    },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::BadRequestFields(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        let (detail, errors) = match self {
            Self::BadRequest(d)
            | Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d) => (Some(d.clone()), Vec::new()),
            Self::BadRequestFields(errors) => (
                Some("the request could not be read".to_owned()),
                errors.clone(),
            ),
            Self::Validation(errors) => (
                Some("one or more fields are invalid".to_owned()),
                errors.clone(),
            ),
            Self::TooManyRequests { retry_after_secs } => (
                Some(format!("slow down; retry after {retry_after_secs} s")),
                Vec::new(),
            ),
            Self::Upstream { service, .. } => (
                Some(format!(
                    "the {service} service did not answer in time or failed"
                )),
                Vec::new(),
            ),
            // Internal causes stay in the logs.
            Self::Internal(_) => (Some("an unexpected error occurred".to_owned()), Vec::new()),
        };
        problem_for(status, detail, errors)
    }
}

/// Builds a problem document for a status with the conventional `type` and `title`.
pub fn problem_for(status: StatusCode, detail: Option<String>, errors: Vec<FieldError>) -> Problem {
    let title = status.canonical_reason().unwrap_or("Error").to_owned();
    let slug = title.to_lowercase().replace([' ', '\''], "-");
    Problem {
        kind: format!("https://clmb.dev/problems/{slug}"),
        title,
        status: status.as_u16(),
        detail,
        errors,
        request_id: None,
    }
}

/// Renders a problem document as a response.
pub fn problem_response(status: StatusCode, problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
            }
            // The database's cause was logged where it was seen (From<sqlx::Error>).
            Self::Upstream { service, status } if *service != "database" => {
                tracing::warn!(service, status = status.as_u16(), "upstream call failed");
            }
            _ => {}
        }
        let mut response = problem_response(status, &self.problem());
        if let Self::TooManyRequests { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        // The database is down or restarting: no connection within the pool's acquire
        // timeout, one broken mid-call, or the server saying it is shutting down or
        // starting (SQLSTATE class 57P: 57P01 admin shutdown, 57P03 cannot connect now;
        // class 08: connection exceptions). That is 503, which a client may retry, not a
        // bug's 500. The cause is logged here since the 503 itself carries none.
        let unavailable = match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
            _ => false,
        };
        if unavailable {
            tracing::warn!(error = %error, "the database is unavailable");
            return Self::Upstream {
                service: "database",
                status: StatusCode::SERVICE_UNAVAILABLE,
            };
        }
        Self::Internal(error.into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Collects field errors while a request is checked, so a client learns every problem
/// in one answer instead of one per attempt.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    /// A text length in characters, bounds inclusive.
    pub fn length(&mut self, field: &str, value: Option<&str>, min: usize, max: usize) {
        if let Some(value) = value {
            let len = value.chars().count();
            if len < min || len > max {
                self.add(field, format!("must be {min} to {max} characters long"));
            }
        }
    }

    pub fn range<T: PartialOrd + std::fmt::Display>(
        &mut self,
        field: &str,
        value: Option<T>,
        min: T,
        max: T,
    ) {
        if let Some(value) = value
            && (value < min || value > max)
        {
            self.add(field, format!("must be between {min} and {max}"));
        }
    }

    pub fn finish(self) -> ApiResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

#[cfg(test)]
mod database_error_tests {
    use super::*;

    #[test]
    fn an_unavailable_database_is_503_and_other_database_errors_are_500() {
        let timed_out = ApiError::from(sqlx::Error::PoolTimedOut);
        let broken = ApiError::from(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()));
        let missing = ApiError::from(sqlx::Error::RowNotFound);

        assert_eq!(timed_out.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(broken.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
