//! Differential target: smtp-verdict's parser against smtp-proto 0.2's `ResponseReceiver`
//! (the way benches/parsers.rs calls it). On a reply both accept, the reply code, the enhanced
//! code and the bytes consumed must agree, except where smtp-proto is known to be wrong. Each
//! exception is listed below with the smallest input that shows it; anything else that differs
//! is a crash for a human to look at.
//!
//! Known smtp-proto faults (ours is the RFC 5321 / RFC 3463 reading):
//!
//! 1. Mixed codes: it keeps the first line's code (`250-a\r\n550 b\r\n` is 250 to it); RFC 5321
//!    4.2.1 gives the reply the final line's code. Checked: it reports the first line's code.
//! 2. CR leak: on an empty text it puts the CR of the line end into the message
//!    (`250 \r\n` has text "\r"). Only the text is affected, and the text is compared only
//!    where this is the one difference (single line, no enhanced code, see `text_agrees_plainly`).
//! 3. Saturation: enhanced-code parts above 255 become 255 (`550 5.300.1 x` is 5.255.1 to it).
//!    Checked: it reports the saturated value.
//! 4. Cap: it refuses a reply whose text passes 4096 bytes (`MAX_RESPONSE_LENGTH`); we accept
//!    up to 65536. Only inputs both accept are compared, so such a reply is skipped; a reply it
//!    accepts near the cap is not compared either (its buffer state there is not worth modelling).
//!
//! Where the enhanced-code grammars differ, smtp-proto reads things RFC 3463 does not allow as
//! an enhanced code, and misses some that it allows. Those are not compared (`esc_comparable`):
//!
//! 5. It takes any digit as the class (`250 1.2.3 x` is 1.2.3 to it); RFC 3463 allows 2, 4, 5.
//! 6. It takes an empty part as 0 (`250 5..1 x` is 5.0.1, `250 .1.2 x` is 0.1.2).
//! 7. It takes CR as the separator after the code without looking for LF (`250 2.1.5\rx\r\n`
//!    is 2.1.5 with text "x"; to us the line's text is `2.1.5\rx`, no enhanced code).
//! 8. It misses a code after several spaces (`250   2.1.5 x`) or followed by a tab
//!    (`250 2.1.5\tx`); RFC 3463 text after the code may start with SP or HTAB.
//! 9. It reads a part of more than three digits when the first are zeros (`250 5.0001.1 x` is
//!    5.1.1); RFC 3463 allows one to three digits.
//!
//! Each example above was checked against smtp-proto 0.2.5. Everywhere else the enhanced code
//! is compared, including the "last line that has one" rule both follow
//! (`250-2.1.5 a\r\n250 2.1.5000 b\r\n` is 2.1.5 to both).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use smtp_proto::response::parser::{MAX_RESPONSE_LENGTH, ResponseReceiver};
use smtp_verdict::{Flags, Options, parse};

fuzz_target!(|data: &[u8]| {
    let input = common::Input::new(data);
    let reply = input.reply;

    let ours = parse(reply, Options::default());
    let mut receiver = ResponseReceiver::default();
    let mut iter = reply.iter();
    let theirs = receiver.parse(&mut iter);
    let their_consumed = reply.len() - iter.as_slice().len();

    let (Ok(ours), Ok(theirs)) = (ours, theirs) else {
        return;
    };
    // 4.
    if ours.consumed() >= MAX_RESPONSE_LENGTH - 16
        || theirs.message.len() >= MAX_RESPONSE_LENGTH - 16
    {
        return;
    }

    assert_eq!(ours.consumed(), their_consumed, "bytes consumed");

    // 1.
    let first_code = ours
        .lines()
        .next()
        .map(|l| {
            l[..3]
                .iter()
                .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
        })
        .unwrap_or_default();
    if ours.flags().contains(Flags::CODE_MISMATCH) {
        assert_eq!(
            theirs.code, first_code,
            "mixed codes: smtp-proto keeps the first"
        );
    } else {
        assert_eq!(theirs.code, ours.code(), "reply code");
    }

    // 3., and 5. to 9. skipped.
    let sat = |n: u16| u8::try_from(n).unwrap_or(255);
    let ours_esc = ours
        .enhanced()
        .map_or([0, 0, 0], |e| [e.class(), sat(e.subject()), sat(e.detail())]);
    if esc_comparable(&ours) {
        assert_eq!(theirs.esc, ours_esc, "enhanced code");
    }

    // 2.
    if ours.line_count() == 1 && ours.enhanced().is_none() && text_agrees_plainly(&ours) {
        let text = ours.text();
        let msg = theirs.message.as_bytes();
        if text.is_empty() {
            assert!(msg.is_empty() || msg == b"\r", "empty text: {msg:?}");
        } else if let Ok(t) = std::str::from_utf8(text) {
            assert_eq!(theirs.message, t, "text");
        }
    }
});

/// False when a line of the reply holds something the two enhanced-code grammars read
/// differently (exceptions 5 to 9): then the enhanced codes are not compared.
fn esc_comparable(reply: &smtp_verdict::Reply<'_>) -> bool {
    reply.lines().all(|line| {
        let rest = &line[3.min(line.len())..];
        let rest = rest.get(1..).unwrap_or_default(); // the separator
        // 8: several spaces, or a tab, before or after something code-like.
        if rest.first() == Some(&b' ') || rest.first() == Some(&b'\t') {
            return false;
        }
        // Where smtp-proto's enhanced-code reader could start: a digit or a dot.
        let head: Vec<u8> = rest
            .iter()
            .copied()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .collect();
        if head.is_empty() {
            return true;
        }
        let after = rest.get(head.len()).copied();
        let parts: Vec<&[u8]> = head.split(|&b| b == b'.').collect();
        // 5, 6, 9: a class other than 2/4/5, an empty part, a part of more than three digits.
        let rfc_shaped = parts.len() == 3
            && matches!(parts[0], [b'2' | b'4' | b'5'])
            && parts[1..].iter().all(|p| (1..=3).contains(&p.len()));
        // 7, 8: what follows the code.
        let plain_end = matches!(after, None | Some(b' '));
        if !rfc_shaped || !plain_end {
            return false;
        }
        true
    })
}

/// The single line's text is what smtp-proto's message should be: it does not start with a
/// digit, a dot, a blank (smtp-proto's enhanced-code reader or separator handling) and holds
/// no CR (smtp-proto ends its text at any CR).
fn text_agrees_plainly(reply: &smtp_verdict::Reply<'_>) -> bool {
    let line = reply.lines().next().unwrap_or_default();
    let text = reply.text();
    line.len() > 4
        && line[3] == b' '
        && !text.contains(&b'\r')
        && !text.contains(&b'\n')
        && text
            .first()
            .is_none_or(|b| !b.is_ascii_digit() && !matches!(b, b'.' | b' ' | b'\t'))
}
