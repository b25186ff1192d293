//! smtp-verdict side by side with the SMTP reply parsers a user would otherwise pick.
//!
//! One criterion group per input category, one function per parser, so the ratios of medians
//! come from one run (README "Performance"; `benches/table.py` prints them):
//!
//! ```text
//! cargo bench --bench parsers -- --warm-up-time 1 --measurement-time 3
//! python3 benches/table.py
//! ```
//!
//! On a machine busy with other work, `SMTP_BENCH_CLOCK=cpu` times each function by its
//! thread's CPU time instead of the wall clock, so that time slices given to other processes
//! do not count (caches they evict still do: a quiet machine remains the reference).
//!
//! Every parser reads the same bytes and walks each input to its end, reply after reply, as a
//! client reading a pipelined stream would; each iteration goes over all inputs of a category.
//! What each one does:
//!
//! - `smtp_verdict`: [`smtp_verdict::classify`], parse and verdict, with the input's context.
//! - `smtp_verdict_c`: the C entry point `smtp_classify_reply` called from Rust (argument
//!   checks, context and result structs, panic guard included).
//! - `smtp_proto`: smtp-proto 0.2 `ResponseReceiver::parse`, then `reset` for the next reply
//!   (it builds a `String` with the text of every reply).
//! - `smtp_codec`: smtp-codec 0.2 `Reply_line`, which recognises a whole reply (nom 7, a `Vec`
//!   for the continuation lines) and returns its bytes; it extracts no field.
//! - `lettre`: lettre 0.11 `str::parse::<Response>()`, its public entry. It needs `&str`, so
//!   `str::from_utf8` is counted as part of its cost; and it does not say where a reply ends,
//!   so it gets each reply pre-split (by smtp-verdict, outside the timing): lettre is spared
//!   finding reply boundaries in streams.
//! - `memchr`: finds every LF with `memchr::memchr` and nothing else; no parser can do less.
//!
//! A parser that rejects an input (smtp-codec and lettre refuse bare LF, non-ASCII text or
//! lines without text; the corpus has malformed and incomplete replies on purpose) stops
//! there, as it would in real use: its cost up to the rejection is what is timed.
//!
//! The corpus category reads `tests/vectors/*.tsv` (the `reply` column, escapes unfolded); it
//! is left out when there are no vectors. `SMTP_BENCH_CORPUS_MAX=N` leaves out its inputs
//! longer than N bytes (row `corpus_up_to_max`): with 4095, the length-limit vectors, which
//! smtp-proto stops reading at its 4,096-byte cap and smtp-verdict reads to the end.
//! `SMTP_BENCH_CORPUS_MIN=N` keeps only the inputs longer than N bytes (row `corpus_over_min`):
//! with 4095, those vectors alone.

use std::hint::black_box;

use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, Throughput};
use smtp_verdict::ffi::{smtp_classify_reply, smtp_context, smtp_result, smtp_verdict_status};
use smtp_verdict::{Command, Context, Options};

struct Input {
    bytes: Vec<u8>,
    ctx: Context,
    /// The replies of `bytes`, for lettre.
    pieces: Vec<(usize, usize)>,
}

struct Category {
    name: &'static str,
    inputs: Vec<Input>,
}

impl Category {
    fn replies(&self) -> usize {
        self.inputs.iter().map(|i| i.pieces.len()).sum()
    }
}

fn input(bytes: Vec<u8>, ctx: Context) -> Input {
    // Where each reply ends, as smtp-verdict sees it; an unreadable rest is one piece.
    let mut pieces = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match smtp_verdict::parse(&bytes[at..], ctx.options) {
            Ok(r) => {
                pieces.push((at, at + r.consumed()));
                at += r.consumed();
            }
            Err(_) => {
                pieces.push((at, bytes.len()));
                break;
            }
        }
    }
    Input { bytes, ctx, pieces }
}

fn ctx(command: Command, accepted: u32) -> Context {
    Context {
        command,
        accepted_recipients: accepted,
        ..Context::default()
    }
}

include!("common/replies.rs");

