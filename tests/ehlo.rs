//! The EHLO capabilities corpus (`tests/vectors/ehlo/ehlo.tsv`): real EHLO and LHLO replies and
//! what [`parse_ehlo`] must read from them. Every failing row is reported, not just the first.

#[path = "common/vectors.rs"]
mod vectors;

use std::collections::HashSet;
use std::path::Path;

use smtp_verdict::{AuthMechanisms, Capabilities, EhloError, Extensions, Limits, parse_ehlo};

const COLUMNS: [&str; 13] = [
    "id",
    "server",
    "source",
    "status",
    "code",
    "extensions",
    "size",
    "auth",
    "auth_unknown",
    "rcpt_max",
    "mail_max",
    "rcpt_domain_max",
    "reply",
];

/// One row: the reply and what parsing it must give.
struct Row {
    line: usize,
    id: String,
    reply: Vec<u8>,
    expected: Result<Capabilities, EhloError>,
}

fn names<T: Copy>(table: &[(&str, T)], list: &str, what: &str) -> Result<Vec<T>, String> {
    if list == "-" {
        return Ok(Vec::new());
    }
    list.split(',')
        .map(|name| {
            table
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("unknown {what} {name:?}"))
        })
        .collect()
}

fn optional(s: &str, what: &str) -> Result<Option<u32>, String> {
    match s {
        "-" => Ok(None),
        n => n.parse().map(Some).map_err(|_| format!("bad {what} {n:?}")),
    }
}

fn parse_row(raw: &str) -> Result<Row, String> {
    let cols: Vec<&str> = raw.split('\t').collect();
    let Ok(
        [
            id,
            server,
            source,
            status,
            code,
            extensions,
            size,
            auth,
            auth_unknown,
            rcpt_max,
            mail_max,
            rcpt_domain_max,
            reply,
        ],
    ) = <[&str; 13]>::try_from(cols.as_slice())
    else {
        return Err(format!(
            "{} columns, expected {}",
            cols.len(),
            COLUMNS.len()
        ));
    };
    if id.is_empty() || server.is_empty() || source.is_empty() {
        return Err("id, server and source must not be empty".to_string());
    }
    let reply = vectors::decode(reply).map_err(|e| format!("{id}: reply: {e}"))?;
    let code: u16 = code
        .parse()
        .map_err(|_| format!("{id}: bad code {code:?}"))?;
    let expected = match status {
        "OK" => {
            let mut caps = Capabilities {
                consumed: reply.len(),
                code,
                ..Capabilities::default()
            };
            for e in names(&Extensions::NAMES, extensions, "extension")? {
                caps.extensions.insert(e);
            }
            for m in names(&AuthMechanisms::NAMES, auth, "mechanism")? {
                caps.auth.insert(m);
            }
            (caps.size_advertised, caps.size) = match size {
                "-" => (false, None),
                "none" => (true, None),
                n => (
                    true,
                    Some(n.parse().map_err(|_| format!("{id}: bad size {n:?}"))?),
                ),
            };
            caps.auth_unknown = auth_unknown
                .parse()
                .map_err(|_| format!("{id}: bad auth_unknown {auth_unknown:?}"))?;
            caps.limits = Limits {
                rcpt_max: optional(rcpt_max, "rcpt_max")?,
                mail_max: optional(mail_max, "mail_max")?,
                rcpt_domain_max: optional(rcpt_domain_max, "rcpt_domain_max")?,
            };
            Ok(caps)
        }
        other => {
            let rest = [extensions, size, auth, rcpt_max, mail_max, rcpt_domain_max];
            if rest.iter().any(|c| *c != "-") || auth_unknown != "0" {
                return Err(format!("{id}: a {other} row has no capabilities"));
            }
            if (other == "REFUSED") != (code != 0) {
                return Err(format!(
                    "{id}: code is 0 exactly when the status is not REFUSED"
                ));
            }
            Err(match other {
                "REFUSED" => EhloError::Refused {
                    code,
                    consumed: reply.len(),
                },
                "INCOMPLETE" => EhloError::Incomplete,
                "MALFORMED" => EhloError::Malformed,
                "TOO_LONG" => EhloError::TooLong,
                s => return Err(format!("{id}: unknown status {s:?}")),
            })
        }
    };
    Ok(Row {
        line: 0,
        id: id.to_string(),
        reply,
        expected,
    })
}

fn load() -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/ehlo/ehlo.tsv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    let mut seen_header = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.starts_with('#') || raw.is_empty() {
            continue;
        }
        if !seen_header {
            seen_header = true;
            let header: Vec<&str> = raw.split('\t').collect();
            assert_eq!(header, COLUMNS, "ehlo.tsv:{line}: header");
            continue;
        }
        match parse_row(raw) {
            Ok(row) => {
                if !ids.insert(row.id.clone()) {
                    errors.push(format!("ehlo.tsv:{line}: id {} used twice", row.id));
                }
                rows.push(Row { line, ..row });
            }
            Err(e) => errors.push(format!("ehlo.tsv:{line}: {e}")),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    rows
}

