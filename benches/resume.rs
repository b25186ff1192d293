//! Resuming (issue #5): a hostile server sends a 64 KiB multiline reply one byte per packet,
//! and the caller classifies its growing buffer after every read. With a `Scanner` (Rust) or
//! `smtp_scanner` (C) each byte is examined once, so feeding the reply one byte at a time costs
//! a constant times classifying it whole, printed here as that ratio. Without the scanner it is
//! quadratic (shown for scale on a 4 KiB reply only).
//!
//! ```text
//! cargo bench --bench resume                  # criterion timings, then the ratios
//! RESUME_RATIO_ONLY=1 cargo bench --bench resume   # the ratios alone, a few seconds
//! ```

use std::hint::black_box;
use std::mem::size_of;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use smtp_verdict::ffi::{
    smtp_classify_reply, smtp_classify_reply_incremental, smtp_context, smtp_result, smtp_scanner,
    smtp_scanner_reset, smtp_verdict_status,
};
use smtp_verdict::{Command, Context, Error, MAX_REPLY_LEN, Scanner, classify};

/// A multiline reply of exactly `len` bytes: 76-byte continuation lines, then a final line.
fn reply(len: usize) -> Vec<u8> {
    let mut r = Vec::with_capacity(len);
    let mut i = 0;
    while len - r.len() > 2 * 78 {
        r.extend_from_slice(
            format!("250-{i:06} 8BITMIME PIPELINING SIZE 52428800 ENHANCEDSTATUSCODES DSN X\r\n")
                .as_bytes(),
        );
        i += 1;
    }
    let last = len - r.len();
    r.extend_from_slice(b"250 ");
    r.resize(len - 2, b'x');
    r.extend_from_slice(b"\r\n");
    assert_eq!((r.len(), last > 4), (len, true));
    r
}

fn ctx() -> Context {
    Context::new(Command::Ehlo)
}

fn whole_rust(r: &[u8]) -> usize {
    classify(r, &ctx()).unwrap().consumed
}

fn bytewise_rust(r: &[u8]) -> usize {
    let ctx = ctx();
    let mut scanner = Scanner::new();
    for end in 1..r.len() + 1 {
        match scanner.classify(&r[..end], &ctx) {
            Err(Error::Incomplete) => {}
            answer => return answer.unwrap().consumed,
        }
    }
    unreachable!("a complete reply")
}

fn c_ctx() -> smtp_context {
    smtp_context {
        struct_size: size_of::<smtp_context>() as u32,
        command: Command::Ehlo as u32,
        ..smtp_context::default()
    }
}

fn c_out() -> smtp_result {
    smtp_result {
        struct_size: size_of::<smtp_result>() as u32,
        ..smtp_result::default()
    }
}

fn whole_c(r: &[u8]) -> usize {
    let mut out = c_out();
    // SAFETY: valid pointers and length.
    let s = unsafe { smtp_classify_reply(r.as_ptr(), r.len(), &c_ctx(), &mut out) };
    assert_eq!(s, smtp_verdict_status::SMTP_STATUS_OK);
    out.consumed
}

type IncrementalFn = unsafe extern "C" fn(
    *const u8,
    usize,
    *const smtp_context,
    *mut smtp_scanner,
    *mut smtp_result,
) -> smtp_verdict_status;

fn bytewise_c(r: &[u8]) -> usize {
    let ctx = c_ctx();
    let mut out = c_out();
    let mut scanner = smtp_scanner {
        struct_size: size_of::<smtp_scanner>() as u32,
        private_state: [0; 15],
    };
    // Called through the symbol, as from C: the compiler would inline its small first part
    // into this loop otherwise.
    let classify_incremental = black_box(smtp_classify_reply_incremental as IncrementalFn);
    // SAFETY: valid pointers; `end` readable bytes.
    unsafe {
        smtp_scanner_reset(&mut scanner);
        for end in 1..r.len() + 1 {
            match classify_incremental(r.as_ptr(), end, &ctx, &mut scanner, &mut out) {
                smtp_verdict_status::SMTP_STATUS_INCOMPLETE => {}
                s => {
                    assert_eq!(s, smtp_verdict_status::SMTP_STATUS_OK);
                    return out.consumed;
                }
            }
        }
    }
    unreachable!("a complete reply")
}

/// Re-classifying from scratch after every byte: what a caller without the scanner pays.
fn bytewise_restart(r: &[u8]) -> usize {
    let ctx = ctx();
    for end in 1..r.len() + 1 {
        if let Ok(c) = classify(&r[..end], &ctx) {
            return c.consumed;
        }
    }
    unreachable!("a complete reply")
}

/// Repetitions of `f` that take at least 20 ms.
fn calibrate(f: &dyn Fn() -> usize) -> u32 {
    let mut reps = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..reps {
            black_box(f());
        }
        if t.elapsed() >= Duration::from_millis(20) {
            return reps;
        }
        reps *= 2;
    }
}

