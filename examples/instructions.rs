//! Instructions per reply, for callgrind: classifies one category of the benchmark's replies
//! (benches/parsers.rs: `short`, `enhanced`, `ehlo` or `corpus`, the vectors' rows) 10,000
//! times, one `smtp_verdict::classify` call per reply (per row: a row's first reply), in `run`.
//!
//! ```sh
//! cargo build --release --example instructions
//! valgrind --tool=callgrind --toggle-collect='instructions::run' \
//!     target/release/examples/instructions enhanced
//! ```
//!
//! Instructions per reply: callgrind's total (`I refs`) over the count the program prints.

use std::hint::black_box;

use smtp_verdict::{Command, Context, Options};

const ROUNDS: usize = 10_000;

include!("../benches/common/replies.rs");
include!("../benches/common/corpus.rs");

#[inline(never)]
fn run(set: &[(&[u8], Context)]) -> usize {
    let mut consumed = 0;
    for _ in 0..ROUNDS {
        for (bytes, ctx) in set {
            if let Ok(c) = smtp_verdict::classify(black_box(bytes), ctx) {
                consumed += c.consumed;
                black_box(&c);
            }
        }
    }
    consumed
}

fn main() {
    let category = std::env::args().nth(1).unwrap_or_default();
    let ctx = |command| Context {
        command,
        accepted_recipients: 1,
        ..Context::default()
    };
    let rows = corpus_rows();
    let set: Vec<(&[u8], Context)> = match category.as_str() {
        "short" => SHORT.iter().map(|(r, c)| (r.as_bytes(), ctx(*c))).collect(),
        "enhanced" => ENHANCED
            .iter()
            .map(|(r, c)| (r.as_bytes(), ctx(*c)))
            .collect(),
        "ehlo" => EHLO
            .iter()
            .map(|r| (r.as_bytes(), ctx(Command::Ehlo)))
            .collect(),
        "corpus" => rows.iter().map(|(r, c)| (r.as_slice(), *c)).collect(),
        _ => {
            eprintln!("usage: instructions short|enhanced|ehlo|corpus");
            std::process::exit(2);
        }
    };
    let consumed = run(&set);
    println!(
        "{} replies classified ({consumed} bytes)",
        set.len() * ROUNDS
    );
}
