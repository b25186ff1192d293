//! The EHLO (and LMTP LHLO) reply: which service extensions the server offers (RFC 5321 4.1.1.1).
//!
//! The reply is split by the crate's reply parser ([`crate::parse`]); this module only reads the
//! keyword lines. Nothing here allocates.

use crate::{Error, Options};

crate::bitset! {
    /// Service extensions without parameters, as bits.
    pub struct Extensions(u16);
    /// Every defined bit.
    ALL;
    /// RFC 2920 command pipelining.
    const PIPELINING = 1 << 0;
    /// RFC 6152 8-bit MIME transport.
    const EIGHTBITMIME = 1 << 1;
    /// RFC 6531 internationalized email.
    const SMTPUTF8 = 1 << 2;
    /// RFC 2034 enhanced status codes.
    const ENHANCEDSTATUSCODES = 1 << 3;
    /// RFC 3030 BDAT.
    const CHUNKING = 1 << 4;
    /// RFC 3030 binary MIME.
    const BINARYMIME = 1 << 5;
    /// RFC 3461 delivery status notifications.
    const DSN = 1 << 6;
    /// RFC 3207 STARTTLS.
    const STARTTLS = 1 << 7;
    /// RFC 8689 REQUIRETLS.
    const REQUIRETLS = 1 << 8;
}

impl Extensions {
    /// The keywords, upper case, in bit order.
    pub const NAMES: [(&'static str, Extensions); 9] = [
        ("PIPELINING", Extensions::PIPELINING),
        ("8BITMIME", Extensions::EIGHTBITMIME),
        ("SMTPUTF8", Extensions::SMTPUTF8),
        ("ENHANCEDSTATUSCODES", Extensions::ENHANCEDSTATUSCODES),
        ("CHUNKING", Extensions::CHUNKING),
        ("BINARYMIME", Extensions::BINARYMIME),
        ("DSN", Extensions::DSN),
        ("STARTTLS", Extensions::STARTTLS),
        ("REQUIRETLS", Extensions::REQUIRETLS),
    ];
}

crate::bitset! {
    /// SASL mechanisms offered by the `AUTH` keyword (RFC 4954), as bits.
    pub struct AuthMechanisms(u16);
    /// Every defined bit.
    ALL;
    /// RFC 4616.
    const PLAIN = 1 << 0;
    /// draft-murchison-sasl-login.
    const LOGIN = 1 << 1;
    /// RFC 2195.
    const CRAM_MD5 = 1 << 2;
    /// Google and Microsoft OAuth 2.0.
    const XOAUTH2 = 1 << 3;
    /// RFC 7628.
    const OAUTHBEARER = 1 << 4;
    /// RFC 5802.
    const SCRAM_SHA_1 = 1 << 5;
    /// RFC 5802, with channel binding.
    const SCRAM_SHA_1_PLUS = 1 << 6;
    /// RFC 7677.
    const SCRAM_SHA_256 = 1 << 7;
    /// RFC 7677, with channel binding.
    const SCRAM_SHA_256_PLUS = 1 << 8;
}

impl AuthMechanisms {
    /// The mechanism names, upper case, in bit order.
    pub const NAMES: [(&'static str, AuthMechanisms); 9] = [
        ("PLAIN", AuthMechanisms::PLAIN),
        ("LOGIN", AuthMechanisms::LOGIN),
        ("CRAM-MD5", AuthMechanisms::CRAM_MD5),
        ("XOAUTH2", AuthMechanisms::XOAUTH2),
        ("OAUTHBEARER", AuthMechanisms::OAUTHBEARER),
        ("SCRAM-SHA-1", AuthMechanisms::SCRAM_SHA_1),
        ("SCRAM-SHA-1-PLUS", AuthMechanisms::SCRAM_SHA_1_PLUS),
        ("SCRAM-SHA-256", AuthMechanisms::SCRAM_SHA_256),
        ("SCRAM-SHA-256-PLUS", AuthMechanisms::SCRAM_SHA_256_PLUS),
    ];
}

/// RFC 9422 `LIMITS` parameters. `None` when not advertised or not valid (zero, not digits,
/// over `u32::MAX`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Limits {
    /// `RCPTMAX`: recipients per transaction.
    pub rcpt_max: Option<u32>,
    /// `MAILMAX`: transactions per session.
    pub mail_max: Option<u32>,
    /// `RCPTDOMAINMAX`: distinct recipient domains per transaction.
    pub rcpt_domain_max: Option<u32>,
}

/// What an EHLO or LHLO reply advertises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// The parameterless extensions offered.
    pub extensions: Extensions,
    /// RFC 1870 `SIZE` limit in octets; `None` when not advertised or advertised without a
    /// limit (bare `SIZE`, `SIZE 0`, or a value that is not a number).
    pub size: Option<u64>,
    /// Whether `SIZE` was advertised at all.
    pub size_advertised: bool,
    /// The known SASL mechanisms of every `AUTH` and `AUTH=` line together.
    pub auth: AuthMechanisms,
    /// Distinct unknown SASL mechanisms (names compared without case; past 16 distinct names,
    /// each further name counts, repeated or not).
    pub auth_unknown: u32,
    /// RFC 9422 limits.
    pub limits: Limits,
    /// Bytes of input the reply took, line ends included.
    pub consumed: usize,
    /// The reply code (2xx; RFC 5321 sends 250).
    pub code: u16,
}

