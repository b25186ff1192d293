//! Helpers shared by the integration tests: `mod common;` then `common::vectors::load()`.

pub mod vectors;
