//! The C types: the status, command, verdict and scope enums, the option and flag bits, the
//! caller's structs, and the compile-time checks that tie the C constants to the Rust API.

use core::mem::size_of;

use crate::{Command, Flags, Options};

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

/// The command a reply answers: the values of `smtp_context.command`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smtp_command {
    /// A command without a name here (ATRN, XCLIENT, XFORWARD, vendor commands): the first
    /// digit decides, a 3xx is intermediate, the scope is the session, 421 closes. That is
    /// right for those three: XCLIENT's success is the 220 greeting of a new session.
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
    /// ETRN (RFC 1985): 250 to 253 start the queue, 458 and 459 refuse; a 3xx is out of step.
    SMTP_CMD_ETRN = 19,
    /// A BURL chunk that is not the last (RFC 4468): the rules of BDAT.
    SMTP_CMD_BURL = 20,
    /// The BURL chunk marked LAST: its reply is the message's, as after `SMTP_CMD_BDAT_LAST`.
    SMTP_CMD_BURL_LAST = 21,
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
    /// One recipient: a RCPT reply, or (with `SMTP_OPT_LMTP`) a reply after the message: after
    /// the final dot, BDAT LAST or BURL LAST.
    SMTP_SCOPE_RECIPIENT = 1,
    /// The transaction: MAIL, DATA, the reply after the message (SMTP), BDAT, BURL, RSET.
    SMTP_SCOPE_TRANSACTION = 2,
    /// The connection: greeting, EHLO/HELO/LHLO, STARTTLS, AUTH, ETRN, VRFY, EXPN, HELP, NOOP,
    /// QUIT, an unknown command, any 421, protocol errors.
    SMTP_SCOPE_SESSION = 3,
}

/// Option bit: bare LF, mixed codes, lines over 512 octets and non-standard codes give
/// `SMTP_STATUS_MALFORMED`.
pub const SMTP_OPT_STRICT: u32 = 1;
/// Option bit: 552 to RCPT without an enhanced code stays permanent, as Postfix does.
pub const SMTP_OPT_552_PERMANENT: u32 = 2;
/// Option bit: LMTP; the replies after the message (the final dot, BDAT LAST, BURL LAST) are one
/// per accepted recipient (RFC 2033).
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
/// Flag: a positive code the command does not use (3xx to RCPT, 2xx to DATA): the session is
/// out of step.
pub const SMTP_FLAG_UNEXPECTED_CODE: u32 = 32;
/// Flag: the server broke the protocol; end the session, keep the mail.
pub const SMTP_FLAG_PROTOCOL_ERROR: u32 = 64;
/// Flag: close the connection after this reply (421, QUIT, protocol errors). Not set on a
/// 5xx greeting: send QUIT then (RFC 7504 3: "the SMTP session proceeds normally"; the server
/// may close instead of answering).
pub const SMTP_FLAG_CLOSE_CONNECTION: u32 = 128;
/// Flag: the batch limit was read from an RFC 821 style 552.
pub const SMTP_FLAG_LEGACY_552: u32 = 256;
/// Flag: a reply to DATA, the message, BDAT or BURL in a transaction with no accepted
/// recipient; it says nothing about any recipient.
pub const SMTP_FLAG_NO_RECIPIENTS: u32 = 512;
/// Flag: a line is longer than the 512 octets of RFC 5321.
pub const SMTP_FLAG_LONG_LINE: u32 = 1024;

// cbindgen needs literals; these tie them to the Rust API.
const _: () = {
    let mut n = 0;
    while n < Command::ALL.len() {
        assert!(Command::ALL[n] as usize == n);
        n += 1;
    }
    assert!(smtp_command::SMTP_CMD_BURL_LAST as usize == Command::ALL.len() - 1);
    assert!(Command::BurlLast as u32 == smtp_command::SMTP_CMD_BURL_LAST as u32);
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
    /// On `SMTP_VERDICT_BATCH_LIMIT`, the most recipients each following transaction may carry:
    /// the `accepted_recipients` the server took in this one (RFC 5321 4.5.3.1.10; after a
    /// whole-transaction limit, RSET and resend them all in transactions of at most
    /// `batch_size` recipients). 0 on
    /// every other verdict. (Named `reserved`, always 0, before 0.2.)
    pub batch_size: u32,
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

pub(super) const MIN_CONTEXT_SIZE: u32 = size_of::<smtp_context>() as u32;
pub(super) const MIN_RESULT_SIZE: u32 = size_of::<smtp_result>() as u32;
pub(super) const MIN_SCANNER_SIZE: u32 = size_of::<smtp_scanner>() as u32;
