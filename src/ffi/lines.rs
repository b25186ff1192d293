//! A reply's lines from C, one call per line: `smtp_reply_line_at`, so a caller that shows or
//! reads the lines (EHLO keywords, AUTH challenges, error texts) need not split them again.

use core::mem::size_of;

use super::classify::enhanced_to_c;
use super::sized::{Out, Store, panic_answer};
use super::smtp_verdict_status::{self, *};
use crate::{Error, MAX_LINE_LEN, parse::line_at};

/// One line of a reply, as `smtp_reply_line_at` read it. Offsets are into the `data` given to
/// it; nothing is NUL-terminated.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct smtp_reply_line {
    /// `sizeof(smtp_reply_line)` as the caller knows it; never written by the library.
    pub struct_size: u32,
    /// The line's reply code (0 unless the status is `SMTP_STATUS_OK`).
    pub code: u32,
    /// The line's enhanced code as sent: all three 0 when it has none, and on 3xx lines
    /// (RFC 2034), as in `smtp_result`.
    pub enhanced_class: u32,
    /// The enhanced code's subject: the 5 of 4.5.3.
    pub enhanced_subject: u32,
    /// The enhanced code's detail: the 3 of 4.5.3.
    pub enhanced_detail: u32,
    /// 1 on the reply's final line (a space or the line end after the code), 0 on a `250-` line.
    pub last: u32,
    /// Where the line starts: the `offset` passed in.
    pub line_offset: usize,
    /// The line's length without its line end (CRLF or a bare LF).
    pub line_len: usize,
    /// Where the text after the code and enhanced code starts (blanks after an enhanced code
    /// are not text).
    pub text_offset: usize,
    /// The text's length: 0 for a code-only line (`250`).
    pub text_len: usize,
    /// Where the next line starts, just past this one's line end: the `offset` of the next
    /// call. Also set with `SMTP_STATUS_MALFORMED`, to step over the line; else 0.
    pub next_offset: usize,
}

impl Store for smtp_reply_line {}

const MIN_LINE_SIZE: u32 = size_of::<smtp_reply_line>() as u32;

/// Reads the line that starts at `offset` in `data[0..len)`, with the grammar that classifies
/// replies. To walk a reply that `smtp_classify_reply` answered, pass the same `data` and
/// `result.consumed` as `len`, start at `offset` 0 and go on at `next_offset` while it is below
/// `len`:
///
/// ```c
/// smtp_reply_line line = SMTP_REPLY_LINE_INIT;
/// for (size_t at = 0; at < r.consumed; at = line.next_offset) {
///     if (smtp_reply_line_at(buf, r.consumed, at, &line) != SMTP_STATUS_OK)
///         break;
///     printf("%u %.*s\n", line.code, (int)line.text_len, (const char *)buf + line.text_offset);
/// }
/// ```
///
/// Returns `SMTP_STATUS_OK` with `out` filled in; `SMTP_STATUS_INCOMPLETE` when no line end
/// follows `offset` (or `offset` is `len`); `SMTP_STATUS_TOO_LONG` when none comes within
/// `SMTP_MAX_LINE_LEN` bytes; `SMTP_STATUS_MALFORMED` when the line is not a reply line
/// (`next_offset` steps over it); `SMTP_STATUS_NULL_ARGUMENT` when `out` is NULL or `data` is
/// NULL with `len` above 0; `SMTP_STATUS_INVALID_ARGUMENT` when `offset` is past `len` or
/// `out->struct_size` is too small; `SMTP_STATUS_PANIC` (a bug in the library). With any status but
/// `SMTP_STATUS_OK`, every field of `out` but `struct_size` and `next_offset` is 0 (`out` is not
/// written when it is unusable). At most `SMTP_MAX_LINE_LEN` bytes from `offset` are read.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes; `out` is NULL or points to a writable
/// `smtp_reply_line` whose `struct_size` is set. Thread-safe: nothing is shared between calls.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_reply_line_at(
    data: *const u8,
    len: usize,
    offset: usize,
    out: *mut smtp_reply_line,
) -> smtp_verdict_status {
    // SAFETY (both arms): `out` is NULL or a caller's smtp_reply_line.
    ffi_guard!(
        unsafe { panic_answer(out, MIN_LINE_SIZE, &smtp_reply_line::default()) },
        {
            // SAFETY: `out` is NULL or a caller's smtp_reply_line.
            let out = match unsafe { Out::new(out, MIN_LINE_SIZE) } {
                Ok(out) => out,
                Err(status) => return status,
            };
            let none = smtp_reply_line::default();
            if data.is_null() && len > 0 {
                return out.finish(SMTP_STATUS_NULL_ARGUMENT, &none);
            }
            if offset > len {
                return out.finish(SMTP_STATUS_INVALID_ARGUMENT, &none);
            }
            let window = (len - offset).min(MAX_LINE_LEN);
            let bytes: &[u8] = if window == 0 {
                &[]
            } else {
                // SAFETY: `data` is not NULL (len > offset) and `data[offset..offset + window)`
                // lies within the `len` readable bytes the caller promises.
                unsafe { core::slice::from_raw_parts(data.add(offset), window) }
            };
            match line_at(bytes, 0) {
                Ok(line) => {
                    let [enhanced_class, enhanced_subject, enhanced_detail] =
                        enhanced_to_c(line.enhanced());
                    let text = line.text_range();
                    let answer = smtp_reply_line {
                        struct_size: MIN_LINE_SIZE,
                        code: u32::from(line.code()),
                        enhanced_class,
                        enhanced_subject,
                        enhanced_detail,
                        last: u32::from(line.is_last()),
                        line_offset: offset,
                        line_len: line.range().len(),
                        text_offset: offset + text.start,
                        text_len: text.len(),
                        next_offset: offset + line.next_start(),
                    };
                    out.finish(SMTP_STATUS_OK, &answer)
                }
                Err(Error::Incomplete) => out.finish(SMTP_STATUS_INCOMPLETE, &none),
                Err(Error::TooLong { .. }) => out.finish(SMTP_STATUS_TOO_LONG, &none),
                Err(Error::Malformed { consumed, .. }) => {
                    let skip = smtp_reply_line {
                        next_offset: offset + consumed,
                        ..none
                    };
                    out.finish(SMTP_STATUS_MALFORMED, &skip)
                }
            }
        }
    )
}