/// A line of `len` bytes, line end included, after `head`.
fn long_line(head: &str, len: usize) -> Vec<u8> {
    const FILL: &str = "the sending host [192.0.2.1] is listed on zen.spamhaus.org, \
                        b.barracudacentral.org, bl.spamcop.net and dnsbl.sorbs.net; see \
                        https://www.example.com/support/policy?code=5.7.1&host=192.0.2.1 ";
    let mut line = head.as_bytes().to_vec();
    while line.len() < len - 2 {
        let want = len - 2 - line.len();
        line.extend_from_slice(&FILL.as_bytes()[..want.min(FILL.len())]);
    }
    line.extend_from_slice(b"\r\n");
    line
}

fn categories() -> Vec<Category> {
    let single = |set: &[(&str, Command)]| {
        set.iter()
            .map(|(r, c)| input(r.as_bytes().to_vec(), ctx(*c, 1)))
            .collect::<Vec<_>>()
    };
    let ehlo = EHLO
        .iter()
        .map(|r| input(r.as_bytes().to_vec(), ctx(Command::Ehlo, 0)))
        .collect();
    let long = [
        ("550 5.7.1 Message rejected: ", 1024),
        ("554 Transaction failed: ", 1536),
        ("550 5.7.1 Message rejected: ", 2048),
    ]
    .iter()
    .map(|&(head, len)| input(long_line(head, len), ctx(Command::Rcpt, 1)))
    .collect();
    // 100 replies a client might read back to back: cycling through the single-line ones.
    let mut stream = Vec::new();
    let all: Vec<&str> = SHORT.iter().chain(ENHANCED).map(|(r, _)| *r).collect();
    for r in all.iter().cycle().take(100) {
        stream.extend_from_slice(r.as_bytes());
    }
    let stream = input(stream, ctx(Command::Rcpt, 1));
    assert_eq!(stream.pieces.len(), 100);

    let mut cats = vec![
        Category {
            name: "short",
            inputs: single(SHORT),
        },
        Category {
            name: "enhanced",
            inputs: single(ENHANCED),
        },
        Category {
            name: "ehlo",
            inputs: ehlo,
        },
        Category {
            name: "long_line",
            inputs: long,
        },
        Category {
            name: "pipelined_100",
            inputs: vec![stream],
        },
    ];
    let mut corpus = corpus();
    let mut name = "corpus";
    // Diagnostics, not categories of their own (module documentation).
    if let Some(max) = std::env::var("SMTP_BENCH_CORPUS_MAX")
        .ok()
        .and_then(|max| max.parse::<usize>().ok())
    {
        corpus.retain(|i| i.bytes.len() <= max);
        name = "corpus_up_to_max";
    }
    if let Some(min) = std::env::var("SMTP_BENCH_CORPUS_MIN")
        .ok()
        .and_then(|min| min.parse::<usize>().ok())
    {
        corpus.retain(|i| i.bytes.len() > min);
        name = "corpus_over_min";
    }
    if !corpus.is_empty() {
        cats.push(Category {
            name,
            inputs: corpus,
        });
    }
    cats
}

/// Every row of `tests/vectors/*.tsv`, with its context.
fn corpus() -> Vec<Input> {
    corpus_rows()
        .into_iter()
        .map(|(bytes, ctx)| input(bytes, ctx))
        .collect()
}

include!("common/corpus.rs");

// Each runner hides its input from the optimiser through `black_box(input)`, a thin pointer:
// `black_box` of the byte slice itself (a fat pointer stored and reloaded in halves) cost every
// parser alike a store-forwarding stall, about 5 ns per input, which is no parser's work.
fn run_smtp_verdict(input: &Input) {
    let mut rest = &black_box(input).bytes[..];
    while let Ok(c) = smtp_verdict::classify(rest, &input.ctx) {
        rest = &rest[c.consumed..];
        black_box(&c);
        if rest.is_empty() {
            break;
        }
    }
}

fn run_smtp_verdict_c(input: &Input, cctx: &smtp_context) {
    let mut rest = &black_box(input).bytes[..];
    let mut out = smtp_result {
        struct_size: size_of::<smtp_result>() as u32,
        ..smtp_result::default()
    };
    loop {
        // SAFETY: `rest` is readable, the structs are ours and sized.
        let status = unsafe { smtp_classify_reply(rest.as_ptr(), rest.len(), cctx, &mut out) };
        if status != smtp_verdict_status::SMTP_STATUS_OK {
            break;
        }
        rest = &rest[out.consumed..];
        black_box(&out);
        if rest.is_empty() {
            break;
        }
    }
}

