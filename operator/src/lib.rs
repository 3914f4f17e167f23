//! clmb-operator: turns a `ClmbStack` into a running, upgradable clmb backend.
//!
//! A reconcile is a driver over named phases with typed hand-offs:
//! [`observe`] (read the stack, its children and referenced Secrets) → [`validate`] →
//! [`machine`] (the upgrade state machine) → [`build`] (desired objects) → [`apply`]
//! (server-side apply) → [`status`]. Only `observe`, `apply` and `status` touch the client.

pub mod crd;
