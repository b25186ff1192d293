//! The C ABI. All unsafe code of the crate is here; it calls only the public Rust API.
//!
//! Conventions: every function returns a status or a static string; outputs go through
//! caller-owned structs whose first field, `struct_size`, the caller sets to `sizeof` (an input
//! struct's bytes past what the library knows must be 0, an output's are never written); integers
//! from C are validated before use (no Rust enum is ever read from C memory); every body runs
//! inside `ffi_guard!`, so a panic becomes `SMTP_STATUS_PANIC` rather than aborting the process.
#![allow(non_camel_case_types)]
#![allow(unsafe_code)]

use core::ffi::c_char;
use core::mem::size_of;
use core::ptr;

use crate::{Classification, Command, Context, Error, Flags, Options, Scanner, Scope, Verdict};

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

/// The major version of this header. It equals what `smtp_verdict_version()` reports.
pub const SMTP_VERDICT_VERSION_MAJOR: u32 = 0;
/// The minor version of this header.
pub const SMTP_VERDICT_VERSION_MINOR: u32 = 2;
/// The patch version of this header.
pub const SMTP_VERDICT_VERSION_PATCH: u32 = 0;
/// MAJOR * 10000 + MINOR * 100 + PATCH, for preprocessor comparisons.
pub const SMTP_VERDICT_VERSION_NUMBER: u32 = 200;

/// Longest reply line accepted, line end included; a longer one gives `SMTP_STATUS_TOO_LONG`.
pub const SMTP_MAX_LINE_LEN: usize = 8192;
/// Longest reply accepted; a longer one gives `SMTP_STATUS_TOO_LONG`. A caller never needs to
/// buffer more than this many bytes for one reply.
pub const SMTP_MAX_REPLY_LEN: usize = 65536;

/// What a function reports.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smtp_verdict_status {
    /// The reply was classified; `out` holds the verdict.
    SMTP_STATUS_OK = 0,
    /// The reply is not complete yet: read more bytes and call again with the grown buffer.
    /// Every field of `out` but `struct_size` is 0.
    SMTP_STATUS_INCOMPLETE = 1,
    /// Not an SMTP reply. `out` holds the safe answer: retry, session scope,
    /// `SMTP_FLAG_PROTOCOL_ERROR | SMTP_FLAG_CLOSE_CONNECTION`, `consumed` up to the end of the
    /// offending line.
    SMTP_STATUS_MALFORMED = 2,
    /// A line is over `SMTP_MAX_LINE_LEN` or the reply over `SMTP_MAX_REPLY_LEN` octets. `out`
    /// holds the same safe answer as for `SMTP_STATUS_MALFORMED` with `consumed` 0 (nothing past
    /// the limit is read, so the end of the reply is not known). Do not read more: close the
    /// connection.
    SMTP_STATUS_TOO_LONG = 3,
    /// A required pointer is NULL. Nothing was classified.
    SMTP_STATUS_NULL_ARGUMENT = 4,
    /// An unknown command or option bit, a `struct_size` below the first released size, a
    /// misaligned struct, or a scanner state that no earlier call left. Nothing was classified.
    SMTP_STATUS_INVALID_ARGUMENT = 5,
    /// A bug in the library was caught before it could unwind into C. Please report it.
    SMTP_STATUS_PANIC = 6,
    /// The server refused the command: `smtp_parse_ehlo` read a complete reply that is not 2xx
    /// (500 or 502: send HELO instead); its code and length are in `out`.
    SMTP_STATUS_REFUSED = 7,
}
use smtp_verdict_status::*;

mod ehlo;
pub use ehlo::*;
mod plan;
pub use plan::*;

