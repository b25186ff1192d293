//! Fuzzes the Rust API: `classify`, `parse`, `Scanner` (fed in chunks, and rebuilt from
//! arbitrary words), `Reply` accessors and the registry lookup. Checks that nothing panics and
//! that every answer is internally consistent.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use smtp_verdict::{Error, Flags, Scanner, classify, enhanced_code_title, parse};

fuzz_target!(|data: &[u8]| {
    let input = common::Input::new(data);
    let ctx = input.context();
    let reply = input.reply;

    let whole = classify(reply, &ctx);
    match &whole {
        Ok(c) => {
            assert!(c.consumed >= 4 && c.consumed <= reply.len());
            assert_eq!(reply[c.consumed - 1], b'\n');
            assert!(c.text.start <= c.text.end && c.text.end < c.consumed);
            assert!(c.lines >= 1);
            assert!(Flags::from_bits(c.flags.bits()).is_some());
            let _ = c.verdict.name();
            let _ = c.scope.c_name();
            if let Some(e) = c.enhanced {
                assert!(matches!(e.class(), 2 | 4 | 5) && e.subject() < 1000 && e.detail() < 1000);
                let _ = e.title();
                let _ = e.to_string();
            }
        }
        Err(Error::Incomplete) => {}
        Err(Error::Malformed { consumed, lines }) => {
            assert!(*consumed >= 1 && *consumed <= reply.len() && *lines >= 1);
            assert_eq!(reply[*consumed - 1], b'\n');
        }
        Err(Error::TooLong { consumed, .. }) => assert!(*consumed <= reply.len()),
    }
    if let Err(e) = whole {
        let _ = e.to_string();
        if let Some(f) = e.fallback() {
            assert!(f.consumed <= reply.len());
        }
    }

    // parse agrees with classify, and a Reply's accessors stay inside the input.
    match parse(reply, ctx.options) {
        Ok(r) => {
            assert_eq!(whole.as_ref().ok().map(|c| c.consumed), Some(r.consumed()));
            assert_eq!(r.lines().count() as u32, r.line_count());
            assert_eq!(r.as_bytes(), &reply[..r.consumed()]);
            let _ = r.text();
            assert_eq!(r.classify(&ctx), *whole.as_ref().unwrap());
            let negative = r.lines().any(|l| matches!(l.first(), Some(b'4' | b'5')));
            assert_eq!(negative, r.has_negative_line());
        }
        Err(e) => assert_eq!(Err(e), whole.clone().map(|_| ())),
    }

    // The scanner fed in chunks gives the same answer at the end.
    let mut scanner = Scanner::new();
    let mut last = Err(Error::Incomplete);
    for end in common::chunks(reply.len(), input.knobs[0]) {
        last = scanner.classify(&reply[..end], &ctx);
        if last != Err(Error::Incomplete) {
            assert!(scanner.is_fresh());
            break;
        }
    }
    if !reply.is_empty() {
        assert_eq!(last, whole);
    }

    // A scanner rebuilt from arbitrary words is refused or works without panicking.
    let mut words = [0u32; Scanner::WORDS];
    for (w, chunk) in words.iter_mut().zip(reply.chunks(4)) {
        let mut b = [0u8; 4];
        b[..chunk.len()].copy_from_slice(chunk);
        *w = u32::from_le_bytes(b);
    }
    if let Some(mut s) = Scanner::from_words(&words) {
        assert_eq!(s.to_words(), words);
        if let Ok(c) = s.classify(reply, &ctx) {
            assert!(c.consumed <= reply.len());
        }
    }

    let _ = enhanced_code_title(
        input.knobs[1],
        u16::from_le_bytes([input.knobs[2], input.knobs[3]]),
        u16::from(input.accepted),
    );
});
