//! What the clmb components share: errors as problem+json, request ids, tracing,
//! metrics, token verification, paging, database setup and service-to-service calls.

pub mod auth;
pub mod client;
pub mod db;
pub mod deleted;
pub mod error;
pub mod extract;
pub mod http;
pub mod metrics;
pub mod paging;
pub mod pgserver;
pub mod telemetry;
pub mod testing;

pub use error::{ApiError, ApiResult, FieldError, Validator};