/// The command a reply answers: the values of `smtp_context.command`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smtp_command {
    /// Not known: no command-specific rule applies, the scope is the session.
    SMTP_CMD_UNKNOWN = 0,
    /// The greeting the server sends on connect.
    SMTP_CMD_GREETING = 1,
    /// EHLO (RFC 5321 4.1.1.1).
    SMTP_CMD_EHLO = 2,
    /// HELO, the fallback when EHLO is refused.
    SMTP_CMD_HELO = 3,
    /// LMTP's LHLO (RFC 2033).
    SMTP_CMD_LHLO = 4,
    /// STARTTLS (RFC 3207).
    SMTP_CMD_STARTTLS = 5,
    /// AUTH and each SASL exchange step (RFC 4954).
    SMTP_CMD_AUTH = 6,
    /// MAIL FROM: a transaction starts.
    SMTP_CMD_MAIL = 7,
    /// RCPT TO: one recipient. Set `accepted_recipients` and `limited_recipients`.
    SMTP_CMD_RCPT = 8,
    /// The DATA command itself, normally answered by 354.
    SMTP_CMD_DATA = 9,
    /// The reply after the final dot of the message.
    SMTP_CMD_DATA_END = 10,
    /// A BDAT chunk that is not the last one (RFC 3030).
    SMTP_CMD_BDAT = 11,
    /// The BDAT chunk marked LAST.
    SMTP_CMD_BDAT_LAST = 12,
    /// RSET.
    SMTP_CMD_RSET = 13,
    /// VRFY.
    SMTP_CMD_VRFY = 14,
    /// EXPN.
    SMTP_CMD_EXPN = 15,
    /// HELP.
    SMTP_CMD_HELP = 16,
    /// NOOP.
    SMTP_CMD_NOOP = 17,
    /// QUIT: the reply also sets `SMTP_FLAG_CLOSE_CONNECTION`.
    SMTP_CMD_QUIT = 18,
}

/// What the caller should do: the values of `smtp_result.verdict`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smtp_verdict {
    /// Go on.
    SMTP_VERDICT_SUCCESS = 1,
    /// Send what the server waits for (the message after 354, the next AUTH step after 334).
    SMTP_VERDICT_INTERMEDIATE = 2,
    /// Defer what the scope covers; try later.
    SMTP_VERDICT_RETRY = 3,
    /// A recipient limit. Scope recipient: keep the recipient for a new transaction on the same
    /// connection right after this one. Scope transaction: resend all recipients of this
    /// transaction in transactions of at most `accepted_recipients` each.
    ///
    /// The contract a caller keeps so that this can neither loop nor lose mail (POLICY.md 4):
    /// - A DATA, final-dot or BDAT LAST reply is a batch limit only when `limited_recipients`
    ///   is at least 1, that is after a RCPT of the same transaction was batch-limited; count
    ///   those RCPTs into `limited_recipients` as they come.
    /// - A batch-limited recipient goes first in its next transaction, so the same reply there
    ///   (with `accepted_recipients` 0) is a plain retry or permanent, never a batch limit again.
    /// - After a transaction-scope batch limit the server's transaction may still be open: send
    ///   RSET before the next MAIL. The message is needed again for those recipients, so keep it
    ///   until every recipient of it has a final verdict.
    SMTP_VERDICT_BATCH_LIMIT = 4,
    /// Bounce what the scope covers (for a greeting: this host refuses mail).
    SMTP_VERDICT_PERMANENT = 5,
}

/// What the verdict applies to: the values of `smtp_result.scope`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smtp_scope {
    /// One recipient: a RCPT reply, or (with `SMTP_OPT_LMTP`) a reply after the final dot.
    SMTP_SCOPE_RECIPIENT = 1,
    /// The transaction: MAIL, DATA, the reply after the final dot, BDAT.
    SMTP_SCOPE_TRANSACTION = 2,
    /// The connection: greeting, EHLO/HELO/LHLO, STARTTLS, AUTH, any 421, protocol errors.
    SMTP_SCOPE_SESSION = 3,
}

/// Option bit: bare LF, mixed codes, lines over 512 octets and non-standard codes give
/// `SMTP_STATUS_MALFORMED`.
pub const SMTP_OPT_STRICT: u32 = 1;
/// Option bit: 552 to RCPT without an enhanced code stays permanent, as Postfix does.
pub const SMTP_OPT_552_PERMANENT: u32 = 2;
/// Option bit: LMTP; the replies after the final dot are one per accepted recipient.
pub const SMTP_OPT_LMTP: u32 = 4;

