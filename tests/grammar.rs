//! The reply grammar of `src/parse.rs` (nom combinators: RFC 5321 4.2 reply lines, RFC 3463
//! enhanced codes), rule by rule: each row is a reply and what the grammar must make of it.
//! The vectors (`tests/vectors.rs`), the properties and the fuzz targets test the same
//! grammar on real and random replies.

use smtp_verdict::{EnhancedCode, Error, Flags, Options, parse};

/// What a reply must parse to: its final line's code, enhanced code and text, its line count,
/// the bytes it takes and its flags; or the bytes of a malformed reply; or incomplete.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Reply {
        code: u16,
        enhanced: Option<(u8, u16, u16)>,
        text: &'static str,
        lines: u32,
        consumed: usize,
        flags: Flags,
    },
    Malformed {
        consumed: usize,
    },
    Incomplete,
}

fn reply(
    code: u16,
    enhanced: Option<(u8, u16, u16)>,
    text: &'static str,
    lines: u32,
    consumed: usize,
    flags: Flags,
) -> Outcome {
    Outcome::Reply {
        code,
        enhanced,
        text,
        lines,
        consumed,
        flags,
    }
}

/// Code, enhanced code, text, lines, bytes taken, flags.
type Parsed = (u16, Option<(u8, u16, u16)>, Vec<u8>, u32, usize, Flags);

fn outcome(input: &[u8]) -> Result<Parsed, Error> {
    parse(input, Options::default()).map(|r| {
        (
            r.code(),
            r.enhanced().map(EnhancedCode::parts),
            r.text().to_vec(),
            r.line_count(),
            r.consumed(),
            r.flags(),
        )
    })
}

fn check(input: &str, expected: Outcome) {
    let got = outcome(input.as_bytes());
    let same = match (&got, &expected) {
        (Ok((code, enhanced, text, lines, consumed, flags)), Outcome::Reply { .. }) => {
            expected
                == reply(
                    *code,
                    *enhanced,
                    // The expected text, if equal (the Outcome holds a &'static str).
                    match &expected {
                        Outcome::Reply { text: t, .. } if t.as_bytes() == text.as_slice() => t,
                        _ => "<differs>",
                    },
                    *lines,
                    *consumed,
                    *flags,
                )
        }
        (Err(Error::Malformed { consumed, .. }), Outcome::Malformed { consumed: want }) => {
            consumed == want
        }
        (Err(Error::Incomplete), Outcome::Incomplete) => true,
        _ => false,
    };
    assert!(same, "{input:?}: got {got:?}, expected {expected:?}");
}

const NONE: Flags = Flags::empty();

#[test]
fn reply_code_and_separator() {
    // code = 3DIGIT, then "-" (more lines), SP (last line) or the line end (code alone).
    check("250 ok\r\n", reply(250, None, "ok", 1, 8, NONE));
    check("250\r\n", reply(250, None, "", 1, 5, NONE));
    check("250 \r\n", reply(250, None, "", 1, 6, NONE));
    check(
        "250-a\r\n250 b\r\n",
        reply(250, None, "b", 2, 14, Flags::MULTILINE),
    );
    check(
        "250-\r\n250\r\n",
        reply(250, None, "", 2, 11, Flags::MULTILINE),
    );
    check("999 x\r\n", reply(999, None, "x", 1, 7, NONE));
    // Anything else is not a reply line: the line is consumed.
    for bad in [
        "25 ok\r\n",
        "2500 ok\r\n",
        "250x\r\n",
        "25a ok\r\n",
        " 250 ok\r\n",
        "250\tok\r\n",
    ] {
        check(
            bad,
            Outcome::Malformed {
                consumed: bad.len(),
            },
        );
    }
    // A CR that does not end the line is not a line end: "250\r" is not a code alone.
    check("250\r\r\n", Outcome::Malformed { consumed: 6 });
    check("\r\n", Outcome::Malformed { consumed: 2 });
    check("\n", Outcome::Malformed { consumed: 1 });
}

