//! Properties every answer must have, whatever the bytes (issue #5):
//!
//! 1. `consumed <= len`, and an OK answer is a complete reply: it ends in LF, classifying
//!    exactly those bytes gives the same answer, and every shorter prefix is INCOMPLETE.
//! 2. Splitting the input anywhere never changes a verdict: each prefix is INCOMPLETE or gives
//!    the answer of the whole; the same holds for one `Scanner` fed the prefixes in order.
//! 3. A pipelined stream parses as the sum of its replies: walking it reply by reply, each
//!    reply classified alone gives the answer it got in the stream, and the consumed add up.
//! 4. Never SUCCESS or INTERMEDIATE when any line starts with 4 or 5, for any command and
//!    options.
//! 5. STRICT only refuses: a reply STRICT accepts gets the same answer without it.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use smtp_verdict::{Command, Context, Error, Options, Scanner, Verdict, classify, parse};

/// Above this length the split points are sampled instead of all tried (the sweep is
/// quadratic for plain re-classification).
const FULL_SWEEP: usize = 1024;

fn split_points(len: usize, seed: u8) -> Vec<usize> {
    if len <= FULL_SWEEP {
        (0..=len).collect()
    } else {
        let mut x = u64::from(seed) | 1;
        let mut v: Vec<usize> = (0..128)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % (len as u64 + 1)) as usize
            })
            .chain([0, 1, len - 1, len])
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

fuzz_target!(|data: &[u8]| {
    let input = common::Input::new(data);
    let ctx = input.context();
    let reply = input.reply;
    let whole = classify(reply, &ctx);

    // 1.
    let consumed = match &whole {
        Ok(c) => c.consumed,
        Err(Error::Malformed { consumed, .. } | Error::TooLong { consumed, .. }) => *consumed,
        Err(Error::Incomplete) => 0,
    };
    assert!(consumed <= reply.len());
    if let Ok(c) = &whole {
        assert_eq!(reply[c.consumed - 1], b'\n');
        assert_eq!(classify(&reply[..c.consumed], &ctx), whole);
    }

    // 2. Every prefix, re-classified from scratch and through one scanner.
    let mut scanner = Scanner::new();
    let mut scanner_done = false;
    for end in split_points(reply.len(), input.knobs[0]) {
        let part = classify(&reply[..end], &ctx);
        if part != Err(Error::Incomplete) {
            assert_eq!(part, whole, "prefix of {end} bytes");
        }
        if let Ok(c) = &whole {
            assert_eq!(end >= c.consumed, part.is_ok(), "prefix of {end} bytes");
        }
        if !scanner_done {
            let step = scanner.classify(&reply[..end], &ctx);
            if step != Err(Error::Incomplete) {
                assert_eq!(step, whole, "scanner, prefix of {end} bytes");
                scanner_done = true;
            }
        }
    }
    if reply.len() <= FULL_SWEEP {
        assert_eq!(scanner_done, whole != Err(Error::Incomplete));
    }

    // 3. The stream, reply by reply.
    let mut at = 0;
    let mut steps = 0;
    while at < reply.len() && steps < 64 {
        let rest = &reply[at..];
        let step = match classify(rest, &ctx) {
            Ok(c) => c.consumed,
            Err(Error::Malformed { consumed, .. }) => consumed,
            Err(_) => break,
        };
        // The same reply with nothing after it, and with the rest of the stream cut anywhere.
        let alone = classify(&rest[..step], &ctx);
        assert_eq!(alone, classify(rest, &ctx));
        let cut = step + usize::from(input.knobs[1]).min(rest.len() - step);
        assert_eq!(classify(&rest[..cut], &ctx), alone);
        at += step;
        steps += 1;
    }

    // 3, as a caller with a growing buffer does it: one scanner walks the stream, fed a few
    // bytes at a time, and after each answer goes on at `consumed` with the same scanner.
    let mut scanner = Scanner::new();
    let (mut at, mut end, mut steps) = (0, 0, 0);
    let chunk = usize::from(input.knobs[2]).max(1);
    while at < reply.len() && steps < 64 {
        end = (end + chunk).min(reply.len());
        let answer = scanner.classify(&reply[at..end], &ctx);
        let step = match answer {
            Err(Error::Incomplete) if end == reply.len() => break,
            Err(Error::Incomplete) => continue,
            Ok(ref c) => c.consumed,
            Err(Error::Malformed { consumed, .. } | Error::TooLong { consumed, .. }) => consumed,
        };
        assert!(scanner.is_fresh());
        assert_eq!(answer, classify(&reply[at..], &ctx), "stream reply at {at}");
        if step == 0 {
            break;
        }
        at += step;
        end = at;
        steps += 1;
    }

    // 4. and 5., for every command and option set.
    for options in 0..=Options::ALL.bits() {
        let options = Options::from_bits(options).unwrap();
        for command in Command::ALL {
            let ctx = Context {
                command,
                options,
                ..ctx
            };
            let Ok(c) = classify(reply, &ctx) else {
                continue;
            };
            let r = parse(reply, options).unwrap();
            if r.lines().any(|l| matches!(l.first(), Some(b'4' | b'5'))) {
                assert!(
                    !matches!(c.verdict, Verdict::Success | Verdict::Intermediate),
                    "{:?} for {command:?}: {c:?}",
                    c.verdict
                );
            }
            if options.contains(Options::STRICT) {
                let lenient = Context {
                    options: Options::from_bits(options.bits() & !Options::STRICT.bits()).unwrap(),
                    ..ctx
                };
                assert_eq!(classify(reply, &lenient), Ok(c));
            }
        }
    }
});