/// The time of one call of `f`, over `reps` calls.
fn time(f: &dyn Fn() -> usize, reps: u32) -> Duration {
    let t = Instant::now();
    for _ in 0..reps {
        black_box(f());
    }
    t.elapsed() / reps
}

/// The median time of `f` over 15 rounds.
fn median(f: impl Fn() -> usize) -> Duration {
    let reps = calibrate(&f);
    let mut times: Vec<Duration> = (0..15).map(|_| time(&f, reps)).collect();
    times.sort();
    times[times.len() / 2]
}

/// Median times of `a` and `b` and the median of their ratio, over 15 rounds in which they
/// take turns: a machine whose speed drifts slows both sides of the ratio alike.
fn interleaved(a: &dyn Fn() -> usize, b: &dyn Fn() -> usize) -> (Duration, Duration, f64) {
    let (reps_a, reps_b) = (calibrate(a), calibrate(b));
    let mut rounds: Vec<(Duration, Duration)> = (0..15)
        .map(|_| (time(a, reps_a), time(b, reps_b)))
        .collect();
    let mut ratios: Vec<f64> = rounds
        .iter()
        .map(|(a, b)| b.as_secs_f64() / a.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    rounds.sort_by_key(|r| r.0);
    let median_a = rounds[7].0;
    rounds.sort_by_key(|r| r.1);
    (median_a, rounds[7].1, ratios[7])
}

fn ratios() {
    let r = reply(MAX_REPLY_LEN);
    for (name, whole, bytewise) in [
        (
            "Rust Scanner",
            &whole_rust as &dyn Fn(&[u8]) -> usize,
            &bytewise_rust as &dyn Fn(&[u8]) -> usize,
        ),
        ("C smtp_scanner", &whole_c, &bytewise_c),
    ] {
        assert_eq!(whole(&r), r.len());
        assert_eq!(bytewise(&r), r.len());
        let (w, b, ratio) = interleaved(&|| whole(black_box(&r)), &|| bytewise(black_box(&r)));
        println!(
            "resume ratio, {name}: {} bytes one at a time {b:?}, whole {w:?}: {ratio:.2}x",
            r.len(),
        );
    }
}

/// Linear, not quadratic: the cost per byte fed one at a time is the same for 4 KiB and
/// 64 KiB; re-classifying from scratch instead grows with the size.
fn linearity() {
    let per_byte = |f: &dyn Fn(&[u8]) -> usize, r: &[u8]| {
        median(|| f(black_box(r))).as_secs_f64() * 1e9 / r.len() as f64
    };
    let (small, large) = (reply(4096), reply(MAX_REPLY_LEN));
    println!(
        "per byte fed one at a time, 4 KiB / 64 KiB: Rust scanner {:.2} / {:.2} ns, C scanner \
         {:.2} / {:.2} ns; without a scanner (re-classify the buffer) 4 KiB: {:.2} ns",
        per_byte(&bytewise_rust, &small),
        per_byte(&bytewise_rust, &large),
        per_byte(&bytewise_c, &small),
        per_byte(&bytewise_c, &large),
        per_byte(&bytewise_restart, &small),
    );
}

fn benches(c: &mut Criterion) {
    let r = reply(MAX_REPLY_LEN);
    let mut g = c.benchmark_group("resume-64KiB");
    g.throughput(Throughput::Bytes(r.len() as u64));
    g.bench_function("rust-whole", |b| b.iter(|| whole_rust(black_box(&r))));
    g.bench_function("rust-byte-by-byte-scanner", |b| {
        b.iter(|| bytewise_rust(black_box(&r)))
    });
    g.bench_function("c-whole", |b| b.iter(|| whole_c(black_box(&r))));
    g.bench_function("c-byte-by-byte-scanner", |b| {
        b.iter(|| bytewise_c(black_box(&r)))
    });
    g.finish();
    let small = reply(4096);
    let mut g = c.benchmark_group("resume-4KiB");
    g.throughput(Throughput::Bytes(small.len() as u64));
    g.bench_function("rust-whole", |b| b.iter(|| whole_rust(black_box(&small))));
    g.bench_function("rust-byte-by-byte-scanner", |b| {
        b.iter(|| bytewise_rust(black_box(&small)))
    });
    g.bench_function("rust-byte-by-byte-restart", |b| {
        b.iter(|| bytewise_restart(black_box(&small)))
    });
    g.finish();
}

fn main() {
    let ratio_only = std::env::var_os("RESUME_RATIO_ONLY").is_some();
    if !ratio_only {
        let mut c = Criterion::default().configure_from_args();
        benches(&mut c);
        c.final_summary();
    }
    ratios();
    linearity();
}
