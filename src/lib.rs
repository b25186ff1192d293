//! Classify SMTP server replies into verdicts a mail agent can act on.
//!
//! A reply is parsed (single or multiline, RFC 5321 4.2, with RFC 3463 enhanced status codes)
//! and turned into a [`Verdict`] with a [`Scope`] and [`Flags`], following the policy in
//! `docs/POLICY.md`: above all, a recipient limit (452, or 552 in RFC 821 style, after RCPT) becomes
//! [`Verdict::BatchLimit`] instead of an error, so no recipient is bounced or delayed for it.
//!
//! ```
//! use smtp_verdict::{classify, Command, Context, Verdict};
//!
//! let ctx = Context { command: Command::Rcpt, accepted_recipients: 100, ..Context::default() };
//! let c = classify(b"452 4.5.3 Error: too many recipients\r\n", &ctx).unwrap();
//! assert_eq!(c.verdict, Verdict::BatchLimit);
//! ```
//!
//! Nothing here allocates, keeps global state or uses `unsafe`; the C ABI lives in `ffi`.

#![deny(unsafe_code)]

use core::num::NonZeroU32;

mod ehlo;
pub mod ffi;
mod parse;
mod plan;
mod policy;
mod registry;

pub use ehlo::{AuthMechanisms, Capabilities, EhloError, Extensions, Limits, parse_ehlo};
pub use parse::{Lines, Reply, ReplyLine, ReplyLines, Scanner};
pub use plan::{
    Action, POSSIBLY_DELIVERED, PlanOptions, Planner, Received, Recipient, RecipientState,
    domain_key,
};
pub use registry::{enhanced_code_title, enhanced_code_title_c_str};

/// Longest reply line accepted, line end included. RFC 5321 says 512, real servers send more.
pub const MAX_LINE_LEN: usize = 8192;
/// Longest reply accepted, all lines together.
pub const MAX_REPLY_LEN: usize = 65536;
/// The RFC 5321 4.5.3.1.5 line limit (line end included); longer lines are flagged.
pub const RFC_LINE_LEN: usize = 512;

/// The command a reply answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Command {
    /// Not known to the caller: no command-specific rule applies.
    #[default]
    Unknown = 0,
    /// The server's greeting on connect.
    Greeting = 1,
    Ehlo = 2,
    Helo = 3,
    /// LMTP's EHLO (RFC 2033).
    Lhlo = 4,
    StartTls = 5,
    Auth = 6,
    Mail = 7,
    Rcpt = 8,
    /// The DATA command itself (normally answered by 354).
    Data = 9,
    /// The reply after the final dot of the message.
    DataEnd = 10,
    /// A BDAT chunk that is not the last (RFC 3030).
    Bdat = 11,
    /// The BDAT chunk marked LAST.
    BdatLast = 12,
    Rset = 13,
    Vrfy = 14,
    Expn = 15,
    Help = 16,
    Noop = 17,
    Quit = 18,
    /// ETRN (RFC 1985): start the queue for a node; answered 250 to 253, 458 or 459.
    Etrn = 19,
    /// A BURL chunk that is not the last (RFC 4468): the message from a URL, like BDAT.
    Burl = 20,
    /// The BURL chunk marked LAST: its reply is the message's, as after BDAT LAST.
    BurlLast = 21,
}

/// cbindgen:ignore
impl Command {
    /// All commands, in the order of their numbers.
    pub const ALL: [Command; 22] = [
        Command::Unknown,
        Command::Greeting,
        Command::Ehlo,
        Command::Helo,
        Command::Lhlo,
        Command::StartTls,
        Command::Auth,
        Command::Mail,
        Command::Rcpt,
        Command::Data,
        Command::DataEnd,
        Command::Bdat,
        Command::BdatLast,
        Command::Rset,
        Command::Vrfy,
        Command::Expn,
        Command::Help,
        Command::Noop,
        Command::Quit,
        Command::Etrn,
        Command::Burl,
        Command::BurlLast,
    ];

