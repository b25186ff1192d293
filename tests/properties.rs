//! Properties of the streaming parser that must hold for every input (issue #2):
//!
//! - no input panics, and `consumed <= len` on every answer;
//! - a reply cut at any byte boundary is INCOMPLETE until it is complete, then gives the answer
//!   of the whole, whether re-classified from scratch or resumed through one [`Scanner`];
//! - pipelined replies concatenated classify one after another exactly as each alone.
//!
//! Inputs are the test vectors, mutations of them and SMTP-shaped random bytes, drawn from a
//! fixed-seed generator so that a failure names a case that can be replayed.

mod common;

use common::vectors::{self, Vector};
use smtp_verdict::{
    Classification, Command, Context, Error, MAX_REPLY_LEN, Options, Scanner, classify,
};

/// xorshift64*: small, fast and reproducible; no crate needed for test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes that matter to the grammar come often; any byte can come.
fn smtp_byte(rng: &mut Rng) -> u8 {
    const SHAPED: &[u8] = b"0123456789012345 -.\r\n\r\n#xX\t";
    if rng.below(8) == 0 {
        rng.next() as u8
    } else {
        *rng.pick(SHAPED)
    }
}

fn random_context(rng: &mut Rng) -> Context {
    Context {
        command: *rng.pick(&Command::ALL),
        accepted_recipients: rng.below(4) as u32,
        limited_recipients: rng.below(3) as u32,
        options: Options::from_bits(rng.below(Options::ALL.bits() as usize + 1) as u32).unwrap(),
    }
}

/// Bytes the answer says the reply took (0 for INCOMPLETE).
fn consumed(answer: &Result<Classification, Error>) -> usize {
    match answer {
        Ok(c) => c.consumed,
        Err(Error::Malformed { consumed, .. } | Error::TooLong { consumed, .. }) => *consumed,
        Err(Error::Incomplete) => 0,
    }
}

/// The checks every answer must pass, whatever the input.
fn check_answer(input: &[u8], answer: &Result<Classification, Error>, case: &str) {
    let taken = consumed(answer);
    assert!(taken <= input.len(), "{case}: consumed {taken} > len");
    if let Ok(c) = answer {
        assert!(
            taken > 0 && input[taken - 1] == b'\n',
            "{case}: OK ends mid-line"
        );
        assert!(
            c.text.start <= c.text.end && c.text.end <= taken,
            "{case}: text range"
        );
        assert!(c.lines >= 1, "{case}: no lines");
    }
}

/// Every prefix of `input`: INCOMPLETE before the reply is complete, then the whole's answer.
/// The same prefixes fed in order to one scanner must agree at every step.
fn check_every_split(input: &[u8], ctx: &Context, case: &str) {
    let whole = classify(input, ctx);
    check_answer(input, &whole, case);
    let mut scanner = Scanner::new();
    let mut resumed_done = false;
    for end in 0..=input.len() {
        let part = classify(&input[..end], ctx);
        if part != Err(Error::Incomplete) {
            assert_eq!(part, whole, "{case}: prefix of {end} bytes");
        }
        if whole.is_ok() {
            assert_eq!(
                end >= consumed(&whole),
                part.is_ok(),
                "{case}: prefix of {end}"
            );
        }
        if !resumed_done {
            let step = scanner.classify(&input[..end], ctx);
            assert_eq!(step, part, "{case}: scanner at prefix of {end} bytes");
            resumed_done = step != Err(Error::Incomplete);
        }
    }
}

#[test]
fn every_vector_split_at_every_byte() {
    let rows = vectors::load();
    for v in &rows {
        check_every_split(&v.reply, &v.context(), &v.place());
    }
}

#[test]
fn pipelined_vectors_classify_as_each_alone() {
    let rows = vectors::load();
    // Replies that end where the row ends, so that concatenation cannot join two of them.
    let whole: Vec<&Vector> = rows
        .iter()
        .filter(
            |v| matches!(classify(&v.reply, &v.context()), Ok(c) if c.consumed == v.reply.len()),
        )
        .collect();
    assert!(whole.len() > 300, "only {} complete vectors", whole.len());
    let mut rng = Rng(0x5eed_0001);
    for round in 0..2000 {
        let picked: Vec<&Vector> = (0..1 + rng.below(12)).map(|_| *rng.pick(&whole)).collect();
        let stream: Vec<u8> = picked
            .iter()
            .flat_map(|v| v.reply.iter().copied())
            .collect();
        let mut at = 0;
        for v in &picked {
            let alone = classify(&v.reply, &v.context()).unwrap();
            let in_stream = classify(&stream[at..], &v.context()).unwrap();
            assert_eq!(
                in_stream,
                alone,
                "round {round}: {} in the stream",
                v.place()
            );
            at += in_stream.consumed;
        }
        assert_eq!(at, stream.len(), "round {round}");
    }
}

