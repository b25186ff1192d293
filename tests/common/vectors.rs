//! The test-vector corpus of `tests/vectors/*.tsv` (format: `tests/vectors/README.md`).
//!
//! Shared by every test that wants real replies: `tests/vectors.rs` checks each row against the
//! library; property tests, benchmarks, the C tests and the fuzz seed export read the same rows.
//! Include it with `mod common;` (see `tests/common/mod.rs`) or directly:
//!
//! ```ignore
//! #[path = "common/vectors.rs"] // from tests/; "../tests/common/vectors.rs" from benches/
//! mod vectors;
//! let rows = vectors::load();
//! ```
//!
//! Only `std` and the crate's public API are used, so any test, bench or example can include it.
#![allow(dead_code)]

use std::fmt;
use std::path::{Path, PathBuf};

use smtp_verdict::{Command, Context, EnhancedCode, Flags, Options, Scope, Verdict};

/// The folder holding the `*.tsv` files.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
}

/// The column names, in order, as the header line of every file must give them.
pub const COLUMNS: [&str; 14] = [
    "id", "server", "source", "command", "accepted", "limited", "options", "status", "verdict",
    "scope", "code", "enhanced", "flags", "reply",
];

/// What `classify` must return for a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `Ok(Classification)`.
    Ok,
    /// `Err(Error::Incomplete)`.
    Incomplete,
    /// `Err(Error::Malformed { .. })`.
    Malformed,
    /// `Err(Error::TooLong { .. })`.
    TooLong,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Incomplete => "INCOMPLETE",
            Status::Malformed => "MALFORMED",
            Status::TooLong => "TOO_LONG",
        }
    }

    pub fn from_name(name: &str) -> Option<Status> {
        Some(match name {
            "OK" => Status::Ok,
            "INCOMPLETE" => Status::Incomplete,
            "MALFORMED" => Status::Malformed,
            "TOO_LONG" => Status::TooLong,
            _ => return None,
        })
    }
}

/// One row: a reply, its context, and the answer the library must give.
#[derive(Clone, Debug)]
pub struct Vector {
    /// The file name (such as `postfix.tsv`) and 1-based line number, for messages.
    pub file: String,
    pub line: usize,
    pub id: String,
    pub server: String,
    pub source: String,
    pub command: Command,
    pub accepted: u32,
    pub limited: u32,
    pub options: Options,
    pub status: Status,
    /// `None` only when `status` is `Incomplete`.
    pub verdict: Option<Verdict>,
    /// `None` only when `status` is `Incomplete`.
    pub scope: Option<Scope>,
    pub code: u16,
    pub enhanced: Option<EnhancedCode>,
    pub flags: Flags,
    /// The reply bytes, escapes decoded.
    pub reply: Vec<u8>,
    /// The reply column as written in the file.
    pub reply_escaped: String,
}

impl Vector {
    /// The context to classify the reply in.
    pub fn context(&self) -> Context {
        Context {
            command: self.command,
            accepted_recipients: self.accepted,
            limited_recipients: self.limited,
            options: self.options,
        }
    }

    /// `file:line (id)`, for messages.
    pub fn place(&self) -> String {
        format!("{}:{} ({})", self.file, self.line, self.id)
    }
}

/// A problem in a vector file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for FormatError {}