    /// The command with this number, if there is one (numbers are those of the C ABI).
    // A match, not an index into `ALL`: the compiler turns it into a range check, where the
    // table was a load on every C call.
    pub fn from_u32(n: u32) -> Option<Command> {
        Some(match n {
            0 => Command::Unknown,
            1 => Command::Greeting,
            2 => Command::Ehlo,
            3 => Command::Helo,
            4 => Command::Lhlo,
            5 => Command::StartTls,
            6 => Command::Auth,
            7 => Command::Mail,
            8 => Command::Rcpt,
            9 => Command::Data,
            10 => Command::DataEnd,
            11 => Command::Bdat,
            12 => Command::BdatLast,
            13 => Command::Rset,
            14 => Command::Vrfy,
            15 => Command::Expn,
            16 => Command::Help,
            17 => Command::Noop,
            18 => Command::Quit,
            19 => Command::Etrn,
            20 => Command::Burl,
            21 => Command::BurlLast,
            _ => return None,
        })
    }
}

/// A set of bits: the type, its constants (each with its doc), `ALL` (the union of them), and
/// the methods every such set has. Used for [`Options`], [`Flags`], [`Extensions`] and
/// [`AuthMechanisms`].
macro_rules! bitset {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($int:ty);
        $(#[$all_meta:meta])*
        ALL;
        $(
            $(#[$flag_meta:meta])*
            const $flag:ident = $value:expr;
        )*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name($int);

        /// cbindgen:ignore
        impl $name {
            $(
                $(#[$flag_meta])*
                pub const $flag: $name = $name($value);
            )*
            $(#[$all_meta])*
            pub const ALL: $name = $name(0 $(| $value)*);

            /// No bit set.
            pub const fn empty() -> $name {
                $name(0)
            }
            /// The raw bits.
            pub const fn bits(self) -> $int {
                self.0
            }
            /// The set with these bits, or `None` if a bit is unknown.
            pub const fn from_bits(bits: $int) -> Option<$name> {
                if bits & !$name::ALL.0 == 0 {
                    Some($name(bits))
                } else {
                    None
                }
            }
            /// Whether no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }
            /// Whether every bit of `other` is set.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }
            /// The bits of both.
            pub const fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
            /// Sets the bits of `other`.
            pub fn insert(&mut self, other: $name) {
                self.0 |= other.0;
            }
        }

        impl core::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: $name) -> $name {
                self.union(rhs)
            }
        }
    };
}
pub(crate) use bitset;

bitset! {
    /// Caller-selected behaviour changes; `Options::default()` is the policy as written.
    pub struct Options(u32);
    /// Every known option bit.
    ALL;
    /// Bare LF, mixed codes, long lines and non-standard codes make a reply malformed.
    const STRICT = 1;
    /// 552 to RCPT without an enhanced code stays permanent (as Postfix does).
    const PERMANENT_552 = 2;
    /// LMTP: the replies after the final dot are one per recipient (RFC 2033).
    const LMTP = 4;
}

/// What the reply answers and where the transaction stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Context {
    pub command: Command,
    /// RCPT commands accepted so far in this transaction (for RCPT: before this one).
    pub accepted_recipients: u32,
    /// RCPT commands of this transaction that got [`Verdict::BatchLimit`].
    pub limited_recipients: u32,
    pub options: Options,
}

impl Context {
    /// A context for `command` with no recipients and default options.
    pub fn new(command: Command) -> Context {
        Context {
            command,
            ..Context::default()
        }
    }
}

/// What the caller should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Go on.
    Success = 1,
    /// Send what the server waits for (354 after DATA, 334 during AUTH).
    Intermediate = 2,
    /// Defer what the scope covers and try later.
    Retry = 3,
    /// A recipient limit: deliver to the accepted recipients now and resend the rest in a new
    /// transaction on the same connection right away.
    BatchLimit = 4,
    /// Bounce what the scope covers.
    Permanent = 5,
}

