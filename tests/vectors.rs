//! The test-vector corpus (`tests/vectors/*.tsv`): real server replies, each classified in its
//! context, against the answer POLICY.md requires. Every failing row is reported, not just the
//! first, with its file, line and id.

mod common;

use std::collections::HashMap;

use common::vectors::{
    self, Status, Vector, command_name, decode, encode, enhanced_name, flag_names, option_names,
    scope_name, verdict_name,
};
use smtp_verdict::{Classification, Command, Error, Flags, Options, Scope, Verdict, classify};

/// The answer the library gave, in the terms of a row.
struct Actual {
    status: Status,
    verdict: Option<Verdict>,
    scope: Option<Scope>,
    code: u16,
    enhanced: Option<smtp_verdict::EnhancedCode>,
    flags: Flags,
    batch_size: u32,
    consumed: Option<usize>,
}

fn actual(v: &Vector) -> Actual {
    let from = |status, c: Classification| Actual {
        status,
        verdict: Some(c.verdict),
        scope: Some(c.scope),
        code: c.code,
        enhanced: c.enhanced,
        flags: c.flags,
        batch_size: c.batch_size,
        consumed: Some(c.consumed),
    };
    match classify(&v.reply, &v.context()) {
        Ok(c) => from(Status::Ok, c),
        Err(Error::Incomplete) => Actual {
            status: Status::Incomplete,
            verdict: None,
            scope: None,
            code: 0,
            enhanced: None,
            flags: Flags::empty(),
            batch_size: 0,
            consumed: None,
        },
        Err(e @ Error::Malformed { .. }) => from(Status::Malformed, e.fallback().unwrap()),
        Err(e @ Error::TooLong { .. }) => from(Status::TooLong, e.fallback().unwrap()),
    }
}

