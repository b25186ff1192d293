//! The C ABI of the EHLO capabilities parser (`smtp_parse_ehlo`).

use core::mem::size_of;

use super::smtp_verdict_status::{self, *};

use super::sized::{Out, Store, reply_bytes};
use crate::{AuthMechanisms, EhloError, Extensions, parse_ehlo};

/// PIPELINING (RFC 2920): commands may be sent in groups.
pub const SMTP_EXT_PIPELINING: u32 = 1 << 0;
/// 8BITMIME (RFC 6152).
pub const SMTP_EXT_8BITMIME: u32 = 1 << 1;
/// SMTPUTF8 (RFC 6531).
pub const SMTP_EXT_SMTPUTF8: u32 = 1 << 2;
/// ENHANCEDSTATUSCODES (RFC 2034).
pub const SMTP_EXT_ENHANCEDSTATUSCODES: u32 = 1 << 3;
/// CHUNKING (RFC 3030): BDAT.
pub const SMTP_EXT_CHUNKING: u32 = 1 << 4;
/// BINARYMIME (RFC 3030).
pub const SMTP_EXT_BINARYMIME: u32 = 1 << 5;
/// DSN (RFC 3461).
pub const SMTP_EXT_DSN: u32 = 1 << 6;
/// STARTTLS (RFC 3207).
pub const SMTP_EXT_STARTTLS: u32 = 1 << 7;
/// REQUIRETLS (RFC 8689).
pub const SMTP_EXT_REQUIRETLS: u32 = 1 << 8;

/// AUTH PLAIN (RFC 4616).
pub const SMTP_AUTH_PLAIN: u32 = 1 << 0;
/// AUTH LOGIN.
pub const SMTP_AUTH_LOGIN: u32 = 1 << 1;
/// AUTH CRAM-MD5 (RFC 2195).
pub const SMTP_AUTH_CRAM_MD5: u32 = 1 << 2;
/// AUTH XOAUTH2.
pub const SMTP_AUTH_XOAUTH2: u32 = 1 << 3;
/// AUTH OAUTHBEARER (RFC 7628).
pub const SMTP_AUTH_OAUTHBEARER: u32 = 1 << 4;
/// AUTH SCRAM-SHA-1 (RFC 5802).
pub const SMTP_AUTH_SCRAM_SHA_1: u32 = 1 << 5;
/// AUTH SCRAM-SHA-1-PLUS (RFC 5802, channel binding).
pub const SMTP_AUTH_SCRAM_SHA_1_PLUS: u32 = 1 << 6;
/// AUTH SCRAM-SHA-256 (RFC 7677).
pub const SMTP_AUTH_SCRAM_SHA_256: u32 = 1 << 7;
/// AUTH SCRAM-SHA-256-PLUS (RFC 7677, channel binding).
pub const SMTP_AUTH_SCRAM_SHA_256_PLUS: u32 = 1 << 8;

/// Whether each C bit equals its Rust bit and together they are all of them.
const fn same_bits(pairs: &[(u32, u16)], all: u16) -> bool {
    let mut union = 0;
    let mut i = 0;
    while i < pairs.len() {
        if pairs[i].0 != pairs[i].1 as u32 {
            return false;
        }
        union |= pairs[i].0;
        i += 1;
    }
    union == all as u32
}

