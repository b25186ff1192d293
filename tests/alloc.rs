//! Classification allocates nothing (README "Thread safety", issue #5): a counting global
//! allocator watches `classify`, `parse`, `Scanner` and the C functions on every test vector.
//! Its own test binary, so that no other test's allocations are counted; only the allocations
//! of the thread that switched counting on are counted.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::mem::size_of;

use smtp_verdict::ffi::{
    smtp_classify_reply, smtp_classify_reply_incremental, smtp_context, smtp_enhanced_code_text,
    smtp_result, smtp_scanner, smtp_scanner_reset, smtp_scope_name, smtp_status_name,
    smtp_verdict_name, smtp_verdict_status,
};
use smtp_verdict::{Error, Scanner, classify, parse};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    // Per thread: a count shared by the tests running at once took in each other's allocations.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as the caller promises.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as the caller promises.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as the caller promises.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as the caller promises.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations this thread made meanwhile.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn the_counter_counts() {
    assert_eq!(
        allocations_in(|| drop(std::hint::black_box(vec![1u8; 10]))),
        1
    );
}

#[test]
fn classification_allocates_nothing() {
    let rows = common::vectors::load();
    assert!(rows.len() > 300);
    // Every row, and every row followed by the next (a pipelined stream), built beforehand.
    let mut inputs: Vec<(Vec<u8>, smtp_verdict::Context)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        inputs.push((row.reply.clone(), row.context()));
        if let Some(next) = rows.get(i + 1) {
            inputs.push(([&row.reply[..], &next.reply[..]].concat(), row.context()));
        }
    }
    let mut checked = 0usize;
    for (bytes, ctx) in &inputs {
        let bytes = &bytes[..];
        let c_ctx = smtp_context {
            struct_size: size_of::<smtp_context>() as u32,
            command: ctx.command as u32,
            accepted_recipients: ctx.accepted_recipients,
            limited_recipients: ctx.limited_recipients,
            options: ctx.options.bits(),
        };
        let n = allocations_in(|| {
            // The Rust API, and everything a Reply gives.
            let whole = classify(bytes, ctx);
            if let Ok(reply) = parse(bytes, ctx.options) {
                let _ = std::hint::black_box(reply.lines().count());
                let _ = std::hint::black_box(reply.text());
                let c = reply.classify(ctx);
                let _ = std::hint::black_box((c.verdict.name(), c.scope.c_name()));
                let _ = std::hint::black_box(c.enhanced.and_then(|e| e.title()));
            }
            if let Err(e) = whole {
                let _ = std::hint::black_box(e.fallback());
            }
            // The EHLO parser reads any reply (EHLO rows give capabilities, others a status).
            let _ = std::hint::black_box(smtp_verdict::parse_ehlo(bytes));
            // The scanner, a byte at a time.
            let mut scanner = Scanner::new();
            for end in 0..=bytes.len() {
                if scanner.classify(&bytes[..end], ctx) != Err(Error::Incomplete) {
                    break;
                }
            }
            // The C functions, whole and a byte at a time.
            let mut out = smtp_result {
                struct_size: size_of::<smtp_result>() as u32,
                ..smtp_result::default()
            };
            let mut raw = smtp_scanner {
                struct_size: size_of::<smtp_scanner>() as u32,
                private_state: [0; 15],
            };
            // SAFETY: valid pointers and lengths.
            unsafe {
                let status = smtp_classify_reply(bytes.as_ptr(), bytes.len(), &c_ctx, &mut out);
                let _ = std::hint::black_box(smtp_status_name(status as u32));
                let _ = std::hint::black_box(smtp_verdict_name(out.verdict));
                let _ = std::hint::black_box(smtp_scope_name(out.scope));
                let _ = std::hint::black_box(smtp_enhanced_code_text(
                    out.enhanced_class,
                    out.enhanced_subject,
                    out.enhanced_detail,
                ));
                let mut caps = smtp_verdict::ffi::smtp_ehlo_capabilities {
                    struct_size: size_of::<smtp_verdict::ffi::smtp_ehlo_capabilities>() as u32,
                    ..Default::default()
                };
                let _ = smtp_verdict::ffi::smtp_parse_ehlo(bytes.as_ptr(), bytes.len(), &mut caps);
                assert_eq!(
                    smtp_scanner_reset(&mut raw),
                    smtp_verdict_status::SMTP_STATUS_OK
                );
                for end in 0..=bytes.len() {
                    let s = smtp_classify_reply_incremental(
                        bytes.as_ptr(),
                        end,
                        &c_ctx,
                        &mut raw,
                        &mut out,
                    );
                    if s != smtp_verdict_status::SMTP_STATUS_INCOMPLETE {
                        break;
                    }
                }
            }
        });
        assert_eq!(
            n,
            0,
            "{n} allocation(s) classifying {:?}",
            String::from_utf8_lossy(bytes)
        );
        checked += 1;
    }
    assert_eq!(checked, 2 * rows.len() - 1);
}

