//! Forwards public API calls to the service that owns them, streaming bodies both ways.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clmb_common::ApiError;
use clmb_common::auth::TokenKind;
use clmb_common::client::ServiceClient;
use clmb_common::http::{IMPORT_BODY_LIMIT, JSON_BODY_LIMIT, REQUEST_ID};
use futures::StreamExt;

use crate::AppState;

/// Which service owns a path under `/api/v1`, by its first segments.
pub fn owner<'a>(state: &'a AppState, path: &str) -> Option<&'a ServiceClient> {
    let rest = path.strip_prefix("/api/v1/")?;
    let mut segments = rest.split('/');
    let first = segments.next()?;
    match first {
        "auth" => Some(&state.forward.users),
        "users" => match (segments.next(), segments.next()) {
            // A climber's logbook lives with the sessions service.
            (Some(_), Some("sessions" | "stats")) => Some(&state.forward.sessions),
            _ => Some(&state.forward.users),
        },
        "gyms" | "routes" | "grade-systems" => Some(&state.forward.gyms),
        "sessions" | "climbs" | "imports" => Some(&state.forward.sessions),
        _ => None,
    }
}

/// Calls anyone may make without a token (api.md, Conventions: auth).
fn is_public(method: &Method, path: &str) -> bool {
    let rest = path.strip_prefix("/api/v1/").unwrap_or_default();
    let first = rest.split('/').next().unwrap_or_default();
    match first {
        "auth" => matches!(rest, "auth/register" | "auth/login" | "auth/refresh"),
        "grade-systems" => true,
        "gyms" | "routes" => method == Method::GET,
        _ => false,
    }
}

/// Request headers worth passing on; hop-by-hop headers and cookies stay here.
static FORWARDED_REQUEST: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::AUTHORIZATION,
    header::ACCEPT,
    header::ACCEPT_LANGUAGE,
    REQUEST_ID,
];
static FORWARDED_RESPONSE: [HeaderName; 7] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::RETRY_AFTER,
    header::ALLOW,
    header::CACHE_CONTROL,
    header::ETAG,
    header::CONTENT_DISPOSITION,
];

/// The largest body a call may carry: checked here, before the service is called, so an
/// oversized body is a clean 413 rather than a service hanging up mid-upload (which the
/// client would see as 503).
fn body_limit(path: &str) -> usize {
    if path.starts_with("/api/v1/imports/") {
        IMPORT_BODY_LIMIT
    } else {
        JSON_BODY_LIMIT
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the request body is larger than {} MiB",
        limit / (1024 * 1024)
    ))
}

pub async fn forward(State(state): State<AppState>, request: Request) -> Response {
    match try_forward(&state, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn try_forward(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let path = request.uri().path().to_owned();
    let client =
        owner(state, &path).ok_or_else(|| ApiError::NotFound("no such route".to_owned()))?;

    // Refuse a missing or bad token here, before any service spends work on it.
    if !is_public(request.method(), &path) || has_bearer(request.headers()) {
        check_token(state, request.headers())?;
    }

    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or(path.clone(), |pq| pq.as_str().to_owned());
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
        .map_err(|_| ApiError::BadRequest("unsupported method".to_owned()))?;
    let mut builder = client.request(method, &path_and_query, None, None);
    for name in &FORWARDED_REQUEST {
        for value in request.headers().get_all(name) {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
    }
    let limit = body_limit(&path);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }
    // A body without a length (chunked) is counted as it streams and cut at the limit.
    let exceeded = Arc::new(AtomicBool::new(false));
    let counted = {
        let exceeded = Arc::clone(&exceeded);
        let mut seen = 0usize;
        request.into_body().into_data_stream().map(move |chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            seen += chunk.len();
            if seen > limit {
                exceeded.store(true, Ordering::Relaxed);
                return Err(std::io::Error::other("request body over the limit"));
            }
            Ok(chunk)
        })
    };
    let body = reqwest::Body::wrap_stream(counted);
    let upstream = builder.body(body).send().await.map_err(|error| {
        if exceeded.load(Ordering::Relaxed) {
            return too_large(limit);
        }
        let status = if error.is_timeout() {
            StatusCode::GATEWAY_TIMEOUT
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        ApiError::Upstream {
            service: client.name,
            status,
        }
    })?;

    let mut response = Response::builder().status(upstream.status().as_u16());
    if let Some(headers) = response.headers_mut() {
        copy_headers(upstream.headers(), headers);
    }
    response
        .body(Body::from_stream(upstream.bytes_stream()))
        .map_err(ApiError::internal)
}

fn copy_headers(from: &reqwest::header::HeaderMap, to: &mut HeaderMap) {
    for name in &FORWARDED_RESPONSE {
        for value in from.get_all(name.as_str()) {
            if let Ok(value) = axum::http::HeaderValue::from_bytes(value.as_bytes()) {
                to.append(name.clone(), value);
            }
        }
    }
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
}

fn check_token(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| ApiError::Unauthorized("a bearer access token is required".to_owned()))?;
    let claims = state.verifier.verify(token)?;
    if claims.kind != TokenKind::Access {
        return Err(ApiError::Unauthorized("not an access token".to_owned()));
    }
    Ok(())
}