/// Flag: the reply has more than one line.
pub const SMTP_FLAG_MULTILINE: u32 = 1;
/// Flag: a line ended in LF without CR.
pub const SMTP_FLAG_BARE_LF: u32 = 2;
/// Flag: the lines do not all carry the same code; the final line decides.
pub const SMTP_FLAG_CODE_MISMATCH: u32 = 4;
/// Flag: the enhanced code's class differs from the reply code's first digit; the reply code
/// decided, the enhanced code is reported as sent.
pub const SMTP_FLAG_CLASS_MISMATCH: u32 = 8;
/// Flag: the second digit is over 5 (`571`), or the first digit is not 2 to 5.
pub const SMTP_FLAG_NONSTANDARD_CODE: u32 = 16;
/// Flag: a positive code the command does not use (3xx to RCPT, 2xx to DATA).
pub const SMTP_FLAG_UNEXPECTED_CODE: u32 = 32;
/// Flag: the server broke the protocol; end the session, keep the mail.
pub const SMTP_FLAG_PROTOCOL_ERROR: u32 = 64;
/// Flag: close the connection after this reply (421, QUIT, protocol errors).
pub const SMTP_FLAG_CLOSE_CONNECTION: u32 = 128;
/// Flag: the batch limit was read from an RFC 821 style 552.
pub const SMTP_FLAG_LEGACY_552: u32 = 256;
/// Flag: a DATA/BDAT reply in a transaction with no accepted recipient; it says nothing
/// about any recipient.
pub const SMTP_FLAG_NO_RECIPIENTS: u32 = 512;
/// Flag: a line is longer than the 512 octets of RFC 5321.
pub const SMTP_FLAG_LONG_LINE: u32 = 1024;

// cbindgen needs literals; these tie them to the Rust API.
const _: () = {
    assert!(SMTP_MAX_LINE_LEN == crate::MAX_LINE_LEN && SMTP_MAX_REPLY_LEN == crate::MAX_REPLY_LEN);
    assert!(SMTP_OPT_STRICT == Options::STRICT.bits());
    assert!(SMTP_OPT_552_PERMANENT == Options::PERMANENT_552.bits());
    assert!(SMTP_OPT_LMTP == Options::LMTP.bits());
    let all = SMTP_FLAG_MULTILINE
        | SMTP_FLAG_BARE_LF
        | SMTP_FLAG_CODE_MISMATCH
        | SMTP_FLAG_CLASS_MISMATCH
        | SMTP_FLAG_NONSTANDARD_CODE
        | SMTP_FLAG_UNEXPECTED_CODE
        | SMTP_FLAG_PROTOCOL_ERROR
        | SMTP_FLAG_CLOSE_CONNECTION
        | SMTP_FLAG_LEGACY_552
        | SMTP_FLAG_NO_RECIPIENTS
        | SMTP_FLAG_LONG_LINE;
    assert!(all == Flags::ALL.bits());
    // Each flag, not only their union: two swapped bits would keep the union.
    let pairs = [
        (SMTP_FLAG_MULTILINE, Flags::MULTILINE),
        (SMTP_FLAG_BARE_LF, Flags::BARE_LF),
        (SMTP_FLAG_CODE_MISMATCH, Flags::CODE_MISMATCH),
        (SMTP_FLAG_CLASS_MISMATCH, Flags::CLASS_MISMATCH),
        (SMTP_FLAG_NONSTANDARD_CODE, Flags::NONSTANDARD_CODE),
        (SMTP_FLAG_UNEXPECTED_CODE, Flags::UNEXPECTED_CODE),
        (SMTP_FLAG_PROTOCOL_ERROR, Flags::PROTOCOL_ERROR),
        (SMTP_FLAG_CLOSE_CONNECTION, Flags::CLOSE_CONNECTION),
        (SMTP_FLAG_LEGACY_552, Flags::LEGACY_552),
        (SMTP_FLAG_NO_RECIPIENTS, Flags::NO_RECIPIENTS),
        (SMTP_FLAG_LONG_LINE, Flags::LONG_LINE),
    ];
    let mut i = 0;
    while i < pairs.len() {
        assert!(pairs[i].0 == pairs[i].1.bits());
        i += 1;
    }
    assert!(SMTP_OPT_STRICT | SMTP_OPT_552_PERMANENT | SMTP_OPT_LMTP == Options::ALL.bits());
};