#[test]
fn line_end() {
    // CRLF, or a bare LF (accepted and flagged); a CR before CRLF stays in the text.
    check("250 ok\n", reply(250, None, "ok", 1, 7, Flags::BARE_LF));
    check("250 ok\r\r\n", reply(250, None, "ok\r", 1, 9, NONE));
    check("250 a\rb\r\n", reply(250, None, "a\rb", 1, 9, NONE));
    check(
        "250-a\n250 b\r\n",
        reply(250, None, "b", 2, 13, Flags::MULTILINE | Flags::BARE_LF),
    );
    // No LF yet: incomplete, however much of the line has come.
    for cut in [
        "",
        "2",
        "250",
        "250 ok",
        "250 ok\r",
        "250-a\r\n",
        "250-a\r\n250 b",
    ] {
        check(cut, Outcome::Incomplete);
    }
}

#[test]
fn enhanced_code() {
    // *SP class "." subject "." detail, then SP, HTAB or the line end; blanks after it are
    // not text.
    let e = Some((4, 5, 3));
    check(
        "452 4.5.3 too many\r\n",
        reply(452, e, "too many", 1, 20, NONE),
    );
    check("452 4.5.3\r\n", reply(452, e, "", 1, 11, NONE));
    check("452 4.5.3\n", reply(452, e, "", 1, 10, Flags::BARE_LF));
    check("452 4.5.3\tx\r\n", reply(452, e, "x", 1, 13, NONE));
    check("452   4.5.3 \t x\r\n", reply(452, e, "x", 1, 17, NONE));
    check(
        "550 5.12.123 x\r\n",
        reply(550, Some((5, 12, 123)), "x", 1, 16, NONE),
    );
    check(
        "250 2.0.0 Ok\r\n",
        reply(250, Some((2, 0, 0)), "Ok", 1, 14, NONE),
    );
    check("250-2.0.0\r\n", Outcome::Incomplete);
    // Not an enhanced code: the text starts after the separator.
    for (line, text) in [
        ("550 3.1.1 x\r\n", "3.1.1 x"),
        ("550 5.1.1234 x\r\n", "5.1.1234 x"),
        ("550 5.1.1x\r\n", "5.1.1x"),
        ("550 5..1 x\r\n", "5..1 x"),
        ("550 5.1 x\r\n", "5.1 x"),
        ("550 #5.1.1 x\r\n", "#5.1.1 x"),
        ("550 \t5.1.1 x\r\n", "\t5.1.1 x"),
        ("550 5.1.1\r\r\n", "5.1.1\r"),
        ("550 5.1.1.1 x\r\n", "5.1.1.1 x"),
        ("550 51.1.1 x\r\n", "51.1.1 x"),
    ] {
        check(line, reply(550, None, text, 1, line.len(), NONE));
    }
    // After a code alone there is no enhanced code; after "-" there is.
    check(
        "250-2.1.5 a\r\n250 b\r\n",
        reply(250, Some((2, 1, 5)), "b", 2, 20, Flags::MULTILINE),
    );
}

#[test]
fn reply_of_several_lines() {
    // Continuation lines ("-") up to the first last line; the final line decides, an
    // enhanced code is the final line's or else the last one seen; what follows is the next
    // reply's.
    check(
        "250-a\r\n250-b\r\n250 c\r\n250 next\r\n",
        reply(250, None, "c", 3, 21, Flags::MULTILINE),
    );
    check(
        "550-5.1.1 a\r\n550-5.1.2 b\r\n550 c\r\n",
        reply(550, Some((5, 1, 2)), "c", 3, 33, Flags::MULTILINE),
    );
    check(
        "250-a\r\n452 4.5.3 b\r\n",
        reply(
            452,
            Some((4, 5, 3)),
            "b",
            2,
            20,
            Flags::MULTILINE | Flags::CODE_MISMATCH,
        ),
    );
    // A malformed line anywhere makes the reply malformed up to that line's end.
    check(
        "250-a\r\nxyz\r\n250 b\r\n",
        Outcome::Malformed { consumed: 12 },
    );
    check("250-a\r\n250x\r\n", Outcome::Malformed { consumed: 13 });
    // A line over 512 octets, its line end included, is flagged.
    let long = format!("250 {}\r\n", "x".repeat(506));
    assert_eq!(outcome(long.as_bytes()).map(|r| r.5), Ok(Flags::empty()));
    let longer = format!("250 {}\r\n", "x".repeat(507));
    assert_eq!(
        outcome(longer.as_bytes()).map(|r| r.5),
        Ok(Flags::LONG_LINE)
    );
}
