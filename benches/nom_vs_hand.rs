//! nom or hand-written code for the head of a reply line (code, separator, enhanced code)?
//!
//! `nom` is a copy of `line_head` and `enhanced_code` of src/parse.rs as of commit a0d263e (nom 8
//! combinators for the enhanced code, the code and separator already by hand); `hand` is the
//! same grammar written out byte by byte. Both must agree on every line (checked before timing).
//!
//! ```text
//! cargo bench --bench nom_vs_hand -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EnhancedCode {
    class: u8,
    subject: u16,
    detail: u16,
}

#[derive(Debug, PartialEq, Eq)]
struct LineHead {
    code: u16,
    last: bool,
    enhanced: Option<EnhancedCode>,
    text_start: usize,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The code and separator, by hand in both versions.
#[inline]
fn code_and_separator(line: &[u8]) -> Option<(u16, bool, &[u8])> {
    match line {
        [a, b, c, rest @ ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            let code = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            match rest {
                [] => Some((code, true, rest)),
                [b'-', rest @ ..] => Some((code, false, rest)),
                [b' ', rest @ ..] => Some((code, true, rest)),
                _ => None,
            }
        }
        _ => None,
    }
}

mod nom_version {
    use super::*;
    use nom::{
        IResult, Parser,
        branch::alt,
        bytes::complete::{take_while, take_while_m_n},
        character::complete::{char, satisfy},
        combinator::{eof, map, peek, value},
    };

    type Res<'a, T> = IResult<&'a [u8], T, ()>;

    fn number(min: usize, max: usize) -> impl FnMut(&[u8]) -> Res<'_, u16> {
        move |i| {
            map(
                take_while_m_n(min, max, |b: u8| b.is_ascii_digit()),
                |d: &[u8]| d.iter().fold(0u16, |n, b| n * 10 + u16::from(b - b'0')),
            )
            .parse(i)
        }
    }

    fn enhanced_code(i: &[u8]) -> Res<'_, EnhancedCode> {
        let (i, (_, class, _, subject, _, detail, _)) = (
            take_while(|b| b == b' '),
            satisfy(|c| matches!(c, '2' | '4' | '5')),
            char('.'),
            number(1, 3),
            char('.'),
            number(1, 3),
            peek(alt((
                value((), satisfy(|c| c == ' ' || c == '\t')),
                value((), eof),
            ))),
        )
            .parse(i)?;
        let class = class as u8 - b'0';
        Ok((
            i,
            EnhancedCode {
                class,
                subject,
                detail,
            },
        ))
    }

    pub fn line_head(line: &[u8]) -> Option<LineHead> {
        let (code, last, rest) = code_and_separator(line)?;
        let (enhanced, text) = match enhanced_code(rest) {
            Ok((after, code)) => {
                let skip = after.iter().take_while(|&&b| is_blank(b)).count();
                (Some(code), &after[skip..])
            }
            Err(_) => (None, rest),
        };
        Some(LineHead {
            code,
            last,
            enhanced,
            text_start: line.len() - text.len(),
        })
    }
}

mod hand_version {
    use super::*;

    /// One to three digits: their value and how many there are.
    #[inline]
    fn number(i: &[u8]) -> Option<(u16, usize)> {
        let mut n = 0u16;
        let mut len = 0;
        while len < 3 {
            match i.get(len) {
                Some(&d) if d.is_ascii_digit() => n = n * 10 + u16::from(d - b'0'),
                _ => break,
            }
            len += 1;
        }
        (len > 0).then_some((n, len))
    }

    /// Spaces, `class "." subject "." detail`, then SP, HTAB or the end of the line; the code
    /// and where it ends.
    #[inline]
    fn enhanced_code(i: &[u8]) -> Option<(EnhancedCode, usize)> {
        let mut at = i.iter().take_while(|&&b| b == b' ').count();
        let class = match i.get(at..at + 2)? {
            [c @ (b'2' | b'4' | b'5'), b'.'] => c - b'0',
            _ => return None,
        };
        let (subject, len) = number(&i[at + 2..])?;
        at += 2 + len;
        if i.get(at) != Some(&b'.') {
            return None;
        }
        let (detail, len) = number(&i[at + 1..])?;
        at += 1 + len;
        match i.get(at) {
            None | Some(b' ' | b'\t') => Some((
                EnhancedCode {
                    class,
                    subject,
                    detail,
                },
                at,
            )),
            _ => None,
        }
    }

    pub fn line_head(line: &[u8]) -> Option<LineHead> {
        let (code, last, rest) = code_and_separator(line)?;
        let (enhanced, text) = match enhanced_code(rest) {
            Some((code, end)) => {
                let after = &rest[end..];
                let skip = after.iter().take_while(|&&b| is_blank(b)).count();
                (Some(code), &after[skip..])
            }
            None => (None, rest),
        };
        Some(LineHead {
            code,
            last,
            enhanced,
            text_start: line.len() - text.len(),
        })
    }
}

const LINES: &[&[u8]] = &[
    b"250 2.1.0 Ok",
    b"250 2.1.5 Ok",
    b"452 4.5.3 Error: too many recipients",
    b"550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown",
    b"451 4.7.1 Greylisting in action, please come back later",
    b"250 2.0.0 Ok: queued as 3F1A2B4C5D",
    b"550 5.7.26 Unauthenticated email is not accepted from this domain",
    b"250 OK",
    b"354 End data with <CR><LF>.<CR><LF>",
    b"220 mx.example.com ESMTP Postfix",
    b"250-PIPELINING",
    b"250-SIZE 10240000",
    b"250 CHUNKING",
    b"221 Bye",
];

/// Lines that stress the grammar's edges, for the agreement check only.
const EDGES: &[&[u8]] = &[
    b"",
    b"25",
    b"250",
    b"2500 x",
    b"550 #4.5.3 x",
    b"550 5.1.1234 x",
    b"550 5.1.1x",
    b"550 3.1.1 x",
    b"550 5..1 x",
    b"550 5.7.1\tx",
    b"550   5.7.1",
    b"550 5.7.1",
    b"550 5.",
    b"550 5.1",
    b"550 5.1.",
    b"550 5.100.100 \t x",
    b"550 5",
];

fn heads(c: &mut Criterion) {
    for line in LINES.iter().chain(EDGES) {
        assert_eq!(
            nom_version::line_head(line),
            hand_version::line_head(line),
            "{}",
            String::from_utf8_lossy(line)
        );
    }
    let mut group = c.benchmark_group("line_head");
    group.throughput(Throughput::Elements(LINES.len() as u64));
    group.bench_function("nom", |b| {
        b.iter(|| {
            for line in black_box(LINES) {
                black_box(nom_version::line_head(line));
            }
        })
    });
    group.bench_function("hand", |b| {
        b.iter(|| {
            for line in black_box(LINES) {
                black_box(hand_version::line_head(line));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, heads);
criterion_main!(benches);