/// What the reply answers and where the transaction stands. Zero it, then set `struct_size`
/// to `sizeof(smtp_context)`; a zeroed context (apart from `struct_size`) means "command
/// unknown, no recipients, default options", as does passing NULL.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct smtp_context {
    /// `sizeof(smtp_context)` as the caller knows it. Newer fields are read only if it covers
    /// them; bytes past the fields this library knows must be 0 (else
    /// `SMTP_STATUS_INVALID_ARGUMENT`).
    pub struct_size: u32,
    /// An `SMTP_CMD_*` value.
    pub command: u32,
    /// RCPT commands accepted so far in this transaction (for a RCPT reply: before this one).
    pub accepted_recipients: u32,
    /// RCPT commands of this transaction that got `SMTP_VERDICT_BATCH_LIMIT`.
    pub limited_recipients: u32,
    /// `SMTP_OPT_*` bits; 0 for the default policy.
    pub options: u32,
}

/// The verdict on one reply. Set `struct_size` to `sizeof(smtp_result)`; the library fills the
/// rest and writes no more than `struct_size` bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct smtp_result {
    /// `sizeof(smtp_result)` as the caller knows it; never written by the library.
    pub struct_size: u32,
    /// An `SMTP_VERDICT_*` value (0 only when the status is `SMTP_STATUS_INCOMPLETE`).
    pub verdict: u32,
    /// An `SMTP_SCOPE_*` value (0 only when the status is `SMTP_STATUS_INCOMPLETE`).
    pub scope: u32,
    /// The final line's reply code, such as 452 (0 if the reply could not be parsed).
    pub code: u32,
    /// The enhanced code as sent (class 2, 4 or 5); all three are 0 when the reply has none,
    /// and on 3xx replies, which carry none (RFC 2034).
    pub enhanced_class: u32,
    /// The enhanced code's subject: the 5 of 4.5.3.
    pub enhanced_subject: u32,
    /// The enhanced code's detail: the 3 of 4.5.3.
    pub enhanced_detail: u32,
    /// `SMTP_FLAG_*` bits.
    pub flags: u32,
    /// Number of lines in the reply.
    pub lines: u32,
    /// Always 0 for now; keeps the following fields aligned.
    pub reserved: u32,
    /// Bytes of input this reply took, line ends included: the next reply starts at
    /// `data + consumed`.
    pub consumed: usize,
    /// Where the final line's text (after the code and enhanced code, without the line end)
    /// starts, as an offset into `data`. Not NUL-terminated. A code-only line (`250`) has no
    /// text: `text_len` is 0. A line may be up to `SMTP_MAX_LINE_LEN` octets with its line end,
    /// longer than RFC 5321's 512 (`SMTP_FLAG_LONG_LINE`), so a fixed buffer that holds a copy
    /// needs `SMTP_MAX_LINE_LEN` bytes.
    pub text_offset: usize,
    /// Length of that text in bytes.
    pub text_len: usize,
}

/// Parse state for `smtp_classify_reply_incremental`. Set `struct_size` to
/// `sizeof(smtp_scanner)` and call `smtp_scanner_reset`; the rest is private to the library.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct smtp_scanner {
    /// `sizeof(smtp_scanner)` as the caller knows it.
    pub struct_size: u32,
    /// Private: written by the library only. Do not change.
    pub private_state: [u32; 15],
}

const MIN_CONTEXT_SIZE: u32 = size_of::<smtp_context>() as u32;
const MIN_RESULT_SIZE: u32 = size_of::<smtp_result>() as u32;
const MIN_SCANNER_SIZE: u32 = size_of::<smtp_scanner>() as u32;

