//! Calls from one clmb component to another over HTTP, as they happen in the cluster.
//! Every call carries the request id of the request that caused it and has its own
//! timeout.

use std::time::Duration;

use axum::http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::http::REQUEST_ID;

/// How a call to another service went wrong, so callers can tell "not there" from
/// "could not ask".
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{service} answered {status}")]
    Status {
        service: &'static str,
        status: StatusCode,
        body: String,
    },
    #[error("{service} did not answer within the timeout")]
    Timeout { service: &'static str },
    #[error("{service} is unreachable: {detail}")]
    Unreachable {
        service: &'static str,
        detail: String,
    },
    #[error("{service} sent an unreadable answer: {detail}")]
    Decode {
        service: &'static str,
        detail: String,
    },
}

impl CallError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn service(&self) -> &'static str {
        match self {
            Self::Status { service, .. }
            | Self::Timeout { service }
            | Self::Unreachable { service, .. }
            | Self::Decode { service, .. } => service,
        }
    }
}

/// A failed call seen from the API: a downstream 5xx is 502, unreachable is 503, too
/// slow is 504.
impl From<CallError> for ApiError {
    fn from(error: CallError) -> Self {
        let status = match &error {
            CallError::Status { .. } | CallError::Decode { .. } => StatusCode::BAD_GATEWAY,
            CallError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            CallError::Unreachable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::Upstream {
            service: error.service(),
            status,
        }
    }
}

/// Installs ring as the process's TLS crypto provider, once. reqwest is built with
/// rustls but no provider of its own (the PostgreSQL download brings it in that way),
/// and it refuses to build a client until one is installed; ring is the one kube uses.
pub fn install_tls_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // An error only says another provider was installed first, which serves as well.
        drop(rustls::crypto::ring::default_provider().install_default());
    });
}

/// An HTTP client builder that is safe to `build()`: every client goes through here.
pub fn http_client() -> reqwest::ClientBuilder {
    install_tls_provider();
    reqwest::Client::builder()
}

/// A client for one other service.
#[derive(Clone, Debug)]
pub struct ServiceClient {
    pub name: &'static str,
    base_url: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl ServiceClient {
    pub fn new(name: &'static str, base_url: &str, timeout: Duration) -> Self {
        let http = http_client()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self {
            name,
            base_url: base_url.trim_end_matches('/').to_owned(),
            http,
            timeout,
        }
    }

    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self {
            timeout,
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        request_id: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut builder = self
            .http
            .request(method, self.url(path))
            .timeout(self.timeout);
        if let Some(token) = token {
            builder = builder.bearer_auth(token);
        }
        if let Some(id) = request_id {
            builder = builder.header(REQUEST_ID, id);
        }
        builder
    }

    /// Sends a request and reads a JSON answer; any non-2xx status is an error.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<T, CallError> {
        let response = self.send(builder).await?;
        response.json::<T>().await.map_err(|e| CallError::Decode {
            service: self.name,
            detail: e.to_string(),
        })
    }

    /// Sends a request; any non-2xx status is an error.
    pub async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, CallError> {
        let response = builder.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(CallError::Status {
            service: self.name,
            status: StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
            body,
        })
    }

    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<T, CallError> {
        self.send_json(self.request(reqwest::Method::GET, path, token, request_id))
            .await
    }

    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        token: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<T, CallError> {
        self.send_json(
            self.request(reqwest::Method::POST, path, token, request_id)
                .json(body),
        )
        .await
    }

    fn transport_error(&self, error: &reqwest::Error) -> CallError {
        if error.is_timeout() {
            CallError::Timeout { service: self.name }
        } else {
            CallError::Unreachable {
                service: self.name,
                detail: error.to_string(),
            }
        }
    }
}