// The C bits are the Rust bits: the struct is filled by copying them.
const _: () = assert!(same_bits(
    &[
        (SMTP_EXT_PIPELINING, Extensions::PIPELINING.bits()),
        (SMTP_EXT_8BITMIME, Extensions::EIGHTBITMIME.bits()),
        (SMTP_EXT_SMTPUTF8, Extensions::SMTPUTF8.bits()),
        (
            SMTP_EXT_ENHANCEDSTATUSCODES,
            Extensions::ENHANCEDSTATUSCODES.bits()
        ),
        (SMTP_EXT_CHUNKING, Extensions::CHUNKING.bits()),
        (SMTP_EXT_BINARYMIME, Extensions::BINARYMIME.bits()),
        (SMTP_EXT_DSN, Extensions::DSN.bits()),
        (SMTP_EXT_STARTTLS, Extensions::STARTTLS.bits()),
        (SMTP_EXT_REQUIRETLS, Extensions::REQUIRETLS.bits()),
    ],
    Extensions::ALL.bits()
));
const _: () = assert!(same_bits(
    &[
        (SMTP_AUTH_PLAIN, AuthMechanisms::PLAIN.bits()),
        (SMTP_AUTH_LOGIN, AuthMechanisms::LOGIN.bits()),
        (SMTP_AUTH_CRAM_MD5, AuthMechanisms::CRAM_MD5.bits()),
        (SMTP_AUTH_XOAUTH2, AuthMechanisms::XOAUTH2.bits()),
        (SMTP_AUTH_OAUTHBEARER, AuthMechanisms::OAUTHBEARER.bits()),
        (SMTP_AUTH_SCRAM_SHA_1, AuthMechanisms::SCRAM_SHA_1.bits()),
        (
            SMTP_AUTH_SCRAM_SHA_1_PLUS,
            AuthMechanisms::SCRAM_SHA_1_PLUS.bits()
        ),
        (
            SMTP_AUTH_SCRAM_SHA_256,
            AuthMechanisms::SCRAM_SHA_256.bits()
        ),
        (
            SMTP_AUTH_SCRAM_SHA_256_PLUS,
            AuthMechanisms::SCRAM_SHA_256_PLUS.bits()
        ),
    ],
    AuthMechanisms::ALL.bits()
));

/// What an EHLO or LHLO reply advertises. Set `struct_size` to `sizeof(smtp_ehlo_capabilities)`
/// (or use `SMTP_EHLO_CAPABILITIES_INIT`); the library fills the rest and writes no more than
/// `struct_size` bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct smtp_ehlo_capabilities {
    /// `sizeof(smtp_ehlo_capabilities)` as the caller knows it; never written by the library.
    pub struct_size: u32,
    /// The reply code: 250, or with `SMTP_STATUS_REFUSED` the refusal's (500 and 502 mean "no
    /// EHLO here": send HELO).
    pub code: u32,
    /// `SMTP_EXT_*` bits of the extensions offered.
    pub extensions: u32,
    /// `SMTP_AUTH_*` bits of the AUTH mechanisms offered (AUTH and the old `AUTH=` form, every
    /// AUTH line joined).
    pub auth_mechanisms: u32,
    /// How many other AUTH mechanisms were named; they are not an error.
    pub auth_unknown: u32,
    /// RFC 9422 LIMITS RCPTMAX: at most this many RCPT per transaction; 0 if not advertised (or
    /// its value was malformed).
    pub rcpt_max: u32,
    /// RFC 9422 LIMITS MAILMAX: at most this many transactions per connection; 0 if not advertised.
    pub mail_max: u32,
    /// RFC 9422 LIMITS RCPTDOMAINMAX: at most this many recipient domains per transaction; 0 if
    /// not advertised.
    pub rcpt_domain_max: u32,
    /// 1 if SIZE was advertised (with a value or bare), else 0.
    pub size_advertised: u32,
    /// Always 0 for now; keeps the following fields aligned.
    pub reserved: u32,
    /// SIZE's value in octets; 0 when there is no fixed limit (bare `SIZE`, `SIZE 0`) or no SIZE.
    pub size_limit: u64,
    /// Bytes of input the reply took, line ends included.
    pub consumed: usize,
}

const MIN_EHLO_SIZE: u32 = size_of::<smtp_ehlo_capabilities>() as u32;

impl Store for smtp_ehlo_capabilities {}