#[test]
fn mutated_vectors_keep_the_properties() {
    let rows = vectors::load();
    let mut rng = Rng(0x5eed_0002);
    let cases = if cfg!(miri) { 20 } else { 20_000 };
    for case in 0..cases {
        let v = rng.pick(&rows);
        let mut bytes = v.reply.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(3) {
                0 if at < bytes.len() => bytes[at] = smtp_byte(&mut rng),
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, smtp_byte(&mut rng)),
            }
        }
        let ctx = random_context(&mut rng);
        let name = format!("mutation {case} of {}", v.place());
        if bytes.len() <= 600 && case % 10 == 0 {
            check_every_split(&bytes, &ctx, &name);
        } else {
            check_answer(&bytes, &classify(&bytes, &ctx), &name);
        }
    }
}

#[test]
fn random_bytes_keep_the_properties() {
    let mut rng = Rng(0x5eed_0003);
    let cases = if cfg!(miri) { 20 } else { 50_000 };
    for case in 0..cases {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len).map(|_| smtp_byte(&mut rng)).collect();
        let ctx = random_context(&mut rng);
        let name = format!("random case {case}: {:?}", String::from_utf8_lossy(&bytes));
        if case % 50 == 0 {
            check_every_split(&bytes, &ctx, &name);
        } else {
            check_answer(&bytes, &classify(&bytes, &ctx), &name);
        }
    }
}

/// Replies of two and three lines, whose lines after the first `classify` reads by a path of
/// its own (each read as a first line is, then joined), against the scanner's general loop,
/// under every option set.
#[test]
fn multiline_replies_agree_with_the_scanner() {
    let long_last = [&b"250 "[..], &[b'x'; 600], b"\r\n"].concat();
    let long_middle = [&b"250-"[..], &[b'x'; 600], b"\r\n"].concat();
    let firsts: [&[u8]; 6] = [
        b"250-mail.example.com\r\n",
        b"550-5.1.1 unknown user\r\n",
        b"452-4.5.3 first\n",
        b"220-mail.example.com ESMTP\r\n",
        b"250-\r\n",
        b"421-4.7.0 busy\r\n",
    ];
    let lasts: [&[u8]; 10] = [
        b"250 ok\r\n",
        b"550 5.1.1 user\r\n",
        b"452 too many recipients\n",
        b"521 5.7.1 go away\r\n",
        b"250\r\n",
        b"250 2.0.0\r\n",
        b"2x0 bad\r\n",
        b"999 odd\r\n",
        b"250 4.5.3 class mismatch\r\n",
        &long_last,
    ];
    // Nothing, a plain continuation line, one with an enhanced code, a bare LF, a long one, a
    // code of its own, a malformed one.
    let middles: [&[u8]; 7] = [
        b"",
        b"250-PIPELINING\r\n",
        b"550-5.1.1 second\r\n",
        b"452-4.5.3 bare\n",
        &long_middle,
        b"354-go on\r\n",
        b"25-x\r\n",
    ];
    let commands = [
        Command::Rcpt,
        Command::Ehlo,
        Command::DataEnd,
        Command::Greeting,
    ];
    for (first, middle) in firsts
        .iter()
        .flat_map(|f| middles.iter().map(move |m| (f, m)))
    {
        for last in lasts {
            let reply = [*first, *middle, last].concat();
            for options in 0..=Options::ALL.bits() {
                for command in commands {
                    let ctx = Context {
                        command,
                        accepted_recipients: 1,
                        limited_recipients: 0,
                        options: Options::from_bits(options).unwrap(),
                    };
                    let name = format!("{:?} {ctx:?}", String::from_utf8_lossy(&reply));
                    check_every_split(&reply, &ctx, &name);
                }
            }
        }
    }
}

/// A reply that grows past the limit without ending is TOO_LONG, never INCOMPLETE forever.
#[test]
fn a_growing_buffer_ends_in_too_long() {
    let mut reply = b"250-".to_vec();
    reply.resize(MAX_REPLY_LEN + 2, b'x');
    let answer = classify(&reply, &Context::new(Command::Ehlo));
    assert!(matches!(answer, Err(Error::TooLong { .. })), "{answer:?}");
    let mut lines = Vec::new();
    while lines.len() <= MAX_REPLY_LEN {
        lines.extend_from_slice(b"250-PIPELINING\r\n");
    }
    let answer = classify(&lines, &Context::new(Command::Ehlo));
    assert!(matches!(answer, Err(Error::TooLong { .. })), "{answer:?}");
}