/// Every row of every `*.tsv` file in [`dir`], files in name order. Panics with all format
/// errors at once if any file is broken: a test cannot go on with a half-read corpus.
pub fn load() -> Vec<Vector> {
    match load_dir(&dir()) {
        Ok(rows) => rows,
        Err(errors) => panic!(
            "{} error(s) in the test vectors:\n{}",
            errors.len(),
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// Every row of every `*.tsv` file in `dir`, files in name order.
pub fn load_dir(dir: &Path) -> Result<Vec<Vector>, Vec<FormatError>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tsv"))
        .collect();
    paths.sort();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        match parse_file(&name, &text) {
            Ok(mut r) => rows.append(&mut r),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// The rows of one file's text. `file` names it in errors.
pub fn parse_file(file: &str, text: &str) -> Result<Vec<Vector>, Vec<FormatError>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen_header = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.starts_with('#') || raw.trim().is_empty() {
            continue;
        }
        let err = |message: String| FormatError {
            file: file.to_string(),
            line,
            message,
        };
        if !seen_header {
            seen_header = true;
            let header: Vec<&str> = raw.split('\t').collect();
            if header != COLUMNS {
                errors.push(err(format!(
                    "the header must be the columns {:?}, found {header:?}",
                    COLUMNS
                )));
            }
            continue;
        }
        match parse_row(raw) {
            Ok(mut v) => {
                v.file = file.to_string();
                v.line = line;
                rows.push(v);
            }
            Err(message) => errors.push(err(message)),
        }
    }
    if !seen_header {
        errors.push(FormatError {
            file: file.to_string(),
            line: 0,
            message: "no header line".to_string(),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// One data line (without its line end).
pub fn parse_row(line: &str) -> Result<Vector, String> {
    let cols: Vec<&str> = line.split('\t').collect();
    if cols.len() != COLUMNS.len() {
        return Err(format!(
            "{} columns, expected {} (a tab inside the reply must be written \\t)",
            cols.len(),
            COLUMNS.len()
        ));
    }
    let [
        id,
        server,
        source,
        command,
        accepted,
        limited,
        options,
        status,
        verdict,
        scope,
        code,
        enhanced,
        flags,
        reply,
    ] = <[&str; 14]>::try_from(cols).unwrap();
    let id_ok = !id.is_empty()
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
        });
    if !id_ok {
        return Err(format!(
            "bad id {id:?}: lower-case letters, digits, '-', '_', '.'"
        ));
    }
    if server.is_empty() || source.is_empty() {
        return Err(format!("{id}: server and source must not be empty"));
    }
    let command =
        command_from_name(command).ok_or_else(|| format!("{id}: unknown command {command:?}"))?;
    let accepted: u32 = accepted
        .parse()
        .map_err(|_| format!("{id}: bad accepted {accepted:?}"))?;
    let limited: u32 = limited
        .parse()
        .map_err(|_| format!("{id}: bad limited {limited:?}"))?;
    let options = options_from_names(options).map_err(|e| format!("{id}: {e}"))?;
    let status =
        Status::from_name(status).ok_or_else(|| format!("{id}: unknown status {status:?}"))?;
    let verdict = match verdict {
        "-" => None,
        v => Some(verdict_from_name(v).ok_or_else(|| format!("{id}: unknown verdict {v:?}"))?),
    };
    let scope = match scope {
        "-" => None,
        s => Some(scope_from_name(s).ok_or_else(|| format!("{id}: unknown scope {s:?}"))?),
    };
    if (status == Status::Incomplete) != (verdict.is_none() || scope.is_none())
        || verdict.is_none() != scope.is_none()
    {
        return Err(format!(
            "{id}: verdict and scope are '-' exactly when the status is INCOMPLETE"
        ));
    }
    let code: u16 = code
        .parse()
        .ok()
        .filter(|c| *c < 1000)
        .ok_or_else(|| format!("{id}: bad code {code:?}"))?;
    let enhanced = match enhanced {
        "-" => None,
        e => Some(enhanced_from_str(e).ok_or_else(|| format!("{id}: bad enhanced code {e:?}"))?),
    };
    let flags = flags_from_names(flags).map_err(|e| format!("{id}: {e}"))?;
    let decoded = decode(reply).map_err(|e| format!("{id}: reply: {e}"))?;
    Ok(Vector {
        file: String::new(),
        line: 0,
        id: id.to_string(),
        server: server.to_string(),
        source: source.to_string(),
        command,
        accepted,
        limited,
        options,
        status,
        verdict,
        scope,
        code,
        enhanced,
        flags,
        reply: decoded,
        reply_escaped: reply.to_string(),
    })
}

/// Decodes the reply column: `\r`, `\n`, `\t`, `\\`, `\xHH`, and `\{N:TEXT}` for TEXT (itself
/// escaped, and possibly holding further `\{..}` groups) repeated N times. TEXT ends at the `}`
/// that closes the group; write a literal `}` inside it as `\x7d`. Any other byte stands for
/// itself (the file is UTF-8, so non-ASCII text may be written as is).
pub fn decode(s: &str) -> Result<Vec<u8>, String> {
    let bytes = s.as_bytes();
    let (out, end) = decode_until(bytes, 0, false)?;
    debug_assert_eq!(end, bytes.len());
    Ok(out)
}

/// Decodes from `at` to the end of `s`, or (when `in_group`) to the `}` that closes the
/// current repeat group; returns the bytes and the index just past what was read.
fn decode_until(s: &[u8], mut at: usize, in_group: bool) -> Result<(Vec<u8>, usize), String> {
    let mut out = Vec::new();
    while at < s.len() {
        let b = s[at];
        if in_group && b == b'}' {
            return Ok((out, at + 1));
        }
        if b != b'\\' {
            out.push(b);
            at += 1;
            continue;
        }
        let Some(&e) = s.get(at + 1) else {
            return Err(format!("a lone backslash at the end (byte {at})"));
        };
        match e {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex = s
                    .get(at + 2..at + 4)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("\\x needs two hex digits (byte {at})"))?;
                out.push(hex);
                at += 4;
                continue;
            }
            b'{' => {
                let colon = s[at + 2..]
                    .iter()
                    .position(|&c| c == b':')
                    .map(|p| at + 2 + p)
                    .ok_or_else(|| format!("\\{{N:TEXT}} without ':' (byte {at})"))?;
                let count: usize = std::str::from_utf8(&s[at + 2..colon])
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("\\{{N:TEXT}} needs a decimal N (byte {at})"))?;
                if count > 1 << 20 {
                    return Err(format!("repeat count {count} is too large (byte {at})"));
                }
                let (text, next) = decode_until(s, colon + 1, true)?;
                if next > s.len() || s[next - 1] != b'}' {
                    return Err(format!("\\{{N:TEXT}} not closed by '}}' (byte {at})"));
                }
                for _ in 0..count {
                    out.extend_from_slice(&text);
                }
                at = next;
                continue;
            }
            other => {
                return Err(format!(
                    "unknown escape \\{} (byte {at})",
                    char::from(other).escape_default()
                ));
            }
        }
        at += 2;
    }
    if in_group {
        return Err("\\{N:TEXT} not closed by '}'".to_string());
    }
    Ok((out, at))
}

/// Escapes bytes the way the reply column wants them (the inverse of [`decode`], without
/// repeat groups): printable ASCII and valid UTF-8 text as is, the rest as escapes.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 || c == '\x7f' => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `SMTP_CMD_*` names without the prefix, in the order of [`Command::ALL`].
pub const COMMAND_NAMES: [&str; 22] = [
    "UNKNOWN",
    "GREETING",
    "EHLO",
    "HELO",
    "LHLO",
    "STARTTLS",
    "AUTH",
    "MAIL",
    "RCPT",
    "DATA",
    "DATA_END",
    "BDAT",
    "BDAT_LAST",
    "RSET",
    "VRFY",
    "EXPN",
    "HELP",
    "NOOP",
    "QUIT",
    "ETRN",
    "BURL",
    "BURL_LAST",
];

pub fn command_from_name(name: &str) -> Option<Command> {
    let index = COMMAND_NAMES.iter().position(|n| *n == name)?;
    Some(Command::ALL[index])
}

pub fn command_name(command: Command) -> &'static str {
    let index = Command::ALL.iter().position(|c| *c == command).unwrap();
    COMMAND_NAMES[index]
}

