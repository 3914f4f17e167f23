//! Extractors whose rejections are problem documents that name the offending field,
//! instead of axum's plain-text defaults.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{ApiError, FieldError};

/// A JSON body. Wrong content type is 415, unreadable JSON is 400, JSON of the wrong
/// shape (missing, unknown or mistyped fields) is 422 with the field named.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_content_type(req.headers(), "application/json") {
            return Err(ApiError::UnsupportedMediaType(
                "expected Content-Type: application/json".to_owned(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(Json)
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// Parses a JSON document, telling malformed syntax (400) from a wrong shape (422).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(deserializer) {
        Ok(value) => match field_with_nul(bytes) {
            Some(field) => Err(ApiError::validation(field, NUL_MESSAGE)),
            None => Ok(value),
        },
        Err(error) => {
            let path = error.path().to_string();
            let inner = error.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let (field, message) = describe_data_error(&path, &inner.to_string());
                    Err(ApiError::Validation(vec![FieldError::new(field, message)]))
                }
                _ => Err(ApiError::BadRequestFields(vec![FieldError::new(
                    "body",
                    format!("malformed JSON: {}", strip_position(&inner.to_string())),
                )])),
            }
        }
    }
}

const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// PostgreSQL text cannot hold U+0000, so a string with it would fail at the database
/// as a 500: name the field instead. JSON can only carry it escaped, so documents
/// without `\u0000` skip the walk.
fn field_with_nul(bytes: &[u8]) -> Option<String> {
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    fn walk(value: &serde_json::Value, path: &str) -> Option<String> {
        let here = || {
            if path.is_empty() {
                "body".to_owned()
            } else {
                path.to_owned()
            }
        };
        match value {
            serde_json::Value::String(text) => text.contains('\0').then(here),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            serde_json::Value::Object(fields) => fields.iter().find_map(|(name, item)| {
                if name.contains('\0') {
                    return Some(here());
                }
                let path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                walk(item, &path)
            }),
            _ => None,
        }
    }
    walk(&value, "")
}

/// serde reports an unknown or missing field at the parent's path, with the name only in
/// the message; pull it out so clients see `field: "is_premium"` rather than `"."`.
fn describe_data_error(path: &str, message: &str) -> (String, String) {
    let message = strip_position(message);
    let quoted = message.split('`').nth(1).map(str::to_owned);
    let parent = if path == "." {
        String::new()
    } else {
        format!("{path}.")
    };
    if message.starts_with("unknown field")
        && let Some(name) = quoted
    {
        // serde_path_to_error reports an unknown field at its own path (`a.b` for `b`
        // inside `a`), unlike a missing one, which is reported at its parent's.
        let field = if path == name || path.ends_with(&format!(".{name}")) {
            path.to_owned()
        } else {
            format!("{parent}{name}")
        };
        return (field, "is not a field that can be set here".to_owned());
    }
    if message.starts_with("missing field")
        && let Some(name) = quoted
    {
        return (format!("{parent}{name}"), "is required".to_owned());
    }
    let field = if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    (field, message)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

pub fn has_content_type(headers: &axum::http::HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case(expected))
}

pub fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("the request body is larger than this call accepts".to_owned())
    } else {
        ApiError::BadRequest("the request body could not be read".to_owned())
    }
}

/// Query parameters; anything unreadable is a 400 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        // As in JSON bodies: PostgreSQL text cannot hold U+0000.
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(n, v)| n.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::BadRequestFields(vec![FieldError::new(
                name.replace('\0', ""),
                NUL_MESSAGE,
            )]));
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        match serde_path_to_error::deserialize(deserializer) {
            Ok(value) => Ok(Query(value)),
            Err(error) => {
                let path = error.path().to_string();
                let (field, message) = describe_data_error(&path, &error.into_inner().to_string());
                Err(ApiError::BadRequestFields(vec![FieldError::new(
                    field, message,
                )]))
            }
        }
    }
}

/// Parses an id taken from the path: not a UUID is 400 naming the parameter.
pub fn parse_id(field: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::BadRequestFields(vec![FieldError::new(field, "must be a UUID")]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        a: Option<i32>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Option<Inner>,
    }

    fn field_of(json: &str) -> String {
        match parse_json::<Outer>(json.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_nul_character_in_any_string_is_refused_naming_the_field() {
        assert_eq!(field_of(r#"{"name": "a\u0000b"}"#), "name");
        let nested: Result<serde_json::Value, _> =
            parse_json(br#"{"climbs": [{"notes": "ok"}, {"notes": "\u0000"}]}"#);
        assert!(
            matches!(&nested, Err(ApiError::Validation(e)) if e[0].field == "climbs[1].notes"),
            "{nested:?}"
        );
        // An escaped backslash followed by `u0000` is text, not NUL.
        let text: Result<String, _> = parse_json(br#""\\u0000""#);
        assert_eq!(text.unwrap(), "\\u0000");
    }

    #[test]
    fn an_unknown_or_missing_field_is_named_by_its_full_path() {
        assert_eq!(field_of(r#"{"name": "x", "extra": 1}"#), "extra");
        assert_eq!(field_of(r#"{"name": "x", "inner": {"b": 1}}"#), "inner.b");
        assert_eq!(field_of(r#"{"inner": null}"#), "name");
    }
}
