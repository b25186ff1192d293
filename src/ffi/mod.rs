//! The C ABI. All unsafe code of the crate is here; it calls only the public Rust API.
//!
//! Conventions: every function returns a status or a static string; outputs go through
//! caller-owned structs whose first field, `struct_size`, the caller sets to `sizeof` (an input
//! struct's bytes past what the library knows must be 0, an output's are never written); integers
//! from C are validated before use (no Rust enum is ever read from C memory); every body runs
//! inside `ffi_guard!`, so a panic becomes `SMTP_STATUS_PANIC` rather than aborting the process.
#![allow(non_camel_case_types)]
#![allow(unsafe_code)]

/// Runs an exported function's body; a panic becomes the given value, a status the caller can
/// act on. (A panic reaching an `extern "C"` function's edge aborts the process since Rust 1.81;
/// this guard keeps it from getting there.) Every exported function's body is wrapped in it (a
/// test checks).
macro_rules! ffi_guard {
    ($on_panic:expr, $body:block) => {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| $body)) {
            Ok(value) => value,
            Err(_) => $on_panic,
        }
    };
}

mod types;
pub use types::*;
mod classify;
mod sized;
pub use classify::*;
mod names;
pub use names::*;
mod ehlo;
pub use ehlo::*;
mod lines;
pub use lines::*;
mod plan;
pub use plan::*;
