//! The reply grammar written with nom 8 combinators, as the reference the library's
//! hand-written parser must agree with.
//!
//! The library matched this grammar with nom at first; on the hot path the combinators cost a
//! fifth of the instructions of a one-line reply and a store-forwarding stall on each enhanced
//! code (README "Performance"), so `src/parse.rs` spells it out byte by byte. Here nom costs
//! nothing and keeps the grammar readable: RFC 5321 4.2 reply lines, RFC 3463 enhanced codes.

#[path = "common/vectors.rs"]
mod vectors;

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_till, take_while, take_while_m_n},
    character::complete::{char, one_of},
    combinator::{eof, map, opt, peek, value},
    sequence::preceded,
};
use smtp_verdict::{EnhancedCode, Error, Flags, Options, parse};

#[derive(Debug, PartialEq, Eq)]
struct Line<'a> {
    code: u16,
    last: bool,
    enhanced: Option<EnhancedCode>,
    text: &'a [u8],
    bare_lf: bool,
}

type Res<'a, T> = IResult<&'a [u8], T>;

fn digits(min: usize, max: usize) -> impl Fn(&[u8]) -> Res<'_, u16> {
    move |i| {
        map(
            take_while_m_n(min, max, |b: u8| b.is_ascii_digit()),
            |d: &[u8]| d.iter().fold(0, |n, b| n * 10 + u16::from(b - b'0')),
        )
        .parse(i)
    }
}

/// CRLF, or a bare LF (accepted and flagged, POLICY.md 2).
fn line_end(i: &[u8]) -> Res<'_, &[u8]> {
    alt((tag(&b"\r\n"[..]), tag(&b"\n"[..]))).parse(i)
}

/// `class "." subject "." detail`, after optional spaces, followed by SP, HTAB or the line end.
fn enhanced_code(i: &[u8]) -> Res<'_, EnhancedCode> {
    let (i, (class, _, subject, _, detail)) = preceded(
        take_while(|b| b == b' '),
        (
            one_of("245"),
            char('.'),
            digits(1, 3),
            char('.'),
            digits(1, 3),
        ),
    )
    .parse(i)?;
    let (i, _) = peek(alt((tag(&b" "[..]), tag(&b"\t"[..]), line_end))).parse(i)?;
    // The grammar has checked what `new` checks.
    let code = EnhancedCode::new(class as u8 - b'0', subject, detail).expect("a valid code");
    Ok((i, code))
}

/// `3DIGIT ("-" / SP / line end) [enhanced-code *(SP / HTAB)] text line-end`.
fn reply_line(i: &[u8]) -> Res<'_, Line<'_>> {
    let (i, code) = digits(3, 3)(i)?;
    let (i, last) = alt((
        value(false, char('-')),
        value(true, char(' ')),
        value(true, peek(line_end)),
    ))
    .parse(i)?;
    let (i, enhanced) = opt(enhanced_code).parse(i)?;
    let (i, _) = take_while(|b| enhanced.is_some() && (b == b' ' || b == b'\t')).parse(i)?;
    let (i, text) = take_till(|b| b == b'\n').parse(i)?;
    let (i, _) = char('\n').parse(i)?;
    let (text, bare_lf) = match text.strip_suffix(b"\r") {
        Some(text) => (text, false),
        None => (text, true),
    };
    Ok((
        i,
        Line {
            code,
            last,
            enhanced,
            text,
            bare_lf,
        },
    ))
}

/// What the reference makes of a buffer: the summary `parse` must match.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Reply {
        code: u16,
        enhanced: Option<EnhancedCode>,
        text: Vec<u8>,
        lines: u32,
        consumed: usize,
        flags: Flags,
    },
    Malformed {
        consumed: usize,
    },
    Incomplete,
}

fn reference(input: &[u8]) -> Outcome {
    let (mut rest, mut lines, mut flags) = (input, 0u32, Flags::empty());
    let (mut first_code, mut enhanced) = (None, None);
    loop {
        if take_till::<_, _, ()>(|b| b == b'\n')
            .parse(rest)
            .is_ok_and(|(after, _)| eof::<_, ()>(after).is_ok())
        {
            return Outcome::Incomplete;
        }
        lines += 1;
        let (after, line) = match reply_line(rest) {
            Ok(parsed) => parsed,
            Err(_) => {
                let end = rest.iter().position(|&b| b == b'\n').unwrap() + 1;
                return Outcome::Malformed {
                    consumed: input.len() - rest.len() + end,
                };
            }
        };
        let consumed = input.len() - after.len();
        let line_len = rest.len() - after.len();
        rest = after;
        if line.bare_lf {
            flags.insert(Flags::BARE_LF);
        }
        if line_len > 512 {
            flags.insert(Flags::LONG_LINE);
        }
        if *first_code.get_or_insert(line.code) != line.code {
            flags.insert(Flags::CODE_MISMATCH);
        }
        enhanced = line.enhanced.or(enhanced);
        if line.last {
            if lines > 1 {
                flags.insert(Flags::MULTILINE);
            }
            return Outcome::Reply {
                code: line.code,
                enhanced,
                text: line.text.to_vec(),
                lines,
                consumed,
                flags,
            };
        }
    }
}

fn library(input: &[u8]) -> Outcome {
    match parse(input, Options::default()) {
        Ok(r) => Outcome::Reply {
            code: r.code(),
            enhanced: r.enhanced(),
            text: r.text().to_vec(),
            lines: r.line_count(),
            consumed: r.consumed(),
            flags: r.flags(),
        },
        Err(Error::Malformed { consumed, .. }) => Outcome::Malformed { consumed },
        Err(Error::Incomplete) => Outcome::Incomplete,
        Err(e) => panic!("{e} on an input of {} bytes", input.len()),
    }
}

#[test]
fn agrees_with_the_nom_grammar_on_every_vector() {
    let mut checked = 0;
    for v in vectors::load() {
        if v.status == vectors::Status::TooLong {
            continue; // the length limits are the library's own, not the grammar's
        }
        assert_eq!(library(&v.reply), reference(&v.reply), "{}", v.place());
        checked += 1;
    }
    assert!(checked > 300, "only {checked} vectors checked");
}

#[test]
fn agrees_with_the_nom_grammar_on_generated_lines() {
    // Pieces that hit every branch of the grammar, combined into one- to three-line replies.
    let codes = ["250", "452", "25", "2500", "25a", "x50", "550"];
    let separators = ["-", " ", "", "x", "\t", "--"];
    let enhanced = [
        "", "4.5.3", "  5.1.1", "#4.5.3", "5.1.1234", "2.0.0\t", "5.5", "4.5.3\r", "3.1.1",
        "5.12.123",
    ];
    let texts = ["", "ok", " too many", "\r", "\t x", "4.5.3"];
    let ends = ["\r\n", "\n", "\r\r\n"];
    let mut lines = Vec::new();
    for c in codes {
        for s in separators {
            for e in enhanced {
                for t in texts {
                    for n in ends {
                        lines.push(format!("{c}{s}{e}{t}{n}"));
                    }
                }
            }
        }
    }
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut checked = 0;
    for line in &lines {
        assert_eq!(
            library(line.as_bytes()),
            reference(line.as_bytes()),
            "{line:?}"
        );
        checked += 1;
    }
    for _ in 0..20_000 {
        let count = 1 + next(3);
        let reply: String = (0..count)
            .map(|_| lines[next(lines.len())].as_str())
            .collect();
        assert_eq!(
            library(reply.as_bytes()),
            reference(reply.as_bytes()),
            "{reply:?}"
        );
        checked += 1;
    }
    assert!(checked > 25_000);
}