/// Reads the EHLO or LHLO reply at the start of `data` into `out`.
///
/// The first line is the server's name, never a keyword; keywords are matched in any case,
/// unknown ones are skipped, and a malformed LIMITS value is ignored without the others.
/// Statuses: `SMTP_STATUS_OK`; `SMTP_STATUS_INCOMPLETE` (read more, every field of `out` but `struct_size`
/// is 0); `SMTP_STATUS_REFUSED` (a complete reply that is not 2xx: `code` and `consumed` are set,
/// nothing else); `SMTP_STATUS_MALFORMED` and `SMTP_STATUS_TOO_LONG` (close the connection; `out`
/// zeroed); `SMTP_STATUS_NULL_ARGUMENT` and `SMTP_STATUS_INVALID_ARGUMENT` as for
/// `smtp_classify_reply`. Allocates nothing, keeps no state: safe from any number of threads.
///
/// What to do on `SMTP_STATUS_REFUSED`: this function reads capabilities and does not judge a
/// refusal. Classify the same bytes with `SMTP_CMD_EHLO` (or `SMTP_CMD_LHLO`) for what to do: 500
/// and 502 mean "send HELO instead"; 421 is `SMTP_VERDICT_RETRY` with
/// `SMTP_FLAG_CLOSE_CONNECTION` (close, no HELO); another 4xx or 5xx (554: this client is
/// refused) ends the session with the verdict given, and QUIT is sent. Both functions read the
/// reply with the same parser, so their `consumed` agree.
///
/// # Safety
/// `data` points to `len` readable bytes (or is NULL with `len` 0); `out` is NULL or points to a
/// writable `smtp_ehlo_capabilities` at least as large as its `struct_size` says.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_parse_ehlo(
    data: *const u8,
    len: usize,
    out: *mut smtp_ehlo_capabilities,
) -> smtp_verdict_status {
    ffi_guard!(SMTP_STATUS_PANIC, {
        // SAFETY: `out` is NULL or a caller's smtp_ehlo_capabilities.
        let out = match unsafe { Out::new(out, MIN_EHLO_SIZE) } {
            Ok(out) => out,
            Err(status) => return status,
        };
        // SAFETY: the caller promises `len` readable bytes at `data`, or NULL.
        let input = match unsafe { reply_bytes(data, len) } {
            Ok(input) => input,
            Err(status) => return out.finish(status, &smtp_ehlo_capabilities::default()),
        };
        let (status, value) = ehlo_to_c(parse_ehlo(input));
        out.finish(status, &value)
    })
}

fn ehlo_to_c(
    parsed: Result<crate::Capabilities, EhloError>,
) -> (smtp_verdict_status, smtp_ehlo_capabilities) {
    let zero = smtp_ehlo_capabilities::default();
    match parsed {
        Ok(caps) => (
            SMTP_STATUS_OK,
            smtp_ehlo_capabilities {
                struct_size: MIN_EHLO_SIZE,
                code: u32::from(caps.code),
                extensions: u32::from(caps.extensions.bits()),
                auth_mechanisms: u32::from(caps.auth.bits()),
                auth_unknown: caps.auth_unknown,
                rcpt_max: caps.limits.rcpt_max.unwrap_or(0),
                mail_max: caps.limits.mail_max.unwrap_or(0),
                rcpt_domain_max: caps.limits.rcpt_domain_max.unwrap_or(0),
                size_advertised: u32::from(caps.size_advertised),
                reserved: 0,
                size_limit: caps.size.unwrap_or(0),
                consumed: caps.consumed,
            },
        ),
        Err(EhloError::Refused { code, consumed }) => (
            SMTP_STATUS_REFUSED,
            smtp_ehlo_capabilities {
                code: u32::from(code),
                consumed,
                ..zero
            },
        ),
        Err(EhloError::Incomplete) => (SMTP_STATUS_INCOMPLETE, zero),
        Err(EhloError::Malformed) => (SMTP_STATUS_MALFORMED, zero),
        Err(EhloError::TooLong) => (SMTP_STATUS_TOO_LONG, zero),
    }
}