#[test]
fn every_row() {
    let rows = load();
    assert!(rows.len() >= 30, "only {} rows", rows.len());
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let got = parse_ehlo(&row.reply);
            (got != row.expected).then(|| {
                format!(
                    "ehlo.tsv:{} {}:\n  expected {:?}\n  got      {:?}",
                    row.line, row.id, row.expected, got
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows fail:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// A reply followed by the next one (or any bytes): `consumed` stops at the reply's end and
/// the answer is the same.
#[test]
fn trailing_bytes_change_nothing() {
    for row in load() {
        if matches!(row.expected, Err(EhloError::Incomplete)) {
            continue;
        }
        let mut input = row.reply.clone();
        input.extend_from_slice(b"250 2.1.0 Ok\r\n");
        assert_eq!(parse_ehlo(&input), row.expected, "{}", row.id);
    }
}

/// Every prefix of a complete reply is incomplete, never a wrong capability set.
#[test]
fn every_prefix_is_incomplete() {
    for row in load() {
        if row.reply.len() > 4096 || row.expected.is_err() {
            continue;
        }
        for end in 0..row.reply.len() {
            assert_eq!(
                parse_ehlo(&row.reply[..end]),
                Err(EhloError::Incomplete),
                "{} cut at {end}",
                row.id
            );
        }
    }
}

#[test]
fn several_auth_lines_are_a_union() {
    let caps = parse_ehlo(
        b"250-mx.example.com\r\n250-AUTH PLAIN\r\n250-AUTH=LOGIN X-ONE\r\n250 AUTH xoauth2 x-one X-TWO\r\n",
    )
    .unwrap();
    assert_eq!(
        caps.auth,
        AuthMechanisms::PLAIN | AuthMechanisms::LOGIN | AuthMechanisms::XOAUTH2
    );
    assert_eq!(caps.auth_unknown, 2);
}

#[test]
fn greeting_named_like_a_keyword_is_not_one() {
    let caps = parse_ehlo(b"250-SIZE.example.com\r\n250 8BITMIME\r\n").unwrap();
    assert!(!caps.size_advertised);
    assert_eq!(caps.extensions, Extensions::EIGHTBITMIME);
}

#[test]
fn error_messages() {
    assert_eq!(
        EhloError::Refused {
            code: 502,
            consumed: 9
        }
        .to_string(),
        "EHLO refused with 502"
    );
    assert_eq!(EhloError::Incomplete.to_string(), "incomplete EHLO reply");
}

/// `smtp_parse_ehlo` gives what `parse_ehlo` gives, on every row, with the struct at exactly
/// its size, and with a shorter-than-known `struct_size` it refuses to write.
#[test]
fn c_abi_agrees_on_every_row() {
    use smtp_verdict::ffi as c;
    let size = std::mem::size_of::<c::smtp_ehlo_capabilities>() as u32;
    for row in load() {
        let mut out = c::smtp_ehlo_capabilities {
            struct_size: size,
            ..Default::default()
        };
        // SAFETY: a live slice and a struct of the size it says.
        let status = unsafe { c::smtp_parse_ehlo(row.reply.as_ptr(), row.reply.len(), &mut out) };
        let id = &row.id;
        match parse_ehlo(&row.reply) {
            Ok(caps) => {
                assert_eq!(status, c::smtp_verdict_status::SMTP_STATUS_OK, "{id}");
                assert_eq!(out.code, u32::from(caps.code), "{id}");
                assert_eq!(out.extensions, u32::from(caps.extensions.bits()), "{id}");
                assert_eq!(out.auth_mechanisms, u32::from(caps.auth.bits()), "{id}");
                assert_eq!(out.auth_unknown, caps.auth_unknown, "{id}");
                assert_eq!(out.size_limit, caps.size.unwrap_or(0), "{id}");
                assert_eq!(out.size_advertised, u32::from(caps.size_advertised), "{id}");
                assert_eq!(out.rcpt_max, caps.limits.rcpt_max.unwrap_or(0), "{id}");
                assert_eq!(out.mail_max, caps.limits.mail_max.unwrap_or(0), "{id}");
                assert_eq!(
                    out.rcpt_domain_max,
                    caps.limits.rcpt_domain_max.unwrap_or(0),
                    "{id}"
                );
                assert_eq!(out.consumed, caps.consumed, "{id}");
            }
            Err(EhloError::Refused { code, consumed }) => {
                assert_eq!(status, c::smtp_verdict_status::SMTP_STATUS_REFUSED, "{id}");
                assert_eq!(
                    (out.code, out.consumed),
                    (u32::from(code), consumed),
                    "{id}"
                );
                assert_eq!(out.extensions, 0, "{id}");
            }
            Err(e) => {
                let expected = match e {
                    EhloError::Incomplete => c::smtp_verdict_status::SMTP_STATUS_INCOMPLETE,
                    EhloError::Malformed => c::smtp_verdict_status::SMTP_STATUS_MALFORMED,
                    _ => c::smtp_verdict_status::SMTP_STATUS_TOO_LONG,
                };
                assert_eq!(status, expected, "{id}");
                let zero = c::smtp_ehlo_capabilities {
                    struct_size: size,
                    ..Default::default()
                };
                assert_eq!(out, zero, "{id}");
            }
        }
    }
    let mut short = c::smtp_ehlo_capabilities {
        struct_size: size - 1,
        ..Default::default()
    };
    let reply = b"250 mx.example.com\r\n";
    // SAFETY: as above; the library must refuse the short size before writing.
    let status = unsafe { c::smtp_parse_ehlo(reply.as_ptr(), reply.len(), &mut short) };
    assert_eq!(status, c::smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT);
    // SAFETY: a NULL `out` is refused, and NULL data with a length is refused.
    unsafe {
        assert_eq!(
            c::smtp_parse_ehlo(reply.as_ptr(), reply.len(), std::ptr::null_mut()),
            c::smtp_verdict_status::SMTP_STATUS_NULL_ARGUMENT
        );
        let mut out = c::smtp_ehlo_capabilities {
            struct_size: size,
            ..Default::default()
        };
        assert_eq!(
            c::smtp_parse_ehlo(std::ptr::null(), 5, &mut out),
            c::smtp_verdict_status::SMTP_STATUS_NULL_ARGUMENT
        );
    }
}
