//! Rate limits at the single entry point: sign-in calls per client address, sign-ins per
//! account (so that guessing one climber's password from many addresses is slow too),
//! writes per climber (per address for writes without a token).
//!
//! Each limit is a GCRA bucket per key (`governor`): `burst` calls at once, then one
//! every `60 / per_minute` seconds. A call over the limit is 429 problem+json with
//! `Retry-After`, the whole seconds until the next call of that key would pass.
//!
//! The keyed stores keep a small entry for every key seen. A background task drops the
//! entries whose bucket is full again (`retain_recent`) once a minute, so memory is
//! bounded by the keys active within about the last minute plus the refill time of
//! their buckets; it stops when the router is dropped.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clmb_common::ApiError;
use clmb_common::auth::TokenVerifier;
use clmb_common::http::JSON_BODY_LIMIT;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How often idle keys are dropped from the keyed stores.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Rate limit settings. A `per_minute` of zero turns that limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /auth/login`, `/auth/register` and `/auth/refresh` per client address.
    pub auth_per_minute: u32,
    /// Sign-in calls one address may make at once before the per-minute rate applies.
    pub auth_burst: u32,
    /// `POST /auth/login` per account named in `login` (case-insensitive), from any
    /// address.
    pub account_logins_per_minute: u32,
    /// Sign-ins to one account at once before the per-minute rate applies.
    pub account_logins_burst: u32,
    /// Writes (POST, PUT, PATCH, DELETE) per climber, or per address without a token.
    pub writes_per_minute: u32,
    /// Writes one climber may make at once before the per-minute rate applies.
    pub writes_burst: u32,
    /// Take the client address from the last hop of `X-Forwarded-For`: only behind a
    /// proxy that sets it, since clients can write the header themselves.
    pub trust_forwarded_for: bool,
}

impl Default for RateLimits {
    /// Generous enough for a benchmark of hundreds of connections from one address:
    /// what they stop is password guessing and a runaway client.
    fn default() -> Self {
        Self {
            auth_per_minute: 60,
            auth_burst: 20,
            account_logins_per_minute: 10,
            account_logins_burst: 10,
            writes_per_minute: 600,
            writes_burst: 120,
            trust_forwarded_for: false,
        }
    }
}

impl RateLimits {
    /// No limits at all (`clmb up --rate-limits off`).
    pub const OFF: RateLimits = RateLimits {
        auth_per_minute: 0,
        auth_burst: 0,
        account_logins_per_minute: 0,
        account_logins_burst: 0,
        writes_per_minute: 0,
        writes_burst: 0,
        trust_forwarded_for: false,
    };
}

/// Who a limit counts: an address, or a climber by the `sub` of a verified token.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum WriterKey {
    Address(IpAddr),
    User(String),
}

/// The limiters of one gateway, shared by every request.
#[derive(Debug)]
struct Limiters {
    auth: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Keyed by the trimmed, lower-cased `login` of a sign-in.
    accounts: Option<DefaultKeyedRateLimiter<String>>,
    writes: Option<DefaultKeyedRateLimiter<WriterKey>>,
}

impl Limiters {
    fn sweep(&self) {
        if let Some(auth) = &self.auth {
            auth.retain_recent();
            auth.shrink_to_fit();
        }
        if let Some(accounts) = &self.accounts {
            accounts.retain_recent();
            accounts.shrink_to_fit();
        }
        if let Some(writes) = &self.writes {
            writes.retain_recent();
            writes.shrink_to_fit();
        }
    }
}

#[derive(Clone, Debug)]
pub struct LimitState {
    limiters: Arc<Limiters>,
    verifier: TokenVerifier,
    trust_forwarded_for: bool,
}

fn quota(per_minute: u32, burst: u32) -> Option<Quota> {
    let per_minute = NonZeroU32::new(per_minute)?;
    // A burst of zero would refuse everything; treat it as "no burst beyond one call".
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Some(Quota::per_minute(per_minute).allow_burst(burst))
}

impl LimitState {
    pub fn new(limits: RateLimits, verifier: TokenVerifier) -> Self {
        let limiters = Arc::new(Limiters {
            auth: quota(limits.auth_per_minute, limits.auth_burst).map(RateLimiter::keyed),
            accounts: quota(
                limits.account_logins_per_minute,
                limits.account_logins_burst,
            )
            .map(RateLimiter::keyed),
            writes: quota(limits.writes_per_minute, limits.writes_burst).map(RateLimiter::keyed),
        });
        spawn_sweeper(Arc::downgrade(&limiters));
        Self {
            limiters,
            verifier,
            trust_forwarded_for: limits.trust_forwarded_for,
        }
    }

    fn client_address(&self, request: &Request) -> IpAddr {
        if self.trust_forwarded_for
            && let Some(address) = last_forwarded_hop(request.headers())
        {
            return address;
        }
        // Without a peer address (a router called in-process) every caller is one key.
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
    }

    /// The climber a write counts against; a missing or bad token counts the address
    /// (the call is refused with 401 later, but it still spends the address's writes).
    fn writer(&self, request: &Request) -> WriterKey {
        let user = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .and_then(|(_, token)| self.verifier.verify(token.trim()).ok())
            .map(|claims| claims.sub);
        match user {
            Some(sub) => WriterKey::User(sub),
            None => WriterKey::Address(self.client_address(request)),
        }
    }
}

/// Drops idle keys once a minute while the limiters live. Outside a Tokio runtime (a
/// router built in a plain unit test) nothing sweeps, and the stores keep every key.
fn spawn_sweeper(limiters: Weak<Limiters>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            let Some(limiters) = limiters.upgrade() else {
                return;
            };
            limiters.sweep();
        }
    });
}

/// The last address of `X-Forwarded-For`: the one our own proxy added. Earlier entries
/// are whatever the client sent.
fn last_forwarded_hop(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|hop| !hop.is_empty())?;
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// Which limit a call falls under, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Limit {
    /// A sign-in (`login`): per address, then per account.
    Login,
    /// Register and refresh: per address.
    Auth,
    Write,
}

fn limit_for(method: &Method, path: &str) -> Option<Limit> {
    let rest = path.strip_prefix("/api/v1/")?;
    if *method == Method::POST {
        match rest.trim_end_matches('/') {
            "auth/login" => return Some(Limit::Login),
            "auth/register" | "auth/refresh" => return Some(Limit::Auth),
            _ => {}
        }
    }
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
    .then_some(Limit::Write)
}

/// Whole seconds until `wait` has passed, at least one: `Retry-After` has no fractions,
/// and a client retrying after zero seconds would be refused again.
fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// Middleware: refuses a call over its limit with 429 before any service sees it.
pub async fn enforce(State(state): State<LimitState>, request: Request, next: Next) -> Response {
    let Some(limit) = limit_for(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let clock = DefaultClock::default();
    let outcome = match limit {
        Limit::Auth | Limit::Login => {
            let by_address = match &state.limiters.auth {
                Some(limiter) => limiter.check_key(&state.client_address(&request)),
                None => Ok(()),
            };
            match (limit, by_address, &state.limiters.accounts) {
                (Limit::Login, Ok(()), Some(accounts)) => {
                    let (account, request) = match login_name(request).await {
                        Ok(read) => read,
                        Err(response) => return response,
                    };
                    let by_account = account.map_or(Ok(()), |name| accounts.check_key(&name));
                    return finish(by_account, limit, request, next, &clock).await;
                }
                (_, by_address, _) => by_address,
            }
        }
        Limit::Write => match &state.limiters.writes {
            Some(limiter) => limiter.check_key(&state.writer(&request)),
            None => Ok(()),
        },
    };
    finish(outcome, limit, request, next, &clock).await
}

/// The account a sign-in names: its JSON body's `login`, trimmed and lower-cased, as
/// the users service compares it. The body is read here and put back for the service;
/// one that is not JSON or names no login passes unlimited, to get the service's own
/// 400 or 422.
async fn login_name(request: Request) -> Result<(Option<String>, Request), Response> {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, JSON_BODY_LIMIT).await else {
        return Err(
            ApiError::PayloadTooLarge("the request body is too large".to_owned()).into_response(),
        );
    };
    let account = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|body| body.get("login")?.as_str().map(|l| l.trim().to_lowercase()))
        .filter(|login| !login.is_empty());
    Ok((account, Request::from_parts(parts, Body::from(bytes))))
}

/// Passes the call on, or answers 429 with how long to wait.
async fn finish(
    outcome: Result<(), governor::NotUntil<governor::clock::QuantaInstant>>,
    limit: Limit,
    request: Request,
    next: Next,
    clock: &DefaultClock,
) -> Response {
    match outcome {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let retry_after_secs = retry_after_secs(not_until.wait_time_from(clock.now()));
            // Debug, not info: a flood of refused calls must not flood the logs too (the
            // metrics count every 429).
            tracing::debug!(
                limit = ?limit,
                method = %request.method(),
                retry_after_secs,
                "rate limited"
            );
            ApiError::TooManyRequests { retry_after_secs }.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_calls_and_writes_fall_under_their_limits() {
        assert_eq!(
            limit_for(&Method::POST, "/api/v1/auth/login"),
            Some(Limit::Login)
        );
        assert_eq!(
            limit_for(&Method::POST, "/api/v1/auth/register"),
            Some(Limit::Auth)
        );
        assert_eq!(
            limit_for(&Method::POST, "/api/v1/auth/refresh"),
            Some(Limit::Auth)
        );
        assert_eq!(
            limit_for(&Method::POST, "/api/v1/auth/logout"),
            Some(Limit::Write)
        );
        assert_eq!(
            limit_for(&Method::PATCH, "/api/v1/users/me"),
            Some(Limit::Write)
        );
        assert_eq!(
            limit_for(&Method::DELETE, "/api/v1/climbs/x"),
            Some(Limit::Write)
        );
        assert_eq!(limit_for(&Method::GET, "/api/v1/auth/login"), None);
        assert_eq!(limit_for(&Method::GET, "/api/v1/users/me"), None);
        assert_eq!(limit_for(&Method::POST, "/livez"), None);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }

    #[test]
    fn the_last_forwarded_hop_is_the_client_address() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.7".parse().unwrap());
        assert_eq!(last_forwarded_hop(&headers), "10.0.0.7".parse().ok());
        headers.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(last_forwarded_hop(&headers), None);
        headers.append("x-forwarded-for", "[2001:db8::1]:443".parse().unwrap());
        assert_eq!(last_forwarded_hop(&headers), "2001:db8::1".parse().ok());
    }

    #[test]
    fn a_zero_rate_turns_a_limit_off() {
        assert!(quota(0, 20).is_none());
        assert!(quota(60, 0).is_some());
    }
}