fn c_context(ctx: &Context) -> smtp_context {
    smtp_context {
        struct_size: size_of::<smtp_context>() as u32,
        command: ctx.command as u32,
        accepted_recipients: ctx.accepted_recipients,
        limited_recipients: ctx.limited_recipients,
        options: ctx.options.bits(),
    }
}

fn run_smtp_proto(input: &Input) {
    let mut receiver = smtp_proto::response::parser::ResponseReceiver::default();
    let mut bytes = black_box(input).bytes.iter();
    while let Ok(response) = receiver.parse(&mut bytes) {
        black_box(&response);
        receiver.reset();
        if bytes.as_slice().is_empty() {
            break;
        }
    }
}

fn run_smtp_codec(input: &Input) {
    let mut rest = &black_box(input).bytes[..];
    while let Ok((after, reply)) = smtp_codec::parse::response::Reply_line(rest) {
        black_box(reply);
        rest = after;
        if rest.is_empty() {
            break;
        }
    }
}

fn run_lettre(input: &Input) {
    let bytes = &black_box(input).bytes[..];
    for &(start, end) in &input.pieces {
        let Ok(text) = std::str::from_utf8(&bytes[start..end]) else {
            break;
        };
        match text.parse::<lettre::transport::smtp::response::Response>() {
            Ok(response) => {
                black_box(&response);
            }
            Err(e) => {
                black_box(&e);
                break;
            }
        }
    }
}

fn run_memchr(input: &Input) {
    let bytes = &black_box(input).bytes[..];
    let mut at = 0;
    let mut lines = 0u32;
    while let Some(lf) = memchr::memchr(b'\n', &bytes[at..]) {
        at += lf + 1;
        lines += 1;
    }
    black_box(lines);
}

/// How many replies each peer reads without an error, printed before the timings so a peer that
/// gives up early is seen.
fn accepted(cat: &Category) {
    let mut counts = [0usize; 3];
    for input in &cat.inputs {
        let mut receiver = smtp_proto::response::parser::ResponseReceiver::default();
        let mut bytes = input.bytes.iter();
        while receiver.parse(&mut bytes).is_ok() {
            counts[0] += 1;
            receiver.reset();
        }
        let mut rest = &input.bytes[..];
        while let Ok((after, _)) = smtp_codec::parse::response::Reply_line(rest) {
            counts[1] += 1;
            rest = after;
        }
        counts[2] += input
            .pieces
            .iter()
            .filter(|&&(s, e)| {
                std::str::from_utf8(&input.bytes[s..e]).is_ok_and(|t| {
                    t.parse::<lettre::transport::smtp::response::Response>()
                        .is_ok()
                })
            })
            .count();
    }
    eprintln!(
        "{}: {} inputs, {} replies; read without error: smtp_proto {}, smtp_codec {}, lettre {}",
        cat.name,
        cat.inputs.len(),
        cat.replies(),
        counts[0],
        counts[1],
        counts[2]
    );
}

/// The calling thread's CPU time (`SMTP_BENCH_CLOCK=cpu`), shown as wall time is.
struct ThreadCpuTime(WallTime);

fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write; the clock exists on every Linux.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } == 0;
    assert!(ok, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time() - start
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}

/// The parsers, in the order of [`run`] and of the table.
const PARSERS: [&str; 6] = [
    "smtp_verdict",
    "smtp_verdict_c",
    "smtp_proto",
    "smtp_codec",
    "lettre",
    "memchr",
];

/// Runs parser `k` of [`PARSERS`] over every input (`cctx`: the inputs' C contexts).
fn run(k: usize, inputs: &[Input], cctx: &[smtp_context]) {
    match k {
        0 => inputs.iter().for_each(run_smtp_verdict),
        1 => inputs
            .iter()
            .zip(cctx)
            .for_each(|(i, c)| run_smtp_verdict_c(i, c)),
        2 => inputs.iter().for_each(run_smtp_proto),
        3 => inputs.iter().for_each(run_smtp_codec),
        4 => inputs.iter().for_each(run_lettre),
        _ => inputs.iter().for_each(run_memchr),
    }
}