impl Verdict {
    /// A lower-case name for logs, such as `"batch-limit"`.
    pub fn name(self) -> &'static str {
        // The names are ASCII: the conversion cannot fail.
        self.c_name().to_str().unwrap_or_default()
    }

    /// [`Verdict::name`] as a C string, for foreign callers: the one table of the names.
    pub fn c_name(self) -> &'static core::ffi::CStr {
        match self {
            Verdict::Success => c"success",
            Verdict::Intermediate => c"intermediate",
            Verdict::Retry => c"retry",
            Verdict::BatchLimit => c"batch-limit",
            Verdict::Permanent => c"permanent",
        }
    }
}

/// What the verdict applies to (POLICY.md section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One recipient: a RCPT reply, or an LMTP reply after the final dot.
    Recipient = 1,
    /// The whole transaction: MAIL, DATA, the final dot, BDAT.
    Transaction = 2,
    /// The whole connection: greeting, EHLO, STARTTLS, AUTH, 421, protocol errors.
    Session = 3,
}

impl Scope {
    /// A lower-case name for logs, such as `"recipient"`.
    pub fn name(self) -> &'static str {
        // The names are ASCII: the conversion cannot fail.
        self.c_name().to_str().unwrap_or_default()
    }

    /// [`Scope::name`] as a C string, for foreign callers: the one table of the names.
    pub fn c_name(self) -> &'static core::ffi::CStr {
        match self {
            Scope::Recipient => c"recipient",
            Scope::Transaction => c"transaction",
            Scope::Session => c"session",
        }
    }
}

bitset! {
    /// Facts about a reply worth logging or acting on, as bits (the same bits as the C ABI).
    pub struct Flags(u32);
    /// Every defined flag.
    ALL;
    /// More than one line.
    const MULTILINE = 1 << 0;
    /// A line ended in LF without CR.
    const BARE_LF = 1 << 1;
    /// The lines do not all carry the same reply code.
    const CODE_MISMATCH = 1 << 2;
    /// The enhanced code's class differs from the reply code's first digit.
    const CLASS_MISMATCH = 1 << 3;
    /// The second digit is over 5, or the first is not 2 to 5.
    const NONSTANDARD_CODE = 1 << 4;
    /// A positive code the command does not use (3xx to RCPT, 2xx to DATA, ...).
    const UNEXPECTED_CODE = 1 << 5;
    /// The server broke the protocol: end the session, keep the mail.
    const PROTOCOL_ERROR = 1 << 6;
    /// Close the connection after this reply.
    const CLOSE_CONNECTION = 1 << 7;
    /// A batch limit read from an RFC 821 style 552.
    const LEGACY_552 = 1 << 8;
    /// A DATA reply in a transaction with no accepted recipient: it says nothing about any.
    const NO_RECIPIENTS = 1 << 9;
    /// A line longer than 512 octets.
    const LONG_LINE = 1 << 10;
}

/// An RFC 3463 enhanced status code, `class.subject.detail`, as the server sent it.
///
/// One word, class, subject and detail in ten bits each and never zero, so that an
/// `Option<EnhancedCode>` is four bytes, written at once into a [`Classification`] (README
/// "Performance"). Codes order by class, then subject, then detail.
///
/// ```
/// use smtp_verdict::EnhancedCode;
///
/// let code = EnhancedCode::new(4, 5, 3).unwrap();
/// assert_eq!((code.class(), code.subject(), code.detail()), (4, 5, 3));
/// assert_eq!(code.to_string(), "4.5.3");
/// assert_eq!(EnhancedCode::new(3, 0, 0), None);
/// assert!(matches!(code.parts(), (4 | 5, 5, 3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnhancedCode(NonZeroU32);

const _: () = assert!(size_of::<Option<EnhancedCode>>() == 4);

/// Bits of each part of an [`EnhancedCode`] (all parts are below 1000).
const PART_BITS: u32 = 10;
/// One part's bits, shifted down.
const PART_MASK: u32 = (1 << PART_BITS) - 1;

/// RFC 3463: class 2, 4 or 5, subject and detail of at most three digits.
const fn valid_parts(class: u32, subject: u32, detail: u32) -> bool {
    matches!(class, 2 | 4 | 5) && subject <= 999 && detail <= 999
}

