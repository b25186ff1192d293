//! The static strings: the names of the C enums' values, the enhanced status code titles and
//! the library's version.

use core::ffi::c_char;
use core::ptr;

use crate::{Scope, Verdict};

pub(super) fn static_str(s: &'static core::ffi::CStr) -> *const c_char {
    s.as_ptr()
}

/// The name of an `SMTP_VERDICT_*` value, such as "batch-limit", or "unknown".
/// A static string: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_verdict_name(verdict: u32) -> *const c_char {
    ffi_guard!(static_str(c"unknown"), {
        let all = [
            Verdict::Success,
            Verdict::Intermediate,
            Verdict::Retry,
            Verdict::BatchLimit,
            Verdict::Permanent,
        ];
        static_str(
            all.iter()
                .find(|v| **v as u32 == verdict)
                .map_or(c"unknown", |v| v.c_name()),
        )
    })
}

/// The name of an `SMTP_SCOPE_*` value, such as "recipient", or "unknown".
/// A static string: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_scope_name(scope: u32) -> *const c_char {
    ffi_guard!(static_str(c"unknown"), {
        let all = [Scope::Recipient, Scope::Transaction, Scope::Session];
        static_str(
            all.iter()
                .find(|s| **s as u32 == scope)
                .map_or(c"unknown", |s| s.c_name()),
        )
    })
}

/// The name of an `smtp_verdict_status` value, such as "SMTP_STATUS_INCOMPLETE", or "unknown".
/// A static string: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_status_name(status: u32) -> *const c_char {
    ffi_guard!(static_str(c"unknown"), {
        let names = [
            c"SMTP_STATUS_OK",
            c"SMTP_STATUS_INCOMPLETE",
            c"SMTP_STATUS_MALFORMED",
            c"SMTP_STATUS_TOO_LONG",
            c"SMTP_STATUS_NULL_ARGUMENT",
            c"SMTP_STATUS_INVALID_ARGUMENT",
            c"SMTP_STATUS_PANIC",
            c"SMTP_STATUS_REFUSED",
        ];
        static_str(names.get(status as usize).copied().unwrap_or(c"unknown"))
    })
}

/// The IANA registry title of the enhanced status code `class.subject.detail`, such as
/// "Too many recipients" for 4.5.3, or NULL if it is not registered.
/// A static string: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_enhanced_code_text(
    enhanced_class: u32,
    enhanced_subject: u32,
    enhanced_detail: u32,
) -> *const c_char {
    ffi_guard!(ptr::null(), {
        match (
            u8::try_from(enhanced_class),
            u16::try_from(enhanced_subject),
            u16::try_from(enhanced_detail),
        ) {
            (Ok(c), Ok(s), Ok(d)) => {
                crate::enhanced_code_title_c_str(c, s, d).map_or(ptr::null(), static_str)
            }
            _ => ptr::null(),
        }
    })
}

/// The library's version, such as "0.1.0": the version the program runs with, which may be
/// newer than the header it was built with (`SMTP_VERDICT_VERSION_*`).
/// A static string: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_verdict_version() -> *const c_char {
    ffi_guard!(ptr::null(), {
        static_str(
            match core::ffi::CStr::from_bytes_with_nul(
                concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
            ) {
                Ok(v) => v,
                Err(_) => c"unknown",
            },
        )
    })
}
