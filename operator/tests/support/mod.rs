#![allow(dead_code)] // each test binary uses a different part of the support code

pub mod fake_api;
pub mod schema;
pub mod sim;