/// An [`EnhancedCode`]'s word, unchecked: the parser builds it from digits it has checked.
pub(crate) const fn pack_enhanced(class: u32, subject: u32, detail: u32) -> u32 {
    class << (2 * PART_BITS) | subject << PART_BITS | detail
}

impl EnhancedCode {
    /// `class.subject.detail`, or `None` unless the class is 2, 4 or 5 and the subject and
    /// detail have at most three digits (RFC 3463).
    pub const fn new(class: u8, subject: u16, detail: u16) -> Option<EnhancedCode> {
        let (class, subject, detail) = (class as u32, subject as u32, detail as u32);
        if !valid_parts(class, subject, detail) {
            return None;
        }
        EnhancedCode::from_word(pack_enhanced(class, subject, detail))
    }
    /// The code whose word is `word` ([`pack_enhanced`]), `None` for 0.
    pub(crate) const fn from_word(word: u32) -> Option<EnhancedCode> {
        match NonZeroU32::new(word) {
            Some(word) => Some(EnhancedCode(word)),
            None => None,
        }
    }
    /// The word of `code`, 0 for none: its parts shift out of it as they do out of a code's.
    pub(crate) const fn word_of(code: Option<EnhancedCode>) -> u32 {
        match code {
            Some(code) => code.0.get(),
            None => 0,
        }
    }
    /// The parts of a word ([`EnhancedCode::word_of`]): all 0 for none.
    pub(crate) const fn parts_of_word(word: u32) -> [u32; 3] {
        [
            word >> (2 * PART_BITS),
            word >> PART_BITS & PART_MASK,
            word & PART_MASK,
        ]
    }
    /// Whether `word` is the word of a code [`EnhancedCode::new`] accepts (a scanner's words
    /// may come back from foreign memory).
    pub(crate) const fn is_valid_word(word: u32) -> bool {
        let [class, subject, detail] = EnhancedCode::parts_of_word(word);
        valid_parts(class, subject, detail)
    }
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    pub const fn class(self) -> u8 {
        EnhancedCode::parts_of_word(self.0.get())[0] as u8
    }
    /// 0 to 999: what the code is about (RFC 3463 section 3: 1 addressing, 5 protocol, ...).
    pub const fn subject(self) -> u16 {
        EnhancedCode::parts_of_word(self.0.get())[1] as u16
    }
    /// 0 to 999: the condition within the subject.
    pub const fn detail(self) -> u16 {
        EnhancedCode::parts_of_word(self.0.get())[2] as u16
    }
    /// `(class, subject, detail)`, to match on.
    pub const fn parts(self) -> (u8, u16, u16) {
        (self.class(), self.subject(), self.detail())
    }
    /// The IANA registry title of this code, if it is registered.
    pub fn title(self) -> Option<&'static str> {
        enhanced_code_title(self.class(), self.subject(), self.detail())
    }
}

impl core::fmt::Debug for EnhancedCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EnhancedCode")
            .field("class", &self.class())
            .field("subject", &self.subject())
            .field("detail", &self.detail())
            .finish()
    }
}

impl core::fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}.{}", self.class(), self.subject(), self.detail())
    }
}

/// The verdict on one reply, with what the caller needs to log it and to go on reading.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Classification {
    pub verdict: Verdict,
    pub scope: Scope,
    /// The final line's reply code (0 when the reply could not be parsed).
    pub code: u16,
    /// The enhanced code as sent (`None` on 3xx replies, where RFC 2034 ignores it).
    pub enhanced: Option<EnhancedCode>,
    pub flags: Flags,
    /// On a batch-limit verdict, the most recipients each following transaction may carry:
    /// the count the server accepted in this one (`accepted_recipients`, POLICY.md 6). 0 on
    /// every other verdict.
    pub batch_size: u32,
    /// Lines in the reply.
    pub lines: u32,
    /// Bytes of input the reply took, line ends included.
    pub consumed: usize,
    /// Where the final line's text (after the code and enhanced code) lies in the input.
    pub text: core::ops::Range<usize>,
}

