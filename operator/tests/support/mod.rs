#![allow(dead_code)] // each test binary uses a different part of the support code

pub mod schema;
pub mod sim;