fn opt_name<T>(v: Option<T>, name: fn(T) -> &'static str) -> &'static str {
    v.map_or("-", name)
}

/// What is wrong with the library's answer to `v`, if anything.
fn check(v: &Vector) -> Option<String> {
    let a = actual(v);
    let mut diffs = Vec::new();
    let mut diff = |what: &str, want: String, got: String| {
        if want != got {
            diffs.push(format!("{what}: want {want}, got {got}"));
        }
    };
    diff("status", v.status.name().into(), a.status.name().into());
    diff(
        "verdict",
        opt_name(v.verdict, verdict_name).into(),
        opt_name(a.verdict, verdict_name).into(),
    );
    diff(
        "scope",
        opt_name(v.scope, scope_name).into(),
        opt_name(a.scope, scope_name).into(),
    );
    diff("code", v.code.to_string(), a.code.to_string());
    diff(
        "enhanced",
        enhanced_name(v.enhanced),
        enhanced_name(a.enhanced),
    );
    diff("flags", flag_names(v.flags), flag_names(a.flags));
    // POLICY.md 6: a batch limit's next transactions carry at most the accepted count.
    let batch_size = if v.verdict == Some(Verdict::BatchLimit) {
        v.accepted
    } else {
        0
    };
    diff(
        "batch_size",
        batch_size.to_string(),
        a.batch_size.to_string(),
    );
    if matches!(v.status, Status::Ok | Status::Malformed) {
        diff(
            "consumed",
            v.reply.len().to_string(),
            a.consumed.map_or("-".into(), |c| c.to_string()),
        );
    }
    if diffs.is_empty() {
        return None;
    }
    let mut reply = encode(&v.reply);
    if reply.len() > 160 {
        let mut cut = 150;
        while !reply.is_char_boundary(cut) {
            cut -= 1;
        }
        reply = format!("{}... ({} bytes)", &reply[..cut], v.reply.len());
    }
    Some(format!(
        "{}: {} accepted={} limited={} options={} reply \"{}\"\n    {}",
        v.place(),
        command_name(v.command),
        v.accepted,
        v.limited,
        option_names(v.options),
        reply,
        diffs.join("\n    ")
    ))
}

#[test]
fn every_vector_gets_the_policy_verdict() {
    let rows = vectors::load();
    let failures: Vec<String> = rows.iter().filter_map(check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors disagree with the library:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_is_large_and_ids_are_unique() {
    let rows = vectors::load();
    assert!(
        rows.len() >= 150,
        "only {} vectors, want at least 150",
        rows.len()
    );
    let mut seen: HashMap<&str, String> = HashMap::new();
    let mut dups = Vec::new();
    for v in &rows {
        if let Some(first) = seen.insert(&v.id, v.place()) {
            dups.push(format!("{} and {first}", v.place()));
        }
    }
    assert!(dups.is_empty(), "duplicate ids:\n{}", dups.join("\n"));
}

/// Rows that only make sense with some columns: caught here so a typo cannot pass unnoticed.
#[test]
fn rows_are_consistent() {
    let rows = vectors::load();
    let mut bad = Vec::new();
    for v in &rows {
        let mut complain = |why: &str| bad.push(format!("{}: {why}", v.place()));
        if v.reply.is_empty() && v.status != Status::Incomplete {
            complain("an empty reply can only be INCOMPLETE");
        }
        match v.status {
            Status::Ok => {
                if v.code / 100 == 3 && v.enhanced.is_some() {
                    complain("a 3xx reply reports no enhanced code (RFC 2034)");
                }
                if !v.reply.ends_with(b"\n") {
                    complain("a complete reply ends with a line end");
                }
            }
            Status::Incomplete => {
                if v.code != 0 || v.enhanced.is_some() || v.flags != Flags::empty() {
                    complain("an INCOMPLETE row has code 0, enhanced '-' and flags '-'");
                }
            }
            Status::Malformed | Status::TooLong => {
                let fallback = v.verdict == Some(Verdict::Retry)
                    && v.scope == Some(Scope::Session)
                    && v.code == 0
                    && v.enhanced.is_none()
                    && v.flags == Flags::PROTOCOL_ERROR | Flags::CLOSE_CONNECTION;
                if !fallback {
                    complain(
                        "a MALFORMED or TOO_LONG row is RETRY, SESSION, code 0, enhanced '-', \
                         flags PROTOCOL_ERROR,CLOSE_CONNECTION",
                    );
                }
            }
        }
    }
    assert!(bad.is_empty(), "inconsistent rows:\n{}", bad.join("\n"));
}

/// The escape decoder the rows rely on.
#[test]
fn reply_escapes_decode() {
    assert_eq!(decode(r"250 ok\r\n").unwrap(), b"250 ok\r\n");
    assert_eq!(decode(r"\x00\xff\\\t").unwrap(), b"\x00\xff\\\t");
    assert_eq!(decode(r"a\{3:xy}b").unwrap(), b"axyxyxyb");
    assert_eq!(
        decode(r"\{2:250-\{2:a}\r\n}").unwrap(),
        b"250-aa\r\n250-aa\r\n"
    );
    assert_eq!(decode(r"\{0:x}}").unwrap(), b"}");
    assert_eq!(
        decode("550 caf\u{e9}\\r\\n").unwrap(),
        "550 caf\u{e9}\r\n".as_bytes()
    );
    for bad in [r"\q", r"\x4", r"\{2:ab", r"\{x:ab}", "\\"] {
        assert!(decode(bad).is_err(), "{bad}");
    }
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(decode(&encode(&all)).unwrap(), all);
}

// ---- Coverage: every rule of POLICY.md has rows that exercise it. ----

fn is(v: &Vector, command: Command) -> bool {
    v.command == command
}
fn verdict(v: &Vector, verdict: Verdict) -> bool {
    v.status == Status::Ok && v.verdict == Some(verdict)
}
fn scope(v: &Vector, scope: Scope) -> bool {
    v.scope == Some(scope)
}
fn has(v: &Vector, flags: Flags) -> bool {
    v.flags.contains(flags)
}
fn enhanced_is(v: &Vector, subject: u16, detail: u16) -> bool {
    v.enhanced.is_some_and(|e| {
        e.subject() == subject && e.detail() == detail && u16::from(e.class()) == v.code / 100
    })
}
fn x53(v: &Vector) -> bool {
    enhanced_is(v, 5, 3)
}
fn lines(v: &Vector) -> usize {
    v.reply.iter().filter(|&&b| b == b'\n').count()
}
fn text(v: &Vector) -> String {
    String::from_utf8_lossy(&v.reply).into_owned()
}

type Rule = (&'static str, fn(&Vector) -> bool);

/// POLICY.md section 4, one entry (or more) per table row.
const VERDICT_RULES: &[Rule] = &[
    (
        "RCPT 452 without enhanced code, accepted >= 1: batch-limit",
        |v| {
            is(v, Command::Rcpt)
                && v.code == 452
                && v.enhanced.is_none()
                && v.accepted >= 1
                && verdict(v, Verdict::BatchLimit)
                && scope(v, Scope::Recipient)
        },
    ),
    ("RCPT 452 4.5.3, accepted >= 1: batch-limit", |v| {
        is(v, Command::Rcpt)
            && v.code == 452
            && x53(v)
            && v.accepted >= 1
            && verdict(v, Verdict::BatchLimit)
    }),
    (
        "RCPT 451 4.5.3 (OpenSMTPD), accepted >= 1: batch-limit",
        |v| {
            is(v, Command::Rcpt)
                && v.code == 451
                && x53(v)
                && v.accepted >= 1
                && verdict(v, Verdict::BatchLimit)
        },
    ),
    (
        "RCPT 5xx with 5.5.3, accepted >= 1: batch-limit, not legacy",
        |v| {
            is(v, Command::Rcpt)
                && v.code / 100 == 5
                && x53(v)
                && v.accepted >= 1
                && verdict(v, Verdict::BatchLimit)
                && !has(v, Flags::LEGACY_552)
        },
    ),
    (
        "RCPT 552 without enhanced code, accepted >= 1: batch-limit, LEGACY_552",
        |v| {
            is(v, Command::Rcpt)
                && v.code == 552
                && v.enhanced.is_none()
                && v.accepted >= 1
                && verdict(v, Verdict::BatchLimit)
                && has(v, Flags::LEGACY_552)
                && scope(v, Scope::Recipient)
        },
    ),
    (
        "RCPT 552 without enhanced code, option 552_PERMANENT: permanent",
        |v| {
            is(v, Command::Rcpt)
                && v.code == 552
                && v.enhanced.is_none()
                && v.accepted >= 1
                && v.options.contains(Options::PERMANENT_552)
                && verdict(v, Verdict::Permanent)
        },
    ),
    ("RCPT 452 without enhanced code, accepted 0: retry", |v| {
        is(v, Command::Rcpt)
            && v.code == 452
            && v.enhanced.is_none()
            && v.accepted == 0
            && verdict(v, Verdict::Retry)
    }),
    ("RCPT X.5.3, accepted 0: retry", |v| {
        is(v, Command::Rcpt) && x53(v) && v.accepted == 0 && verdict(v, Verdict::Retry)
    }),
    ("RCPT 5xx X.5.3, accepted 0: retry, not permanent", |v| {
        is(v, Command::Rcpt)
            && v.code / 100 == 5
            && x53(v)
            && v.accepted == 0
            && verdict(v, Verdict::Retry)
    }),
    (
        "RCPT 552 without enhanced code, accepted 0: permanent",
        |v| {
            is(v, Command::Rcpt)
                && v.code == 552
                && v.enhanced.is_none()
                && v.accepted == 0
                && verdict(v, Verdict::Permanent)
                && !has(v, Flags::LEGACY_552)
        },
    ),
    (
        "RCPT 452 4.2.2 (mailbox full): retry, not batch-limit",
        |v| {
            is(v, Command::Rcpt)
                && v.code == 452
                && enhanced_is(v, 2, 2)
                && v.accepted >= 1
                && verdict(v, Verdict::Retry)
        },
    ),
    ("RCPT 452 4.3.1 (storage): retry", |v| {
        is(v, Command::Rcpt)
            && v.code == 452
            && enhanced_is(v, 3, 1)
            && v.accepted >= 1
            && verdict(v, Verdict::Retry)
    }),
    ("RCPT 552 5.2.2 (mailbox full): permanent", |v| {
        is(v, Command::Rcpt)
            && v.code == 552
            && enhanced_is(v, 2, 2)
            && v.accepted >= 1
            && verdict(v, Verdict::Permanent)
    }),
    ("RCPT 552 5.3.4 (message size): permanent", |v| {
        is(v, Command::Rcpt)
            && v.code == 552
            && enhanced_is(v, 3, 4)
            && v.accepted >= 1
            && verdict(v, Verdict::Permanent)
    }),
    (
        "RCPT 450 4.7.1 'too many recipients from' (Postfix rate limit): retry",
        |v| {
            is(v, Command::Rcpt)
                && v.code == 450
                && text(v).contains("too many recipients")
                && v.accepted >= 1
                && verdict(v, Verdict::Retry)
        },
    ),
    (
        "DATA 554 without enhanced code after a batch-limit RCPT: batch-limit, transaction",
        |v| {
            is(v, Command::Data)
                && v.code == 554
                && v.enhanced.is_none()
                && v.accepted >= 1
                && v.limited >= 1
                && verdict(v, Verdict::BatchLimit)
                && scope(v, Scope::Transaction)
        },
    ),
    (
        "DATA_END 4xx/5xx after a batch-limit RCPT: batch-limit, transaction",
        |v| {
            is(v, Command::DataEnd)
                && v.accepted >= 1
                && v.limited >= 1
                && verdict(v, Verdict::BatchLimit)
                && scope(v, Scope::Transaction)
        },
    ),
    (
        "DATA_END X.5.3 after a batch-limit RCPT: batch-limit",
        |v| is(v, Command::DataEnd) && x53(v) && v.limited >= 1 && verdict(v, Verdict::BatchLimit),
    ),
    (
        "BDAT_LAST after a batch-limit RCPT: batch-limit, transaction",
        |v| {
            is(v, Command::BdatLast)
                && v.accepted >= 1
                && v.limited >= 1
                && verdict(v, Verdict::BatchLimit)
                && scope(v, Scope::Transaction)
        },
    ),
    (
        "BURL_LAST after a batch-limit RCPT: batch-limit, transaction",
        |v| {
            is(v, Command::BurlLast)
                && v.accepted >= 1
                && v.limited >= 1
                && verdict(v, Verdict::BatchLimit)
                && scope(v, Scope::Transaction)
        },
    ),
    ("ETRN 3xx: unexpected, retry, session", |v| {
        is(v, Command::Etrn)
            && v.code / 100 == 3
            && verdict(v, Verdict::Retry)
            && scope(v, Scope::Session)
            && has(v, Flags::UNEXPECTED_CODE)
    }),
    (
        "DATA other enhanced code after a batch-limit RCPT: own verdict",
        |v| {
            matches!(v.command, Command::Data | Command::DataEnd)
                && v.limited >= 1
                && v.enhanced.is_some()
                && !x53(v)
                && v.code / 100 == 5
                && verdict(v, Verdict::Permanent)
        },
    ),
    ("DATA 554 without a batch-limit RCPT: permanent", |v| {
        is(v, Command::Data)
            && v.code == 554
            && v.accepted >= 1
            && v.limited == 0
            && verdict(v, Verdict::Permanent)
    }),
    ("DATA with 0 accepted: own verdict, NO_RECIPIENTS", |v| {
        is(v, Command::Data)
            && v.accepted == 0
            && v.code / 100 == 5
            && verdict(v, Verdict::Permanent)
            && has(v, Flags::NO_RECIPIENTS)
    }),
    ("DATA_END with 0 accepted: NO_RECIPIENTS", |v| {
        is(v, Command::DataEnd) && v.accepted == 0 && has(v, Flags::NO_RECIPIENTS)
    }),
    (
        "DATA with 0 accepted but a batch-limit RCPT: no batch-limit",
        |v| {
            matches!(v.command, Command::Data | Command::DataEnd)
                && v.accepted == 0
                && v.limited >= 1
                && v.status == Status::Ok
                && v.verdict != Some(Verdict::BatchLimit)
                && has(v, Flags::NO_RECIPIENTS)
        },
    ),
    ("BDAT with 0 accepted: NO_RECIPIENTS", |v| {
        matches!(v.command, Command::Bdat | Command::BdatLast)
            && v.accepted == 0
            && has(v, Flags::NO_RECIPIENTS)
    }),
    (
        "MAIL 452 4.5.3: retry, transaction (never batch-limit)",
        |v| {
            is(v, Command::Mail)
                && v.code == 452
                && x53(v)
                && verdict(v, Verdict::Retry)
                && scope(v, Scope::Transaction)
        },
    ),
    ("MAIL 452 without enhanced code: retry", |v| {
        is(v, Command::Mail) && v.code == 452 && v.enhanced.is_none() && verdict(v, Verdict::Retry)
    }),
    ("421 to GREETING: retry, session, close", |v| {
        is(v, Command::Greeting)
            && v.code == 421
            && verdict(v, Verdict::Retry)
            && scope(v, Scope::Session)
            && has(v, Flags::CLOSE_CONNECTION)
    }),
    ("421 to EHLO: retry, session, close", |v| {
        is(v, Command::Ehlo)
            && v.code == 421
            && verdict(v, Verdict::Retry)
            && has(v, Flags::CLOSE_CONNECTION)
    }),
    ("421 to MAIL: retry, session, close", |v| {
        is(v, Command::Mail)
            && v.code == 421
            && scope(v, Scope::Session)
            && has(v, Flags::CLOSE_CONNECTION)
    }),
    ("421 to RCPT: retry, session (not recipient), close", |v| {
        is(v, Command::Rcpt)
            && v.code == 421
            && verdict(v, Verdict::Retry)
            && scope(v, Scope::Session)
            && has(v, Flags::CLOSE_CONNECTION)
    }),
    (
        "421 4.5.3 to RCPT with accepted >= 1: retry, not batch-limit",
        |v| {
            is(v, Command::Rcpt)
                && v.code == 421
                && x53(v)
                && v.accepted >= 1
                && verdict(v, Verdict::Retry)
        },
    ),
    ("421 to DATA_END: retry, session, close", |v| {
        is(v, Command::DataEnd)
            && v.code == 421
            && scope(v, Scope::Session)
            && has(v, Flags::CLOSE_CONNECTION)
    }),
    (
        "421 to DATA after a batch-limit RCPT: retry, session",
        |v| {
            matches!(v.command, Command::Data | Command::DataEnd)
                && v.code == 421
                && v.limited >= 1
                && verdict(v, Verdict::Retry)
                && scope(v, Scope::Session)
        },
    ),
    ("QUIT 221: success, close", |v| {
        is(v, Command::Quit)
            && v.code == 221
            && verdict(v, Verdict::Success)
            && has(v, Flags::CLOSE_CONNECTION)
    }),
    ("GREETING 554: permanent, session", |v| {
        is(v, Command::Greeting)
            && v.code == 554
            && verdict(v, Verdict::Permanent)
            && scope(v, Scope::Session)
    }),
    ("GREETING 521: permanent, session", |v| {
        is(v, Command::Greeting)
            && v.code == 521
            && verdict(v, Verdict::Permanent)
            && scope(v, Scope::Session)
    }),
    ("GREETING 220: success, session", |v| {
        is(v, Command::Greeting)
            && v.code == 220
            && verdict(v, Verdict::Success)
            && scope(v, Scope::Session)
    }),
    ("DATA 354: intermediate, transaction", |v| {
        is(v, Command::Data)
            && v.code == 354
            && verdict(v, Verdict::Intermediate)
            && scope(v, Scope::Transaction)
    }),
    ("AUTH 334: intermediate", |v| {
        is(v, Command::Auth) && v.code == 334 && verdict(v, Verdict::Intermediate)
    }),
    ("3xx to RCPT: retry, session, UNEXPECTED_CODE", |v| {
        is(v, Command::Rcpt)
            && v.code / 100 == 3
            && verdict(v, Verdict::Retry)
            && scope(v, Scope::Session)
            && has(v, Flags::UNEXPECTED_CODE)
    }),
    ("3xx to MAIL: retry, session, UNEXPECTED_CODE", |v| {
        is(v, Command::Mail)
            && v.code / 100 == 3
            && verdict(v, Verdict::Retry)
            && has(v, Flags::UNEXPECTED_CODE)
    }),
    ("2xx to DATA: retry, session, UNEXPECTED_CODE", |v| {
        is(v, Command::Data)
            && v.code / 100 == 2
            && verdict(v, Verdict::Retry)
            && scope(v, Scope::Session)
            && has(v, Flags::UNEXPECTED_CODE)
    }),
    ("3xx to DATA_END: retry, UNEXPECTED_CODE", |v| {
        is(v, Command::DataEnd)
            && v.code / 100 == 3
            && verdict(v, Verdict::Retry)
            && has(v, Flags::UNEXPECTED_CODE)
    }),
    ("first digit 1: retry, session, PROTOCOL_ERROR", |v| {
        v.code / 100 == 1
            && verdict(v, Verdict::Retry)
            && scope(v, Scope::Session)
            && has(
                v,
                Flags::PROTOCOL_ERROR | Flags::CLOSE_CONNECTION | Flags::NONSTANDARD_CODE,
            )
    }),
    ("first digit 6: retry, session, PROTOCOL_ERROR", |v| {
        v.code / 100 == 6
            && verdict(v, Verdict::Retry)
            && scope(v, Scope::Session)
            && has(
                v,
                Flags::PROTOCOL_ERROR | Flags::CLOSE_CONNECTION | Flags::NONSTANDARD_CODE,
            )
    }),
    ("first digit 0: retry, session, PROTOCOL_ERROR", |v| {
        v.status == Status::Ok
            && v.code / 100 == 0
            && verdict(v, Verdict::Retry)
            && has(v, Flags::PROTOCOL_ERROR)
    }),
    ("571: permanent, NONSTANDARD_CODE", |v| {
        v.code == 571 && verdict(v, Verdict::Permanent) && has(v, Flags::NONSTANDARD_CODE)
    }),
    // POLICY.md cites 541 as non-standard, but its rule is "second digit over 5" and 43x/45x
    // codes are real (RFC 4954): 541 takes its first digit's verdict, unflagged.
    ("541: permanent, not flagged", |v| {
        v.code == 541 && verdict(v, Verdict::Permanent) && !has(v, Flags::NONSTANDARD_CODE)
    }),
    ("4x6+ (second digit over 5): retry, NONSTANDARD_CODE", |v| {
        v.code / 100 == 4
            && (v.code / 10) % 10 > 5
            && verdict(v, Verdict::Retry)
            && has(v, Flags::NONSTANDARD_CODE)
    }),
    ("LMTP reply after the final dot: recipient scope", |v| {
        is(v, Command::DataEnd) && v.options.contains(Options::LMTP) && scope(v, Scope::Recipient)
    }),
    (
        "LMTP per-recipient failure after the final dot: recipient scope",
        |v| {
            is(v, Command::DataEnd)
                && v.options.contains(Options::LMTP)
                && scope(v, Scope::Recipient)
                && v.code / 100 >= 4
        },
    ),
    ("LHLO: session scope", |v| {
        is(v, Command::Lhlo) && scope(v, Scope::Session)
    }),
    ("STARTTLS reply: session scope", |v| {
        is(v, Command::StartTls) && scope(v, Scope::Session)
    }),
    ("RSET reply: transaction scope", |v| {
        is(v, Command::Rset) && scope(v, Scope::Transaction)
    }),
    ("UNKNOWN command: session scope", |v| {
        is(v, Command::Unknown) && scope(v, Scope::Session)
    }),
    ("BDAT (not last): transaction scope", |v| {
        is(v, Command::Bdat) && scope(v, Scope::Transaction)
    }),
];

/// POLICY.md sections 2 and 3.
const PARSE_RULES: &[Rule] = &[
    ("multiline EHLO reply", |v| {
        is(v, Command::Ehlo) && has(v, Flags::MULTILINE) && verdict(v, Verdict::Success)
    }),
    ("code alone on the final line", |v| {
        v.status == Status::Ok && v.reply.len() == 5 && v.reply.ends_with(b"\r\n")
    }),
    ("code alone as the final line of a multiline reply", |v| {
        v.status == Status::Ok && lines(v) > 1 && text(v).split("\r\n").any(|l| l.len() == 3)
    }),
    ("code and SP with empty text", |v| {
        v.status == Status::Ok && text(v).lines().any(|l| l.len() == 4 && l.ends_with(' '))
    }),
    ("bare LF accepted and flagged", |v| {
        v.status == Status::Ok && has(v, Flags::BARE_LF)
    }),
    ("bare LF on a multiline reply", |v| {
        v.status == Status::Ok && has(v, Flags::BARE_LF | Flags::MULTILINE)
    }),
    ("bare LF with STRICT: malformed", |v| {
        v.status == Status::Malformed
            && v.options.contains(Options::STRICT)
            && v.reply.ends_with(b"\n")
            && !v.reply.ends_with(b"\r\n")
    }),
    ("lone CR inside the text is text", |v| {
        v.status == Status::Ok
            && v.reply[..v.reply.len() - 2].contains(&b'\r')
            && !has(v, Flags::BARE_LF)
            && !text(v).contains("\r\n\r")
            && v.reply.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n')
    }),
    ("mixed codes: CODE_MISMATCH, final line decides", |v| {
        v.status == Status::Ok && has(v, Flags::CODE_MISMATCH)
    }),
    ("220- then 521: permanent greeting", |v| {
        is(v, Command::Greeting)
            && v.code == 521
            && has(v, Flags::CODE_MISMATCH)
            && verdict(v, Verdict::Permanent)
    }),
    ("521- then 220: retry, never success", |v| {
        v.code == 220 && has(v, Flags::CODE_MISMATCH) && verdict(v, Verdict::Retry)
    }),
    ("5xx- then 250: retry, never success", |v| {
        v.code == 250 && has(v, Flags::CODE_MISMATCH) && verdict(v, Verdict::Retry)
    }),
    ("4xx- then 354: retry, never intermediate", |v| {
        v.code == 354 && has(v, Flags::CODE_MISMATCH) && verdict(v, Verdict::Retry)
    }),
    ("mixed codes with STRICT: malformed", |v| {
        v.status == Status::Malformed && v.options.contains(Options::STRICT) && lines(v) > 1
    }),
    ("line over 512 octets: LONG_LINE", |v| {
        v.status == Status::Ok && has(v, Flags::LONG_LINE) && v.reply.len() >= 1500
    }),
    ("line of exactly 8192 octets: accepted", |v| {
        v.status == Status::Ok && v.reply.len() == 8192
    }),
    ("line of 8193 octets: TOO_LONG", |v| {
        v.status == Status::TooLong && v.reply.len() == 8193
    }),
    ("reply over 65536 octets: TOO_LONG", |v| {
        v.status == Status::TooLong && v.reply.len() > 65536
    }),
    ("reply of exactly 65536 octets: accepted", |v| {
        v.status == Status::Ok && v.reply.len() == 65536
    }),
    ("long line with STRICT: malformed", |v| {
        v.status == Status::Malformed && v.options.contains(Options::STRICT) && v.reply.len() > 512
    }),
    ("non-standard code with STRICT: malformed", |v| {
        v.status == Status::Malformed
            && v.options.contains(Options::STRICT)
            && v.reply.starts_with(b"571")
    }),
    ("UTF-8 text", |v| {
        v.status == Status::Ok
            && v.reply.iter().any(|&b| b >= 0x80)
            && std::str::from_utf8(&v.reply).is_ok()
    }),
    ("invalid UTF-8 / Latin-1 text", |v| {
        v.status == Status::Ok && std::str::from_utf8(&v.reply).is_err()
    }),
    ("control bytes in text", |v| {
        v.status == Status::Ok && v.reply.iter().any(|&b| b == 0 || b == 0x1b)
    }),
    ("malformed: two digits", |v| {
        v.status == Status::Malformed && v.reply.starts_with(b"25 ")
    }),
    ("malformed: four digits", |v| {
        v.status == Status::Malformed && v.reply.starts_with(b"2500")
    }),
    ("malformed: letter after the code", |v| {
        v.status == Status::Malformed && v.reply.starts_with(b"250x")
    }),
    ("malformed: empty line", |v| {
        v.status == Status::Malformed && (v.reply == b"\r\n" || v.reply == b"\n")
    }),
    ("malformed: tab after the code", |v| {
        v.status == Status::Malformed && v.reply.get(3) == Some(&b'\t')
    }),
    ("malformed: leading space", |v| {
        v.status == Status::Malformed && v.reply.starts_with(b" ")
    }),
    ("malformed continuation line", |v| {
        v.status == Status::Malformed && lines(v) > 1
    }),
    ("malformed: not SMTP at all (HTTP)", |v| {
        v.status == Status::Malformed && v.reply.starts_with(b"HTTP/")
    }),
    ("incomplete: cut mid-line", |v| {
        v.status == Status::Incomplete && !v.reply.ends_with(b"\n") && !v.reply.is_empty()
    }),
    ("incomplete: after a continuation line", |v| {
        v.status == Status::Incomplete && v.reply.ends_with(b"\n")
    }),
    ("incomplete: cut between CR and LF", |v| {
        v.status == Status::Incomplete && v.reply.ends_with(b"\r")
    }),
    ("incomplete: no bytes", |v| {
        v.status == Status::Incomplete && v.reply.is_empty()
    }),
    // Section 3.
    ("enhanced code on a 2xx reply", |v| {
        v.status == Status::Ok && v.code / 100 == 2 && v.enhanced.is_some()
    }),
    ("enhanced code taken from an earlier line", |v| {
        v.status == Status::Ok
            && lines(v) > 1
            && v.enhanced.is_some()
            && !text(v)
                .trim_end()
                .rsplit("\r\n")
                .next()
                .unwrap_or("")
                .contains(&enhanced_name(v.enhanced))
    }),
    (
        "class mismatch 550 4.x.x: CLASS_MISMATCH, decided by 550",
        |v| {
            v.code == 550
                && v.enhanced.is_some_and(|e| e.class() == 4)
                && has(v, Flags::CLASS_MISMATCH)
                && verdict(v, Verdict::Permanent)
        },
    ),
    (
        "class mismatch 4xx 5.x.x: CLASS_MISMATCH, decided by 4xx",
        |v| {
            v.code / 100 == 4
                && v.enhanced.is_some_and(|e| e.class() == 5)
                && has(v, Flags::CLASS_MISMATCH)
                && verdict(v, Verdict::Retry)
        },
    ),
    (
        "class mismatch on a 452 to RCPT: decided by 452 alone",
        |v| {
            is(v, Command::Rcpt)
                && v.code == 452
                && has(v, Flags::CLASS_MISMATCH)
                && v.accepted >= 1
        },
    ),
    ("3xx with enhanced-looking text: reported as '-'", |v| {
        v.status == Status::Ok
            && v.code / 100 == 3
            && v.enhanced.is_none()
            && text(v)
                .lines()
                .any(|l| l.len() > 9 && l.as_bytes()[4].is_ascii_digit() && l.as_bytes()[5] == b'.')
    }),
    ("'#4.5.3' is not an enhanced code", |v| {
        v.status == Status::Ok && text(v).contains("#4.5.3") && v.enhanced.is_none()
    }),
    ("qmail '(#5.7.1)' is not an enhanced code", |v| {
        v.status == Status::Ok && text(v).contains("(#5.") && v.enhanced.is_none()
    }),
    ("enhanced code followed by ':' is not one", |v| {
        v.status == Status::Ok && text(v).contains(" 4.3.0:") && v.enhanced.is_none()
    }),
    ("enhanced code followed by HTAB", |v| {
        v.status == Status::Ok && v.enhanced.is_some() && text(v).contains(".1\t")
    }),
    ("enhanced code with three-digit detail", |v| {
        v.enhanced.is_some_and(|e| e.detail() >= 100)
    }),
    ("over-long subject or detail: not enhanced", |v| {
        v.status == Status::Ok && text(v).contains("5.1.1234") && v.enhanced.is_none()
    }),
    ("enhanced code after several spaces", |v| {
        v.status == Status::Ok && v.enhanced.is_some() && text(v).contains("   5.")
    }),
    ("enhanced code at the end of the line", |v| {
        v.status == Status::Ok
            && v.enhanced.is_some()
            && text(v).lines().last().is_some_and(|l| {
                l.trim_end_matches('\r')
                    .ends_with(&enhanced_name(v.enhanced))
            })
    }),
];

fn uncovered(rows: &[Vector], rules: &[Rule]) -> Vec<&'static str> {
    rules
        .iter()
        .filter(|(_, matches)| !rows.iter().any(matches))
        .map(|(name, _)| *name)
        .collect()
}

#[test]
fn every_policy_rule_is_covered() {
    let rows = vectors::load();
    if std::env::var_os("SMTP_VECTORS_SHOW_COVERAGE").is_some() {
        for (name, matches) in VERDICT_RULES.iter().chain(PARSE_RULES) {
            let ids: Vec<&str> = rows
                .iter()
                .filter(|v| matches(v))
                .map(|v| v.id.as_str())
                .collect();
            eprintln!("{name}: {}", ids.join(" "));
        }
    }
    let mut missing = uncovered(&rows, VERDICT_RULES);
    missing.extend(uncovered(&rows, PARSE_RULES));
    assert!(
        missing.is_empty(),
        "no vector covers:\n{}",
        missing.join("\n")
    );
}

/// Every command appears, and every server family has its multiline EHLO (or LHLO) reply.
#[test]
fn every_command_and_server_is_covered() {
    let rows = vectors::load();
    let missing: Vec<&str> = Command::ALL
        .iter()
        .filter(|c| !rows.iter().any(|v| v.command == **c))
        .map(|c| command_name(*c))
        .collect();
    assert!(missing.is_empty(), "no vector for the commands {missing:?}");
    for server in [
        "postfix",
        "exim",
        "sendmail",
        "opensmtpd",
        "qmail",
        "gmail",
        "microsoft",
        "dovecot",
    ] {
        assert!(
            rows.iter().any(|v| v.server == server
                && matches!(v.command, Command::Ehlo | Command::Lhlo)
                && v.flags.contains(Flags::MULTILINE)),
            "no multiline EHLO/LHLO reply from {server}"
        );
    }
}

/// On every reply that parses, the per-line reader agrees with the reply: as many lines, the
/// same line bytes, only the final line marked last, and its text where the verdict says.
#[test]
fn parsed_lines_agree_with_the_reply() {
    let mut checked = 0;
    for v in vectors::load() {
        let Ok(reply) = smtp_verdict::parse(&v.reply, v.options) else {
            continue;
        };
        let lines: Vec<_> = reply.parsed_lines().collect();
        let raw: Vec<&[u8]> = reply.lines().collect();
        let place = v.place();
        assert_eq!(lines.len(), reply.line_count() as usize, "{place}");
        assert_eq!(
            lines.iter().map(|l| l.as_bytes()).collect::<Vec<_>>(),
            raw,
            "{place}"
        );
        let last = lines.last().unwrap();
        assert!(
            last.is_last() || reply.flags().contains(Flags::CODE_MISMATCH),
            "{place}"
        );
        assert_eq!(last.text_range(), reply.text_range(), "{place}");
        assert_eq!(last.code(), reply.code(), "{place}");
        assert_eq!(last.next_start(), reply.consumed(), "{place}");
        checked += 1;
    }
    assert!(checked > 300, "{checked}");
}