/// Why a reply could not be classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// The reply is not complete yet: read more bytes and call again.
    Incomplete,
    /// Not an SMTP reply. `consumed` reaches the end of the offending line.
    Malformed { consumed: usize, lines: u32 },
    /// A line or the reply exceeds [`MAX_LINE_LEN`] or [`MAX_REPLY_LEN`]. `consumed` is 0:
    /// nothing past the limit is read, so the end of the reply is not known.
    TooLong { consumed: usize, lines: u32 },
}

impl Error {
    /// The safe answer for a reply that cannot be read: retry, session scope, protocol error,
    /// close the connection. `None` for [`Error::Incomplete`], which is no answer yet.
    pub fn fallback(self) -> Option<Classification> {
        let (consumed, lines) = match self {
            Error::Incomplete => return None,
            Error::Malformed { consumed, lines } | Error::TooLong { consumed, lines } => {
                (consumed, lines)
            }
        };
        Some(Classification::safe_answer(
            Flags::PROTOCOL_ERROR | Flags::CLOSE_CONNECTION,
            consumed,
            lines,
        ))
    }
}

impl Classification {
    /// The safe answer, given whenever a reply cannot be classified: retry, session scope, no
    /// code, with `flags`; `consumed` and `lines` are what the reader got through.
    pub(crate) const fn safe_answer(flags: Flags, consumed: usize, lines: u32) -> Classification {
        Classification {
            verdict: Verdict::Retry,
            scope: Scope::Session,
            code: 0,
            enhanced: None,
            flags,
            batch_size: 0,
            lines,
            consumed,
            text: consumed..consumed,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Incomplete => f.write_str("incomplete SMTP reply"),
            Error::Malformed { .. } => f.write_str("malformed SMTP reply"),
            Error::TooLong { .. } => f.write_str("SMTP reply too long"),
        }
    }
}

impl std::error::Error for Error {}

/// Parses the first reply in `input` and classifies it.
///
/// Several pipelined replies may follow each other in `input`: `consumed` says where the next
/// one starts. Allocates nothing.
#[inline]
pub fn classify(input: &[u8], ctx: &Context) -> Result<Classification, Error> {
    Scanner::classify_whole(input, ctx)
}

/// Parses the first reply in `input` without classifying it.
pub fn parse(input: &[u8], options: Options) -> Result<Reply<'_>, Error> {
    Scanner::parse_whole(input, options)
}

#[cfg(test)]
mod tests {
    use super::{Command, EnhancedCode};

    #[test]
    fn command_numbers_are_their_places_in_all() {
        for n in 0..=u32::from(u8::MAX) {
            assert_eq!(Command::from_u32(n), Command::ALL.get(n as usize).copied());
        }
        assert_eq!(Command::from_u32(u32::MAX), None);
        for (n, command) in Command::ALL.iter().enumerate() {
            assert_eq!(*command as usize, n);
        }
    }

    #[test]
    fn enhanced_code_parts_round_trip() {
        for class in 0..=u8::MAX {
            for part in [
                0,
                1,
                5,
                9,
                10,
                99,
                100,
                511,
                512,
                999,
                1000,
                1023,
                1024,
                u16::MAX,
            ] {
                for (subject, detail) in [(part, 3), (5, part), (part, part)] {
                    let code = EnhancedCode::new(class, subject, detail);
                    let valid = matches!(class, 2 | 4 | 5) && subject <= 999 && detail <= 999;
                    assert_eq!(code.is_some(), valid, "{class}.{subject}.{detail}");
                    if let Some(code) = code {
                        assert_eq!(
                            (code.class(), code.subject(), code.detail()),
                            (class, subject, detail)
                        );
                        assert_eq!(code.to_string(), format!("{class}.{subject}.{detail}"));
                    }
                }
            }
        }
        // Ordered as the parts are: class, then subject, then detail.
        let codes = [
            (2, 0, 0),
            (2, 0, 999),
            (2, 1, 0),
            (4, 5, 3),
            (5, 0, 0),
            (5, 999, 999),
        ]
        .map(|(c, s, d)| EnhancedCode::new(c, s, d).unwrap());
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            format!("{:?}", codes[3]),
            "EnhancedCode { class: 4, subject: 5, detail: 3 }"
        );
    }
}
