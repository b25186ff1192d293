//! `smtp_classify_reply`, `smtp_classify_reply_incremental` and `smtp_scanner_reset`: the
//! conversions between the C structs and the Rust API, and the shared body of both classify
//! functions.

use core::mem::size_of;

use super::sized::{
    Out, Store, panic_answer, read_optional, read_sized, reply_bytes, write_result,
};
use super::smtp_verdict_status::{self, *};
use super::{
    MIN_CONTEXT_SIZE, MIN_RESULT_SIZE, MIN_SCANNER_SIZE, smtp_context, smtp_result, smtp_scanner,
};
use crate::{Classification, Command, Context, EnhancedCode, Error, Flags, Options, Scanner};

impl Store for smtp_scanner {}

fn context_from_c(c: &smtp_context) -> Result<Context, smtp_verdict_status> {
    Ok(Context {
        command: Command::from_u32(c.command).ok_or(SMTP_STATUS_INVALID_ARGUMENT)?,
        accepted_recipients: c.accepted_recipients,
        limited_recipients: c.limited_recipients,
        options: Options::from_bits(c.options).ok_or(SMTP_STATUS_INVALID_ARGUMENT)?,
    })
}

/// An enhanced code as the C structs carry it: class, subject, detail, all 0 for none.
#[inline(always)]
pub(super) fn enhanced_to_c(e: Option<EnhancedCode>) -> [u32; 3] {
    EnhancedCode::parts_of_word(EnhancedCode::word_of(e))
}

pub(super) fn result_to_c(c: &Classification) -> smtp_result {
    let [enhanced_class, enhanced_subject, enhanced_detail] = enhanced_to_c(c.enhanced);
    smtp_result {
        struct_size: MIN_RESULT_SIZE,
        verdict: c.verdict as u32,
        scope: c.scope as u32,
        code: u32::from(c.code),
        enhanced_class,
        enhanced_subject,
        enhanced_detail,
        flags: c.flags.bits(),
        lines: c.lines,
        batch_size: c.batch_size,
        consumed: c.consumed,
        text_offset: c.text.start,
        text_len: c.text.len(),
    }
}

/// The answer given with a status that classified nothing: the safe answer (retry, session
/// scope) with no flag set.
pub(super) fn refusal() -> smtp_result {
    result_to_c(&Classification::safe_answer(Flags::empty(), 0, 0))
}

/// The shared body of both classify functions, inlined in each (as a call of its own it cost
/// `smtp_classify_reply` a second prologue and epilogue per reply).
///
/// # Safety
/// As documented on `smtp_classify_reply_incremental`.
#[inline(always)]
unsafe fn classify_c(
    data: *const u8,
    len: usize,
    ctx: *const smtp_context,
    scanner: Option<*mut smtp_scanner>,
    out: *mut smtp_result,
) -> smtp_verdict_status {
    // SAFETY: `out` is NULL or a caller's smtp_result.
    let out = match unsafe { Out::new(out, MIN_RESULT_SIZE) } {
        Ok(out) => out,
        Err(status) => return status,
    };
    // SAFETY: `ctx` is NULL or a caller's smtp_context.
    let context = match unsafe { read_optional(ctx, MIN_CONTEXT_SIZE) } {
        Ok(None) => Ok(Context::default()),
        Ok(Some(c)) => context_from_c(&c),
        Err(status) => Err(status),
    };
    let context = match context {
        Ok(context) => context,
        Err(status) => return out.finish(status, &refusal()),
    };
    // SAFETY: the caller promises `len` readable bytes at `data`, or NULL.
    let input = match unsafe { reply_bytes(data, len) } {
        Ok(input) => input,
        Err(status) => return out.finish(status, &refusal()),
    };
    let state = match scanner {
        None => None,
        // SAFETY: `s` is a caller's smtp_scanner.
        Some(s) => match unsafe { read_sized(s.cast_const(), MIN_SCANNER_SIZE) } {
            Ok(raw) => match scanner_from_c(&raw) {
                Some(state) => Some((s, state)),
                None => return out.finish(SMTP_STATUS_INVALID_ARGUMENT, &refusal()),
            },
            Err(status) => return out.finish(status, &refusal()),
        },
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
        Ok(c) => out.finish(SMTP_STATUS_OK, &result_to_c(&c)),
        Err(e) => {
            let (status, result) = error_to_c(&e);
            out.finish(status, &result)
        }
    }
}

/// The status and the result for a reply that was not classified: `SMTP_STATUS_INCOMPLETE`
/// with every field 0, or `SMTP_STATUS_TOO_LONG` / `SMTP_STATUS_MALFORMED` with the safe answer.
pub(super) fn error_to_c(e: &Error) -> (smtp_verdict_status, smtp_result) {
    match e {
        Error::Incomplete => (SMTP_STATUS_INCOMPLETE, smtp_result::default()),
        Error::TooLong { .. } => (SMTP_STATUS_TOO_LONG, fallback_to_c(e)),
        _ => (SMTP_STATUS_MALFORMED, fallback_to_c(e)),
    }
}

fn fallback_to_c(e: &Error) -> smtp_result {
    e.fallback()
        .map(|c| result_to_c(&c))
        .unwrap_or_else(refusal)
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
    // SAFETY (both arms): the caller's pointers, as documented.
    ffi_guard!(unsafe { panic_answer(out, MIN_RESULT_SIZE, &refusal()) }, {
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
    // SAFETY (both arms): the caller's pointers, as documented.
    ffi_guard!(unsafe { panic_answer(out, MIN_RESULT_SIZE, &refusal()) }, {
        if scanner.is_null() {
            // The status stays NULL_ARGUMENT; a usable `out` still gets the safe answer.
            // SAFETY: `out` is NULL or a caller's smtp_result.
            if let Ok(out) = unsafe { Out::new(out, MIN_RESULT_SIZE) } {
                out.finish(SMTP_STATUS_NULL_ARGUMENT, &refusal());
            }
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
    // SAFETY (both arms): as the caller promises.
    ffi_guard!(unsafe { panic_answer(out, MIN_RESULT_SIZE, &refusal()) }, {
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
        match unsafe { Out::new(scanner, MIN_SCANNER_SIZE) } {
            Ok(out) => out.finish(SMTP_STATUS_OK, &scanner_to_c(&Scanner::new())),
            Err(status) => status,
        }
    })
}