/// A server with a limit of 3 that answers `452 4.5.3` past it, for the planning test; its
/// replies are static, so the session allocates only what the planner would.
fn limited_reply(action: smtp_verdict::Action, accepted: &mut u32) -> &'static [u8] {
    use smtp_verdict::Action;
    match action {
        Action::Mail => {
            *accepted = 0;
            b"250 2.1.0 Ok\r\n"
        }
        Action::Rcpt(_) if *accepted < 3 => {
            *accepted += 1;
            b"250-2.1.5 Ok\r\n250 2.1.5 (multiline)\r\n"
        }
        Action::Rcpt(_) => b"452 4.5.3 Error: too many recipients\r\n",
        Action::Data => b"354 End data with <CR><LF>.<CR><LF>\r\n",
        Action::Message => b"250 2.0.0 Ok: queued as 4F2D1\r\n",
        Action::Rset => b"250 2.0.0 Ok\r\n",
        Action::Quit => b"221 2.0.0 Bye\r\n",
        _ => b"",
    }
}

#[test]
fn planning_allocates_nothing() {
    use smtp_verdict::{Action, PlanOptions, Planner, Recipient, RecipientState, parse_ehlo};
    let caps = parse_ehlo(b"250-mx.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n").unwrap();
    for pipelining in [true, false] {
        for piece in [1, 7, usize::MAX] {
            let mut records = [Recipient::new(0); 10];
            let options = PlanOptions {
                pipelining,
                ..PlanOptions::default()
            };
            // The server's bytes not yet read, in a fixed buffer.
            let mut pending = [0u8; 1024];
            let (mut len, mut accepted, mut done) = (0, 0, false);
            let allocations = allocations_in(|| {
                let mut plan = Planner::new(&mut records, &caps, &options);
                loop {
                    match plan.next_action() {
                        Action::Done | Action::Reconnect => break,
                        Action::Wait => {
                            let mut fed = len.min(piece);
                            loop {
                                match plan.receive(&pending[..fed]) {
                                    Ok(r) => {
                                        let used = r.classification.consumed;
                                        pending.copy_within(used..len, 0);
                                        len -= used;
                                        fed -= used;
                                    }
                                    Err(Error::Incomplete) if fed < len => {
                                        fed = len.min(fed.saturating_add(piece));
                                    }
                                    Err(e) => panic!("{e}"),
                                }
                                if fed == 0 {
                                    break;
                                }
                            }
                        }
                        action => {
                            let reply = limited_reply(action, &mut accepted);
                            pending[len..len + reply.len()].copy_from_slice(reply);
                            len += reply.len();
                        }
                    }
                }
                done = true;
            });
            assert!(done);
            assert_eq!(allocations, 0, "pipelining {pipelining}, pieces of {piece}");
            assert!(
                records
                    .iter()
                    .all(|r| r.state() == Some(RecipientState::Delivered))
            );
        }
    }
}