pub const VERDICTS: [(&str, Verdict); 5] = [
    ("SUCCESS", Verdict::Success),
    ("INTERMEDIATE", Verdict::Intermediate),
    ("RETRY", Verdict::Retry),
    ("BATCH_LIMIT", Verdict::BatchLimit),
    ("PERMANENT", Verdict::Permanent),
];

pub fn verdict_from_name(name: &str) -> Option<Verdict> {
    VERDICTS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

pub fn verdict_name(verdict: Verdict) -> &'static str {
    VERDICTS.iter().find(|(_, v)| *v == verdict).unwrap().0
}

pub const SCOPES: [(&str, Scope); 3] = [
    ("RECIPIENT", Scope::Recipient),
    ("TRANSACTION", Scope::Transaction),
    ("SESSION", Scope::Session),
];

pub fn scope_from_name(name: &str) -> Option<Scope> {
    SCOPES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

pub fn scope_name(scope: Scope) -> &'static str {
    SCOPES.iter().find(|(_, s)| *s == scope).unwrap().0
}

/// `SMTP_FLAG_*` names without the prefix, in bit order.
pub const FLAGS: [(&str, Flags); 11] = [
    ("MULTILINE", Flags::MULTILINE),
    ("BARE_LF", Flags::BARE_LF),
    ("CODE_MISMATCH", Flags::CODE_MISMATCH),
    ("CLASS_MISMATCH", Flags::CLASS_MISMATCH),
    ("NONSTANDARD_CODE", Flags::NONSTANDARD_CODE),
    ("UNEXPECTED_CODE", Flags::UNEXPECTED_CODE),
    ("PROTOCOL_ERROR", Flags::PROTOCOL_ERROR),
    ("CLOSE_CONNECTION", Flags::CLOSE_CONNECTION),
    ("LEGACY_552", Flags::LEGACY_552),
    ("NO_RECIPIENTS", Flags::NO_RECIPIENTS),
    ("LONG_LINE", Flags::LONG_LINE),
];