fn parsers<M: Measurement>(c: &mut Criterion<M>) {
    for cat in categories() {
        accepted(&cat);
        let mut group = c.benchmark_group(cat.name);
        group.throughput(Throughput::Elements(cat.replies() as u64));
        let cctx: Vec<smtp_context> = cat.inputs.iter().map(|i| c_context(&i.ctx)).collect();
        for (k, name) in PARSERS.iter().enumerate() {
            group.bench_function(*name, |b| b.iter(|| run(k, &cat.inputs, &cctx)));
        }
        group.finish();
    }
}

/// `SMTP_BENCH_INTERLEAVED=1`: instead of criterion's runs (each function for seconds, one
/// after the other), the parsers of a category take turns in rounds of a few milliseconds, 31
/// rounds, and each ratio is the median of the rounds' ratios. On a machine whose speed drifts
/// (a shared virtual machine: the same function's median moved by up to 2x between runs here),
/// a drift then slows both sides of a ratio alike. Prints the README table.
fn interleaved() {
    const ROUNDS: usize = 31;
    println!(
        "| category | replies | {} | fastest peer / smtp_verdict | smtp_verdict / memchr | C entry / Rust |",
        PARSERS.join(" | ")
    );
    println!("|---{}|", "|---".repeat(PARSERS.len() + 4));
    for cat in categories() {
        let cctx: Vec<smtp_context> = cat.inputs.iter().map(|i| c_context(&i.ctx)).collect();
        let run = |k: usize| run(k, &cat.inputs, &cctx);
        // Repetitions for about 2 ms per turn, for each parser from one run of it.
        let reps: Vec<u32> = (0..PARSERS.len())
            .map(|k| {
                let t = Instant::now();
                run(k);
                let once = t.elapsed().as_nanos().max(1) as u64;
                (2_000_000 / once).clamp(1, 1_000_000) as u32
            })
            .collect();
        let replies = cat.replies() as f64;
        let mut ns = vec![Vec::with_capacity(ROUNDS); PARSERS.len()];
        for _ in 0..ROUNDS {
            for k in 0..PARSERS.len() {
                let t = Instant::now();
                for _ in 0..reps[k] {
                    run(k);
                }
                ns[k].push(t.elapsed().as_nanos() as f64 / f64::from(reps[k]) / replies);
            }
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let per_round = |f: &dyn Fn(usize) -> f64| median((0..ROUNDS).map(f).collect());
        let peer = (2..5)
            .min_by(|&a, &b| median(ns[a].clone()).total_cmp(&median(ns[b].clone())))
            .unwrap_or(2);
        let speedup = per_round(&|r| (2..5).map(|p| ns[p][r]).fold(f64::MAX, f64::min) / ns[0][r]);
        let over_memchr = per_round(&|r| ns[0][r] / ns[5][r]);
        let c_over_rust = per_round(&|r| ns[1][r] / ns[0][r]);
        let cells: Vec<String> = ns
            .iter()
            .map(|v| format!("{:.1}", median(v.clone())))
            .collect();
        println!(
            "| {} | {} | {} | {speedup:.2}x ({}) | {over_memchr:.2}x | {c_over_rust:.2}x |",
            cat.name,
            cat.replies(),
            cells.join(" | "),
            PARSERS[peer]
        );
    }
    println!(
        "\nmedian ns per reply over {ROUNDS} interleaved rounds; ratios are medians of the rounds' \
         ratios; targets: fastest peer / smtp_verdict >= 3, smtp_verdict / memchr <= 4"
    );
}

fn main() {
    if std::env::var_os("SMTP_BENCH_INTERLEAVED").is_some() {
        interleaved();
        return;
    }
    if std::env::var("SMTP_BENCH_CLOCK").is_ok_and(|clock| clock == "cpu") {
        let mut c = Criterion::default()
            .with_measurement(ThreadCpuTime(WallTime))
            .configure_from_args();
        parsers(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        parsers(&mut c);
        c.final_summary();
    }
}
