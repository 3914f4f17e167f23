//! clmb-operator: turns a `ClmbStack` into a running, upgradable clmb backend.
//!
//! A reconcile is a driver over named phases with typed hand-offs:
//! [`observe`] (read the stack's children and referenced Secrets) → [`validate`] →
//! [`machine`] (the upgrade state machine) → [`build`] (desired objects) → [`apply`]
//! (server-side apply) → [`status`]. Only `observe`, `apply` and `status` touch the client.

pub mod apply;
pub mod build;
pub mod crd;
pub mod http;
pub mod keys;
pub mod leader;
pub mod machine;
pub mod metrics;
pub mod names;
pub mod observe;
pub mod rbac;
pub mod reconcile;
pub mod render;
pub mod retry;
pub mod run;
pub mod status;
pub mod validate;