impl Capabilities {
    /// Whether every extension of `ext` is offered.
    pub const fn has(&self, ext: Extensions) -> bool {
        self.extensions.contains(ext)
    }
}

/// Why an EHLO reply gave no capabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EhloError {
    /// The reply is not complete yet: read more bytes and call again.
    Incomplete,
    /// Not an SMTP reply.
    Malformed,
    /// A line or the reply exceeds [`crate::MAX_LINE_LEN`] or [`crate::MAX_REPLY_LEN`].
    TooLong,
    /// A well-formed reply whose code is not 2xx (500/502: no EHLO, try HELO; 421, 554, ...).
    /// `consumed` is the reply's length, so the caller can go on reading after it.
    Refused {
        /// The final line's reply code.
        code: u16,
        /// Bytes of input the reply took.
        consumed: usize,
    },
}

impl core::fmt::Display for EhloError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EhloError::Incomplete => f.write_str("incomplete EHLO reply"),
            EhloError::Malformed => f.write_str("malformed EHLO reply"),
            EhloError::TooLong => f.write_str("EHLO reply too long"),
            EhloError::Refused { code, .. } => write!(f, "EHLO refused with {code}"),
        }
    }
}

impl std::error::Error for EhloError {}

impl From<Error> for EhloError {
    fn from(e: Error) -> EhloError {
        match e {
            Error::Incomplete => EhloError::Incomplete,
            Error::Malformed { .. } => EhloError::Malformed,
            Error::TooLong { .. } => EhloError::TooLong,
        }
    }
}

/// Unknown AUTH mechanism names remembered to count each once.
const UNKNOWN_SLOTS: usize = 16;

/// Parses the EHLO or LHLO reply at the start of `input` into the capabilities it advertises.
///
/// The first line is the server's name and greeting, never a keyword. Keywords and mechanisms
/// are matched without case, trailing blanks and tabs are ignored, `AUTH=` lines (old
/// Outlook style) count as `AUTH`, several `AUTH` lines are joined, and unknown keywords are
/// skipped. Any 2xx reply is accepted (RFC 5321 sends 250).
///
/// ```
/// use smtp_verdict::{parse_ehlo, AuthMechanisms, EhloError, Extensions};
///
/// let caps = parse_ehlo(
///     b"250-mx.example.com Hello\r\n250-SIZE 35882577\r\n250-AUTH=LOGIN PLAIN\r\n\
///       250-LIMITS RCPTMAX=100 MAILMAX=0\r\n250 PIPELINING\r\n",
/// )
/// .unwrap();
/// assert!(caps.has(Extensions::PIPELINING));
/// assert_eq!(caps.size, Some(35882577));
/// assert!(caps.auth.contains(AuthMechanisms::LOGIN | AuthMechanisms::PLAIN));
/// assert_eq!((caps.limits.rcpt_max, caps.limits.mail_max), (Some(100), None));
///
/// assert_eq!(parse_ehlo(b"250-mx.example.com\r\n"), Err(EhloError::Incomplete));
/// assert!(matches!(parse_ehlo(b"502 5.5.2 Error\r\n"), Err(EhloError::Refused { code: 502, .. })));
/// ```
pub fn parse_ehlo(input: &[u8]) -> Result<Capabilities, EhloError> {
    let reply = crate::parse(input, Options::default())?;
    let consumed = reply.consumed();
    if reply.code() / 100 != 2 {
        return Err(EhloError::Refused {
            code: reply.code(),
            consumed,
        });
    }
    let mut caps = Capabilities {
        consumed,
        code: reply.code(),
        ..Capabilities::default()
    };
    let mut unknown: [&[u8]; UNKNOWN_SLOTS] = [&[]; UNKNOWN_SLOTS];
    let mut unknown_len = 0;
    for line in reply.lines().skip(1) {
        // The parser has checked the three-digit code; the separator is '-', ' ' or absent.
        let text = trim_end(line.get(4..).unwrap_or(&[]));
        let (keyword, params) = split_word(text);
        if let Some(rest) = strip_prefix_ignore_case(keyword, b"AUTH=") {
            add_auth(&mut caps, rest, &mut unknown, &mut unknown_len);
            add_auth_list(&mut caps, params, &mut unknown, &mut unknown_len);
        } else if keyword.eq_ignore_ascii_case(b"AUTH") {
            add_auth_list(&mut caps, params, &mut unknown, &mut unknown_len);
        } else if keyword.eq_ignore_ascii_case(b"SIZE") {
            caps.size_advertised = true;
            caps.size = parse_number(split_word(params).0).filter(|&n| n != 0);
        } else if keyword.eq_ignore_ascii_case(b"LIMITS") {
            add_limits(&mut caps.limits, params);
        } else if let Some((_, ext)) = Extensions::NAMES
            .iter()
            .find(|(name, _)| keyword.eq_ignore_ascii_case(name.as_bytes()))
        {
            caps.extensions.insert(*ext);
        }
    }
    Ok(caps)
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if !is_blank(*last) {
            break;
        }
        s = rest;
    }
    s
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_blank(*first) {
            break;
        }
        s = rest;
    }
    s
}