pub fn flags_from_names(names: &str) -> Result<Flags, String> {
    let mut flags = Flags::empty();
    if names == "-" {
        return Ok(flags);
    }
    for name in names.split(',') {
        let (_, f) = FLAGS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("unknown flag {name:?}"))?;
        if flags.contains(*f) {
            return Err(format!("flag {name} given twice"));
        }
        flags.insert(*f);
    }
    Ok(flags)
}

/// Comma-separated flag names in bit order, or `-`.
pub fn flag_names(flags: Flags) -> String {
    let names: Vec<&str> = FLAGS
        .iter()
        .filter(|(_, f)| flags.contains(*f))
        .map(|(n, _)| *n)
        .collect();
    if names.is_empty() {
        "-".to_string()
    } else {
        names.join(",")
    }
}

pub const OPTIONS: [(&str, Options); 3] = [
    ("STRICT", Options::STRICT),
    ("552_PERMANENT", Options::PERMANENT_552),
    ("LMTP", Options::LMTP),
];

pub fn options_from_names(names: &str) -> Result<Options, String> {
    let mut options = Options::default();
    if names == "-" {
        return Ok(options);
    }
    for name in names.split(',') {
        let (_, o) = OPTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("unknown option {name:?}"))?;
        options = options | *o;
    }
    Ok(options)
}

pub fn option_names(options: Options) -> String {
    let names: Vec<&str> = OPTIONS
        .iter()
        .filter(|(_, o)| options.contains(*o))
        .map(|(n, _)| *n)
        .collect();
    if names.is_empty() {
        "-".to_string()
    } else {
        names.join(",")
    }
}

/// `class.subject.detail` as in the `enhanced` column.
pub fn enhanced_from_str(s: &str) -> Option<EnhancedCode> {
    let mut parts = s.split('.');
    let class: u8 = parts.next()?.parse().ok()?;
    let subject: u16 = parts.next()?.parse().ok()?;
    let detail: u16 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    EnhancedCode::new(class, subject, detail)
}

pub fn enhanced_name(e: Option<EnhancedCode>) -> String {
    e.map_or_else(|| "-".to_string(), |e| e.to_string())
}