/// Copies the first `min(struct_size, sizeof(T))` bytes of a caller's struct into a default
/// one, after checking the pointer and `struct_size`. Nothing past `struct_size` is read.
///
/// # Safety
/// `src` is NULL or points to a readable `T`-sized struct whose first field is a `u32`.
unsafe fn read_sized<T: Copy + Default>(
    src: *const T,
    min_size: u32,
) -> Result<T, smtp_verdict_status> {
    if src.is_null() {
        return Err(SMTP_STATUS_NULL_ARGUMENT);
    }
    if !src.is_aligned() {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    // SAFETY: the caller promises a readable struct whose first field is its u32 size.
    let size = unsafe { ptr::read(src.cast::<u32>()) };
    if size < min_size {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    if size as usize >= size_of::<T>() {
        // SAFETY: `size` bytes are readable by the caller's `struct_size`.
        if !unsafe { tail_is_zero(src.cast::<u8>(), size_of::<T>(), size as usize) } {
            return Err(SMTP_STATUS_INVALID_ARGUMENT);
        }
        // SAFETY: the whole struct is readable by its `struct_size`; T is plain integers.
        // (One read, not a byte copy: this is every call made with the current header.)
        return Ok(unsafe { ptr::read(src) });
    }
    let mut value = T::default();
    // SAFETY: `size` bytes are readable by the caller's `struct_size`; T is plain integers.
    unsafe {
        ptr::copy_nonoverlapping(
            src.cast::<u8>(),
            (&raw mut value).cast::<u8>(),
            size as usize,
        )
    };
    Ok(value)
}

/// True if the bytes `known..size` of a caller's input struct are all zero: the fields of a
/// newer header than this library knows. One that is set would be ignored, so the call is
/// refused instead (as blazesym does).
///
/// # Safety
/// `src` has `size` readable bytes.
unsafe fn tail_is_zero(src: *const u8, known: usize, size: usize) -> bool {
    if size <= known {
        return true;
    }
    // SAFETY: as the caller promises.
    let tail = unsafe { core::slice::from_raw_parts(src.add(known), size - known) };
    tail.iter().all(|&b| b == 0)
}

/// Checks a caller's output struct and returns how many of its bytes may be written.
///
/// # Safety
/// `dst` is NULL or points to a readable struct whose first field is a `u32`.
unsafe fn writable_size<T>(dst: *mut T, min_size: u32) -> Result<usize, smtp_verdict_status> {
    if dst.is_null() {
        return Err(SMTP_STATUS_NULL_ARGUMENT);
    }
    if !dst.is_aligned() {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    // SAFETY: as the caller promises.
    let size = unsafe { ptr::read(dst.cast::<u32>()) };
    if size < min_size {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    Ok((size as usize).min(size_of::<T>()))
}

/// Writes `value` past its `struct_size` field into `len` bytes of `dst`.
///
/// # Safety
/// `len` came from `writable_size(dst)`.
unsafe fn write_sized<T>(dst: *mut T, value: &T, len: usize) {
    let skip = size_of::<u32>();
    // SAFETY: `dst` has `len` writable bytes; the caller's struct_size field is kept.
    unsafe {
        ptr::copy_nonoverlapping(
            ptr::from_ref(value).cast::<u8>().add(skip),
            dst.cast::<u8>().add(skip),
            len - skip,
        )
    };
}

/// Writes `value` into the caller's result, `struct_size` excepted, as `write_sized` does.
/// When the caller's struct is the size this library knows (nearly always), field by field:
/// a byte copy of a struct just built on the stack waits for its stores to retire (a store
/// forwarding stall, as long as a short reply's parse).
///
/// # Safety
/// `len` came from `writable_size(dst)`.
unsafe fn write_result(dst: *mut smtp_result, value: &smtp_result, len: usize) {
    if len != size_of::<smtp_result>() {
        // SAFETY: as promised by the caller.
        return unsafe { write_sized(dst, value, len) };
    }
    // Naming every field: a field added to the struct and not written here fails to compile.
    let smtp_result {
        struct_size: _,
        verdict,
        scope,
        code,
        enhanced_class,
        enhanced_subject,
        enhanced_detail,
        flags,
        lines,
        reserved,
        consumed,
        text_offset,
        text_len,
    } = *value;
    // SAFETY: `dst` is a whole writable smtp_result.
    unsafe {
        (&raw mut (*dst).verdict).write(verdict);
        (&raw mut (*dst).scope).write(scope);
        (&raw mut (*dst).code).write(code);
        (&raw mut (*dst).enhanced_class).write(enhanced_class);
        (&raw mut (*dst).enhanced_subject).write(enhanced_subject);
        (&raw mut (*dst).enhanced_detail).write(enhanced_detail);
        (&raw mut (*dst).flags).write(flags);
        (&raw mut (*dst).lines).write(lines);
        (&raw mut (*dst).reserved).write(reserved);
        (&raw mut (*dst).consumed).write(consumed);
        (&raw mut (*dst).text_offset).write(text_offset);
        (&raw mut (*dst).text_len).write(text_len);
    }
}

fn context_from_c(c: &smtp_context) -> Result<Context, smtp_verdict_status> {
    Ok(Context {
        command: Command::from_u32(c.command).ok_or(SMTP_STATUS_INVALID_ARGUMENT)?,
        accepted_recipients: c.accepted_recipients,
        limited_recipients: c.limited_recipients,
        options: Options::from_bits(c.options).ok_or(SMTP_STATUS_INVALID_ARGUMENT)?,
    })
}

fn result_to_c(c: &Classification) -> smtp_result {
    let e = c.enhanced;
    smtp_result {
        struct_size: MIN_RESULT_SIZE,
        verdict: c.verdict as u32,
        scope: c.scope as u32,
        code: u32::from(c.code),
        enhanced_class: e.map_or(0, |e| u32::from(e.class())),
        enhanced_subject: e.map_or(0, |e| u32::from(e.subject())),
        enhanced_detail: e.map_or(0, |e| u32::from(e.detail())),
        flags: c.flags.bits(),
        lines: c.lines,
        reserved: 0,
        consumed: c.consumed,
        text_offset: c.text.start,
        text_len: c.text.len(),
    }
}

/// The answer given with a status that classified nothing: the safe answer (retry, session
/// scope) with no flag set.
fn refusal() -> smtp_result {
    result_to_c(&Classification::safe_answer(Flags::empty(), 0, 0))
}

/// The shared body of both classify functions.
///
/// # Safety
/// As documented on `smtp_classify_reply_incremental`.
unsafe fn classify_c(
    data: *const u8,
    len: usize,
    ctx: *const smtp_context,
    scanner: Option<*mut smtp_scanner>,
    out: *mut smtp_result,
) -> smtp_verdict_status {
    // SAFETY: `out` is NULL or a caller's smtp_result.
    let out_len = match unsafe { writable_size(out, MIN_RESULT_SIZE) } {
        Ok(len) => len,
        Err(status) => return status,
    };
    let finish = |status: smtp_verdict_status, result: smtp_result| {
        // SAFETY: out_len came from writable_size(out).
        unsafe { write_result(out, &result, out_len) };
        status
    };
    let context = if ctx.is_null() {
        Context::default()
    } else {
        // SAFETY: `ctx` is a caller's smtp_context.
        match unsafe { read_sized(ctx, MIN_CONTEXT_SIZE) }.and_then(|c| context_from_c(&c)) {
            Ok(context) => context,
            Err(status) => return finish(status, refusal()),
        }
    };
    if data.is_null() && len != 0 {
        return finish(SMTP_STATUS_NULL_ARGUMENT, refusal());
    }
    let state = match scanner {
        None => None,
        // SAFETY: `s` is a caller's smtp_scanner.
        Some(s) => match unsafe { read_sized(s.cast_const(), MIN_SCANNER_SIZE) } {
            Ok(raw) => match scanner_from_c(&raw) {
                Some(state) => Some((s, state)),
                None => return finish(SMTP_STATUS_INVALID_ARGUMENT, refusal()),
            },
            Err(status) => return finish(status, refusal()),
        },
    };
    // No reply is read past MAX_REPLY_LEN, so neither is the caller's buffer.
    let len = len.min(crate::MAX_REPLY_LEN);
    let input: &[u8] = if len == 0 {
        &[]
    } else {
        // SAFETY: the caller promises `len` readable bytes at `data`, which is not NULL.
        unsafe { core::slice::from_raw_parts(data, len) }
    };
    let outcome = match state {
        None => crate::classify(input, &context),
        Some((s, mut state)) => {
            let outcome = state.classify(input, &context);
            // Only the words in use: the rest were checked to be 0 and stay so.
            // SAFETY: read_sized checked `s` and its struct_size above.
            unsafe {
                (&raw mut (*s).private_state)
                    .cast::<[u32; Scanner::WORDS]>()
                    .write(state.to_words())
            };
            outcome
        }
    };
    match outcome {
        Ok(c) => finish(SMTP_STATUS_OK, result_to_c(&c)),
        Err(Error::Incomplete) => finish(SMTP_STATUS_INCOMPLETE, smtp_result::default()),
        Err(e) => {
            let status = if matches!(e, Error::TooLong { .. }) {
                SMTP_STATUS_TOO_LONG
            } else {
                SMTP_STATUS_MALFORMED
            };
            finish(
                status,
                e.fallback()
                    .map(|c| result_to_c(&c))
                    .unwrap_or_else(refusal),
            )
        }
    }
}

fn scanner_from_c(raw: &smtp_scanner) -> Option<Scanner> {
    let (words, spare) = raw.private_state.split_at(Scanner::WORDS);
    if spare.iter().any(|&w| w != 0) {
        return None;
    }
    Scanner::from_words(words.try_into().ok()?)
}

fn scanner_to_c(state: &Scanner) -> smtp_scanner {
    let mut raw = smtp_scanner {
        struct_size: MIN_SCANNER_SIZE,
        private_state: [0; 15],
    };
    raw.private_state[..Scanner::WORDS].copy_from_slice(&state.to_words());
    raw
}

/// Classifies the first SMTP reply in `data[0..len)`.
///
/// `data` holds bytes read from the server, starting at a reply; it may hold several
/// pipelined replies (RFC 2920): only the first is classified and `out->consumed` says where
/// the next begins. `ctx` describes the command the reply answers; NULL means "unknown
/// command, no recipients, default options". `out->struct_size` must be set by the caller.
///
/// Returns `SMTP_STATUS_OK` with the verdict in `out`; `SMTP_STATUS_INCOMPLETE` when more bytes are needed
/// (call again with the grown buffer; see `smtp_classify_reply_incremental` to avoid
/// re-reading it); `SMTP_STATUS_MALFORMED` or `SMTP_STATUS_TOO_LONG` with the safe answer in `out`
/// (retry, session scope, close the connection); `SMTP_STATUS_NULL_ARGUMENT` when `out` is NULL,
/// or `data` is NULL with `len` > 0 (NULL with `len` 0 is an empty buffer);
/// `SMTP_STATUS_INVALID_ARGUMENT` for an unknown command or option bit or a `struct_size` too
/// small; `SMTP_STATUS_PANIC` on an internal error. Whenever `out` is usable it is written: after
/// `SMTP_STATUS_NULL_ARGUMENT` (for `data`) and `SMTP_STATUS_INVALID_ARGUMENT` (for `ctx`) it says
/// retry, session scope, so a caller that reads only the verdict stays safe.
///
/// Reads at most `SMTP_MAX_REPLY_LEN` bytes of `data` and never past `len`. Allocates
/// nothing, keeps no state: safe to call from any number of threads at once.
///
/// # Safety
/// `data` points to `len` readable bytes (or is NULL with `len` 0); `ctx` is NULL or points to
/// a readable `smtp_context`; `out` is NULL or points to a writable `smtp_result`. Each struct
/// is at least as large as its `struct_size` says.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_classify_reply(
    data: *const u8,
    len: usize,
    ctx: *const smtp_context,
    out: *mut smtp_result,
) -> smtp_verdict_status {
    ffi_guard!(SMTP_STATUS_PANIC, {
        // SAFETY: the caller's pointers, as documented.
        unsafe { classify_c(data, len, ctx, None, out) }
    })
}

/// Like `smtp_classify_reply`, but remembers in `scanner` how far an incomplete reply was
/// read, so that a caller whose buffer grows a little at a time pays for each byte once.
///
/// Call it with the same buffer start each time, grown at the end (a reply sent one byte per
/// packet costs no more in all than the reply sent at once). After any status other than
/// `SMTP_STATUS_INCOMPLETE` the scanner is reset, ready for the next reply at `data + consumed`.
/// `scanner` must have been set up by `smtp_scanner_reset`; a state no call could have left
/// gives `SMTP_STATUS_INVALID_ARGUMENT`. Each thread (or connection) needs its own scanner.
///
/// A call whose new bytes (fewer than 8) do not end the line being read answers
/// `SMTP_STATUS_INCOMPLETE` after checking only `data`, `out` and the scanner's position: that answer
/// does not depend on `ctx`, which is checked in full, with the rest of the scanner, on a
/// reply's first call and whenever a line ends.
///
/// # Safety
/// As for `smtp_classify_reply`; `scanner` is NULL or points to a writable `smtp_scanner`
/// that no other thread uses during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_classify_reply_incremental(
    data: *const u8,
    len: usize,
    ctx: *const smtp_context,
    scanner: *mut smtp_scanner,
    out: *mut smtp_result,
) -> smtp_verdict_status {
    ffi_guard!(SMTP_STATUS_PANIC, {
        if scanner.is_null() {
            return SMTP_STATUS_NULL_ARGUMENT;
        }
        // SAFETY: the caller's pointers, as documented.
        if unsafe { resume_inside_line(data, len, scanner, out) } {
            return SMTP_STATUS_INCOMPLETE;
        }
        // SAFETY: the caller's pointers, as documented.
        unsafe { classify_c_cold(data, len, ctx, scanner, out) }
    })
}

/// `classify_c` with a scanner, for calls that `resume_inside_line` does not answer. With a
/// guard of its own, and `extern "C"` so that no unwinding can leave it: the caller then
/// needs no unwinding path, and the compiler leaves its registers unsaved on the way to the
/// common answer (the save took a quarter of a resumed call).
///
/// # Safety
/// As documented on `smtp_classify_reply_incremental`.
#[cold]
#[inline(never)]
unsafe extern "C" fn classify_c_cold(
    data: *const u8,
    len: usize,
    ctx: *const smtp_context,
    scanner: *mut smtp_scanner,
    out: *mut smtp_result,
) -> smtp_verdict_status {
    ffi_guard!(SMTP_STATUS_PANIC, {
        // SAFETY: as the caller promises.
        unsafe { classify_c(data, len, ctx, Some(scanner), out) }
    })
}

/// The call that a reply arriving a byte at a time makes nearly every time: the scanner
/// stopped inside a line and the new bytes do not end it (`Scanner::resume_words`). Then the
/// answer is `SMTP_STATUS_INCOMPLETE` whatever the context says, so only what that answer uses is
/// checked: `data`, `out` and the scanner's first two words. The context and the rest of the
/// scanner are checked in full on a reply's first call and whenever a line ends. False: take
/// the full path, nothing written.
///
/// # Safety
/// As for `smtp_classify_reply_incremental`; `scanner` is not NULL.
#[inline(always)]
unsafe fn resume_inside_line(
    data: *const u8,
    len: usize,
    scanner: *mut smtp_scanner,
    out: *mut smtp_result,
) -> bool {
    if data.is_null() || !scanner.is_aligned() || out.is_null() || !out.is_aligned() {
        return false;
    }
    // SAFETY: aligned caller structs, each starting with its u32 size.
    let (scanner_size, out_size) = unsafe { ((*scanner).struct_size, (*out).struct_size) };
    if scanner_size < MIN_SCANNER_SIZE || out_size < MIN_RESULT_SIZE {
        return false;
    }
    // SAFETY: the scanner is a whole smtp_scanner by its size; its words are plain integers.
    // Word by word: the last call wrote the first alone, and a wider load of a narrower
    // store's bytes waits for the store to retire (a third of this path's time).
    let position = unsafe { &raw mut (*scanner).private_state }.cast::<u32>();
    // SAFETY: as above; `data` has `len` readable bytes and is not NULL. No reply is read past
    // MAX_REPLY_LEN, so neither is the buffer.
    let (words, input) = unsafe {
        let input = core::slice::from_raw_parts(data, len.min(crate::MAX_REPLY_LEN));
        ([position.read(), position.add(1).read()], input)
    };
    let Some(scanned_to) = Scanner::resume_words(words, input) else {
        return false;
    };
    // SAFETY: as above; `out` is a whole writable smtp_result by its size.
    unsafe {
        position.write(scanned_to);
        write_result(out, &smtp_result::default(), size_of::<smtp_result>());
    }
    true
}

/// Puts `scanner` in its initial state. Set `scanner->struct_size = sizeof(smtp_scanner)`
/// first. Returns `SMTP_STATUS_OK`, `SMTP_STATUS_NULL_ARGUMENT` or `SMTP_STATUS_INVALID_ARGUMENT` (size
/// too small, or misaligned).
///
/// # Safety
/// `scanner` is NULL or points to a writable `smtp_scanner` at least `struct_size` bytes long.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_scanner_reset(scanner: *mut smtp_scanner) -> smtp_verdict_status {
    ffi_guard!(SMTP_STATUS_PANIC, {
        // SAFETY: `scanner` is NULL or a caller's smtp_scanner.
        match unsafe { writable_size(scanner, MIN_SCANNER_SIZE) } {
            Ok(len) => {
                // SAFETY: len came from writable_size(scanner).
                unsafe { write_sized(scanner, &scanner_to_c(&Scanner::new()), len) };
                SMTP_STATUS_OK
            }
            Err(status) => status,
        }
    })
}

fn static_str(s: &'static core::ffi::CStr) -> *const c_char {
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