/// The first blank-separated word of `s` (after leading blanks) and what follows it.
fn split_word(s: &[u8]) -> (&[u8], &[u8]) {
    let s = trim_start(s);
    let end = s.iter().position(|&b| is_blank(b)).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn strip_prefix_ignore_case<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Decimal digits only, no sign, no overflow.
fn parse_number(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

fn add_auth_list<'a>(
    caps: &mut Capabilities,
    mut list: &'a [u8],
    unknown: &mut [&'a [u8]; UNKNOWN_SLOTS],
    unknown_len: &mut usize,
) {
    loop {
        let (word, rest) = split_word(list);
        if word.is_empty() {
            return;
        }
        add_auth(caps, word, unknown, unknown_len);
        list = rest;
    }
}

fn add_auth<'a>(
    caps: &mut Capabilities,
    name: &'a [u8],
    unknown: &mut [&'a [u8]; UNKNOWN_SLOTS],
    unknown_len: &mut usize,
) {
    if name.is_empty() {
        return;
    }
    if let Some((_, m)) = AuthMechanisms::NAMES
        .iter()
        .find(|(known, _)| name.eq_ignore_ascii_case(known.as_bytes()))
    {
        caps.auth.insert(*m);
        return;
    }
    if unknown[..*unknown_len]
        .iter()
        .any(|seen| seen.eq_ignore_ascii_case(name))
    {
        return;
    }
    if *unknown_len < UNKNOWN_SLOTS {
        unknown[*unknown_len] = name;
        *unknown_len += 1;
    }
    caps.auth_unknown = caps.auth_unknown.saturating_add(1);
}

fn add_limits(limits: &mut Limits, mut params: &[u8]) {
    loop {
        let (word, rest) = split_word(params);
        if word.is_empty() {
            return;
        }
        params = rest;
        let Some(eq) = word.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (name, value) = (&word[..eq], &word[eq + 1..]);
        let slot = if name.eq_ignore_ascii_case(b"RCPTMAX") {
            &mut limits.rcpt_max
        } else if name.eq_ignore_ascii_case(b"MAILMAX") {
            &mut limits.mail_max
        } else if name.eq_ignore_ascii_case(b"RCPTDOMAINMAX") {
            &mut limits.rcpt_domain_max
        } else {
            continue;
        };
        if let Some(n) = parse_number(value)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n != 0)
        {
            *slot = Some(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_line_is_not_a_keyword() {
        let caps = parse_ehlo(b"250 PIPELINING\r\n").unwrap();
        assert_eq!(
            caps,
            Capabilities {
                consumed: 16,
                code: 250,
                ..Capabilities::default()
            }
        );
    }

    #[test]
    fn numbers_and_blanks() {
        assert_eq!(parse_number(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_number(b"18446744073709551616"), None);
        assert_eq!(parse_number(b"+1"), None);
        assert_eq!(parse_number(b""), None);
        assert_eq!(trim_end(b"SIZE \t "), b"SIZE");
        assert_eq!(split_word(b" AUTH  PLAIN"), (&b"AUTH"[..], &b"  PLAIN"[..]));
        let caps =
            parse_ehlo(b"250-h\r\n250-size\t\r\n250-Auth= plain\r\n250 auth xyz XYZ\r\n").unwrap();
        assert!(caps.size_advertised);
        assert_eq!(caps.size, None);
        assert_eq!(caps.auth, AuthMechanisms::PLAIN);
        assert_eq!(caps.auth_unknown, 1);
    }

    #[test]
    fn limits_keep_the_good_values() {
        let mut limits = Limits::default();
        add_limits(
            &mut limits,
            b" rcptmax=4294967296 MAILMAX=7 X=1 RCPTDOMAINMAX=0 junk =3",
        );
        assert_eq!(
            limits,
            Limits {
                rcpt_max: None,
                mail_max: Some(7),
                rcpt_domain_max: None
            }
        );
    }
}
