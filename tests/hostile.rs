//! Hostile input through the C ABI (issue #5): whatever a server sends and whatever a careless
//! caller passes, the exported functions answer with a documented status, read no byte past
//! `len` or past a struct's size, write nothing past `struct_size`, and never panic.
//!
//! Every reply here is placed so that its last byte is the last byte before a `PROT_NONE` guard
//! page (mmap): a read one byte too far faults and kills the test. Structs are placed the same
//! way, exactly `sizeof` bytes before a guard page, so a library that trusted a huge
//! `struct_size` would fault. Under Miri (no mmap) each buffer is its own allocation of exactly
//! that size instead, which Miri checks just as strictly; the largest loops are smaller there.

use core::mem::size_of;
use core::ptr;

mod common;

use smtp_verdict::ffi::{
    smtp_classify_reply, smtp_classify_reply_incremental, smtp_context, smtp_enhanced_code_text,
    smtp_reply_line, smtp_reply_line_at, smtp_result, smtp_scanner, smtp_scanner_reset,
    smtp_scope_name, smtp_status_name, smtp_verdict_name, smtp_verdict_status,
};
use smtp_verdict::{Command, Context, Error, MAX_LINE_LEN, MAX_REPLY_LEN, Options, classify};

use smtp_verdict_status::*;

/// `size` bytes that end exactly where inaccessible memory begins.
struct Region {
    ptr: *mut u8,
    size: usize,
    #[cfg(not(miri))]
    map: (*mut libc::c_void, usize),
    #[cfg(miri)]
    alloc: (*mut u8, std::alloc::Layout),
}

impl Region {
    #[cfg(not(miri))]
    fn new(size: usize) -> Region {
        // SAFETY: plain libc calls; the results are checked.
        unsafe {
            let page = usize::try_from(libc::sysconf(libc::_SC_PAGESIZE)).unwrap();
            let span = size.div_ceil(page).max(1) * page;
            let total = span + page;
            let base = libc::mmap(
                ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(base, libc::MAP_FAILED, "mmap");
            let guard = base.cast::<u8>().add(span);
            assert_eq!(
                libc::mprotect(guard.cast(), page, libc::PROT_NONE),
                0,
                "mprotect"
            );
            Region {
                ptr: guard.sub(size),
                size,
                map: (base, total),
            }
        }
    }

    #[cfg(miri)]
    fn new(size: usize) -> Region {
        let layout = std::alloc::Layout::from_size_align(size.max(1), 8).unwrap();
        // SAFETY: a non-zero size.
        let base = unsafe { std::alloc::alloc(layout) };
        assert!(!base.is_null());
        Region {
            // For size 0, one past the end of a one-byte allocation: any read is out of bounds.
            ptr: base.wrapping_add(usize::from(size == 0)),
            size,
            alloc: (base, layout),
        }
    }

    /// The bytes, placed to end at the guard.
    fn with_bytes(bytes: &[u8]) -> Region {
        let r = Region::new(bytes.len());
        // SAFETY: `r` has `bytes.len()` writable bytes.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), r.ptr, bytes.len()) };
        r
    }

    /// A struct's bytes, placed to end at the guard (its size keeps it aligned there).
    fn with_struct<T: Copy>(value: T) -> Region {
        let r = Region::new(size_of::<T>());
        assert!(r.ptr.cast::<T>().is_aligned());
        // SAFETY: `r` holds a T-sized, T-aligned block.
        unsafe { r.ptr.cast::<T>().write(value) };
        r
    }

    /// `value` at the start of a region of `size` bytes (at least its own), the rest `tail`:
    /// a struct of a newer header, as large as its `struct_size` says.
    fn with_struct_in<T: Copy>(value: T, size: usize, tail: u8) -> Region {
        let r = Region::new(size);
        assert!(r.ptr.cast::<T>().is_aligned());
        unsafe {
            ptr::write_bytes(r.ptr, tail, size);
            r.ptr.cast::<T>().write(value);
        }
        r
    }

    /// The struct at the start of the region.
    fn head<T: Copy>(&self) -> T {
        assert!(self.size >= size_of::<T>());
        unsafe { self.ptr.cast::<T>().read() }
    }

    fn get<T: Copy>(&self) -> T {
        assert_eq!(self.size, size_of::<T>());
        // SAFETY: written by with_struct or the library, a T of plain integers.
        unsafe { self.ptr.cast::<T>().read() }
    }

    #[cfg(not(miri))]
    fn bytes(&self) -> &[u8] {
        // SAFETY: `size` readable bytes.
        unsafe { core::slice::from_raw_parts(self.ptr, self.size) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the mapping / allocation made in `new`.
        unsafe {
            #[cfg(not(miri))]
            libc::munmap(self.map.0, self.map.1);
            #[cfg(miri)]
            std::alloc::dealloc(self.alloc.0, self.alloc.1);
        }
    }
}

fn result() -> smtp_result {
    smtp_result {
        struct_size: size_of::<smtp_result>() as u32,
        ..smtp_result::default()
    }
}

/// A scanner with its size set and a zeroed (not yet reset) state.
fn scanner() -> smtp_scanner {
    smtp_scanner {
        struct_size: size_of::<smtp_scanner>() as u32,
        private_state: [0; 15],
    }
}

fn context(command: u32, accepted: u32, options: u32) -> smtp_context {
    smtp_context {
        struct_size: size_of::<smtp_context>() as u32,
        command,
        accepted_recipients: accepted,
        limited_recipients: 0,
        options,
    }
}

fn rust_context(c: &smtp_context) -> Context {
    Context {
        command: Command::from_u32(c.command).unwrap(),
        accepted_recipients: c.accepted_recipients,
        limited_recipients: c.limited_recipients,
        options: Options::from_bits(c.options).unwrap(),
    }
}

/// Calls `smtp_classify_reply` on `bytes` placed against a guard page, with the context and
/// the result struct placed against guard pages too.
fn classify_guarded(bytes: &[u8], ctx: &smtp_context) -> (smtp_verdict_status, smtp_result) {
    let data = Region::with_bytes(bytes);
    let c = Region::with_struct(*ctx);
    let out = Region::with_struct(result());
    // SAFETY: each pointer covers exactly the bytes the library may touch.
    let status =
        unsafe { smtp_classify_reply(data.ptr, bytes.len(), c.ptr.cast(), out.ptr.cast()) };
    (status, out.get())
}

/// The C answer for `bytes`, checked against what the header promises and against the Rust
/// API; then the same through `smtp_classify_reply_incremental`, the buffer growing by
/// `chunk` bytes at a time (0: only the whole buffer), which must end with the same answer.
fn check(bytes: &[u8], ctx: &smtp_context, chunk: usize) -> (smtp_verdict_status, smtp_result) {
    let (status, out) = classify_guarded(bytes, ctx);
    assert!(
        matches!(
            status,
            SMTP_STATUS_OK | SMTP_STATUS_INCOMPLETE | SMTP_STATUS_MALFORMED | SMTP_STATUS_TOO_LONG
        ),
        "{status:?} for {:?}",
        show(bytes)
    );
    assert_eq!(out.struct_size, size_of::<smtp_result>() as u32);
    assert!(out.consumed <= bytes.len());
    let rust = classify(bytes, &rust_context(ctx));
    let batch_size = rust.as_ref().map_or(0, |c| c.batch_size);
    assert_eq!(
        out.batch_size,
        if status == SMTP_STATUS_OK {
            batch_size
        } else {
            0
        }
    );
    match status {
        SMTP_STATUS_OK => {
            let c = rust.as_ref().unwrap();
            assert_eq!(
                (out.verdict, out.scope, out.code, out.flags, out.lines),
                (
                    c.verdict as u32,
                    c.scope as u32,
                    u32::from(c.code),
                    c.flags.bits(),
                    c.lines
                )
            );
            assert_eq!((out.consumed, out.text_offset), (c.consumed, c.text.start));
            assert!(out.text_offset + out.text_len < out.consumed);
            assert_eq!(bytes[out.consumed - 1], b'\n');
            // Never success or intermediate when a line starts with 4 or 5.
            let negative = bytes[..out.consumed]
                .split(|&b| b == b'\n')
                .any(|l| matches!(l.first(), Some(b'4' | b'5')));
            if negative {
                assert!(out.verdict >= 3, "{:?}: {out:?}", show(bytes));
            }
        }
        SMTP_STATUS_INCOMPLETE => {
            assert_eq!(rust, Err(Error::Incomplete));
            assert_eq!(out, result());
        }
        _ => {
            assert_eq!(
                matches!(rust, Err(Error::TooLong { .. })),
                status == SMTP_STATUS_TOO_LONG
            );
            let f = rust.unwrap_err().fallback().unwrap();
            assert_eq!((out.verdict, out.scope), (3, 3));
            assert_eq!((out.flags, out.consumed), (f.flags.bits(), f.consumed));
            assert!(out.flags & smtp_verdict::ffi::SMTP_FLAG_CLOSE_CONNECTION != 0);
        }
    }

    // The incremental entry point, the buffer growing at the end.
    if chunk > 0 {
        let data = Region::with_bytes(bytes);
        let c = Region::with_struct(*ctx);
        let scanner = Region::with_struct(smtp_scanner {
            struct_size: size_of::<smtp_scanner>() as u32,
            private_state: [0; 15],
        });
        // SAFETY: a scanner-sized region.
        assert_eq!(
            unsafe { smtp_scanner_reset(scanner.ptr.cast()) },
            SMTP_STATUS_OK
        );
        let o = Region::with_struct(result());
        let mut end = 0;
        let (last, last_out) = loop {
            end = (end + chunk).min(bytes.len());
            // SAFETY: `end` readable bytes at data.ptr; struct-sized regions.
            let s = unsafe {
                smtp_classify_reply_incremental(
                    data.ptr,
                    end,
                    c.ptr.cast(),
                    scanner.ptr.cast(),
                    o.ptr.cast(),
                )
            };
            if s != SMTP_STATUS_INCOMPLETE || end == bytes.len() {
                break (s, o.get::<smtp_result>());
            }
        };
        assert_eq!(
            (last, last_out),
            (status, out),
            "incremental, {chunk} at a time"
        );
    }
    (status, out)
}

/// A reply for messages: printable, and cut if long.
fn show(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
        .escape_debug()
        .to_string();
    if bytes.len() > 80 {
        format!("{s}... ({} bytes)", bytes.len())
    } else {
        s
    }
}

fn rcpt() -> smtp_context {
    context(8, 3, 0)
}

#[test]
fn every_byte_value_in_every_position() {
    let bases: [&[u8]; 3] = [
        b"250-mail.example.com\r\n250 2.1.5 Ok\r\n",
        b"452 4.5.3 Too many recipients\r\n",
        b"550-5.7.1 a\n550 5.7.1 b\r\n",
    ];
    // Miri: the bytes that mean something to the parser, and a few others.
    let values: Vec<u8> = if cfg!(miri) {
        b"\0\t\n\r -.0245:\x80\xff".to_vec()
    } else {
        (0..=255).collect()
    };
    let contexts = [rcpt(), context(9, 1, 1), context(0, 0, 0)];
    let contexts = &contexts[..if cfg!(miri) { 1 } else { 3 }];
    let mut cases = 0;
    for base in bases {
        for pos in 0..=base.len() {
            for &value in &values {
                let mut replaced = base.to_vec();
                let mut inserted = base.to_vec();
                inserted.insert(pos, value);
                if pos < base.len() {
                    replaced[pos] = value;
                }
                for (i, ctx) in contexts.iter().enumerate() {
                    // Byte by byte, and 3 bytes at a time, in one context each (all three
                    // contexts cost minutes in debug builds).
                    let chunk = if cfg!(miri) { 0 } else { [1, 3, 0][i] };
                    check(&replaced, ctx, chunk);
                    check(&inserted, ctx, chunk);
                    cases += 2;
                }
            }
        }
    }
    assert!(
        cases > if cfg!(miri) { 1_000 } else { 50_000 },
        "{cases} cases"
    );
}

#[test]
fn sixty_four_kib_without_a_line_end_is_too_long() {
    let chunk = if cfg!(miri) { 0 } else { 1 };
    let lens = [MAX_REPLY_LEN, MAX_REPLY_LEN + 1, MAX_REPLY_LEN + 4096];
    for &len in &lens[if cfg!(miri) { 1..2 } else { 0..3 }] {
        let mut reply = b"250 ".to_vec();
        reply.resize(len, b'x');
        let (status, out) = check(&reply, &rcpt(), chunk);
        assert_eq!(status, SMTP_STATUS_TOO_LONG, "{len} bytes");
        assert_eq!(out.consumed, 0);
    }
    // One line: MAX_LINE_LEN bytes with no end cannot become a line of at most MAX_LINE_LEN.
    let mut line = b"250 ".to_vec();
    line.resize(MAX_LINE_LEN - 1, b'x');
    assert_eq!(check(&line, &rcpt(), 0).0, SMTP_STATUS_INCOMPLETE);
    line.push(b'x');
    assert_eq!(check(&line, &rcpt(), chunk).0, SMTP_STATUS_TOO_LONG);
    // The longest line accepted, line end included, and one byte more.
    let mut line = b"250 ".to_vec();
    line.resize(MAX_LINE_LEN - 2, b'x');
    line.extend_from_slice(b"\r\n");
    assert_eq!(check(&line, &rcpt(), 0).0, SMTP_STATUS_OK);
    line.insert(5, b'x');
    // The line has an end in the buffer, past the limit: not read, so `consumed` is 0.
    let (status, out) = check(&line, &rcpt(), 0);
    assert_eq!((status, out.consumed), (SMTP_STATUS_TOO_LONG, 0));
    // Nothing but NUL, CR or digits: no line end, so incomplete until the limit, then too long.
    for fill in [0u8, b'\r', b'5'] {
        assert_eq!(check(&[fill; 100], &rcpt(), 0).0, SMTP_STATUS_INCOMPLETE);
        assert_eq!(
            check(&vec![fill; MAX_LINE_LEN], &rcpt(), 0).0,
            SMTP_STATUS_TOO_LONG
        );
    }
}

// Under Miri each of the thousands of lines retags a slice of the whole 64 KiB: hours. The
// limits themselves are Rust code; the guard pages check the C boundary on this test natively.
#[test]
#[cfg_attr(miri, ignore)]
fn a_hundred_thousand_continuation_lines() {
    let chunk = if cfg!(miri) { 0 } else { 4096 };
    let lines = [&b"250-x\r\n"[..], b"250-\n", b"250-", b"452-4.5.3 full\r\n"];
    for line in &lines[..if cfg!(miri) { 2 } else { 4 }] {
        let mut reply = line.repeat(100_000);
        reply.extend_from_slice(b"250 ok\r\n");
        let (status, out) = check(&reply, &rcpt(), chunk);
        if *line == b"250-" {
            // No line end at all: one line of 400,008 bytes.
            assert_eq!(status, SMTP_STATUS_TOO_LONG);
        } else {
            assert_eq!(status, SMTP_STATUS_TOO_LONG, "{}", show(line));
        }
        assert_eq!(out.consumed, 0);
    }
    if !cfg!(miri) {
        // Byte by byte: the scanner reaches the limit once, without quadratic work.
        check(&b"250-x\r\n".repeat(100_000), &rcpt(), 1);
    }
    // As many as fit: an ordinary, if long, reply.
    let n = (MAX_REPLY_LEN - 8) / 7;
    let mut reply = b"250-x\r\n".repeat(n);
    reply.extend_from_slice(b"250 ok\r\n");
    let (status, out) = check(&reply, &rcpt(), if cfg!(miri) { 0 } else { 1 });
    assert_eq!((status, out.lines as usize), (SMTP_STATUS_OK, n + 1));
    // A negative line among them: never success.
    reply[7 * (n / 2)] = b'5';
    let (status, out) = check(&reply, &rcpt(), 0);
    assert_eq!(status, SMTP_STATUS_OK);
    assert_eq!(out.verdict, 3, "{out:?}");
}

#[test]
fn nul_bytes() {
    let cases: [(&[u8], smtp_verdict_status); 9] = [
        (b"250 a\0b\r\n", SMTP_STATUS_OK),
        (b"250 \0\r\n", SMTP_STATUS_OK),
        (b"250-\0\r\n250 ok\r\n", SMTP_STATUS_OK),
        (b"\0\0\0 ok\r\n", SMTP_STATUS_MALFORMED),
        (b"25\0 ok\r\n", SMTP_STATUS_MALFORMED),
        (b"250\0ok\r\n", SMTP_STATUS_MALFORMED),
        (b"\0\r\n", SMTP_STATUS_MALFORMED),
        (b"\0", SMTP_STATUS_INCOMPLETE),
        (b"250-\0\r\n", SMTP_STATUS_INCOMPLETE),
    ];
    for (reply, expected) in cases {
        assert_eq!(check(reply, &rcpt(), 1).0, expected, "{}", show(reply));
    }
    let (status, out) = check(&[0; 64 * 1024], &rcpt(), 0);
    assert_eq!((status, out.consumed), (SMTP_STATUS_TOO_LONG, 0));
}

#[test]
fn only_dash_lines() {
    for reply in [
        &b"-\r\n"[..],
        b"-",
        b"---\r\n",
        b"-\n-\n-\n",
        b"----------\r\n",
    ] {
        let (status, out) = check(reply, &rcpt(), 1);
        match reply.iter().position(|&b| b == b'\n') {
            Some(lf) => {
                assert_eq!(status, SMTP_STATUS_MALFORMED, "{}", show(reply));
                assert_eq!((out.consumed, out.lines), (lf + 1, 1));
            }
            None => assert_eq!(status, SMTP_STATUS_INCOMPLETE),
        }
    }
    // Continuation lines that never end the reply.
    for n in [1, 10, if cfg!(miri) { 100 } else { 1000 }] {
        assert_eq!(
            check(&b"250-\r\n".repeat(n), &rcpt(), 0).0,
            SMTP_STATUS_INCOMPLETE
        );
    }
    if !cfg!(miri) {
        let (status, _) = check(&b"250-\r\n".repeat(20_000), &rcpt(), 0);
        assert_eq!(status, SMTP_STATUS_TOO_LONG);
    }
}

#[test]
fn digits_beyond_three() {
    let malformed: [&[u8]; 7] = [
        b"2500 ok\r\n",
        b"25000\r\n",
        b"2501-x\r\n",
        b"99999999999999999999999 x\r\n",
        b"250-a\r\n2500 b\r\n",
        b"250-a\r\n25 b\r\n",
        b"2 ok\r\n",
    ];
    for reply in malformed {
        let (status, out) = check(reply, &rcpt(), 1);
        assert_eq!(status, SMTP_STATUS_MALFORMED, "{}", show(reply));
        assert_eq!(out.consumed, reply.len());
    }
    // Digits beyond three in the enhanced code: not an enhanced code, the reply stands.
    for reply in [
        &b"550 5.1.1111 x\r\n"[..],
        b"550 5.99999999999999999999.1 x\r\n",
        b"550 55.1.1 x\r\n",
        b"452 4.5.3333\r\n",
    ] {
        let (status, out) = check(reply, &rcpt(), 1);
        assert_eq!(status, SMTP_STATUS_OK, "{}", show(reply));
        assert_eq!(
            (
                out.enhanced_class,
                out.enhanced_subject,
                out.enhanced_detail
            ),
            (0, 0, 0)
        );
    }
    // Three-digit parts are the most there are.
    let (status, out) = check(b"550 5.999.999 x\r\n", &rcpt(), 1);
    assert_eq!(status, SMTP_STATUS_OK);
    assert_eq!((out.enhanced_subject, out.enhanced_detail), (999, 999));
}

/// `struct_size` values: 0, small, one short, exact, larger, huge, "negative" (as u32).
fn sizes(real: usize) -> Vec<u32> {
    let real = real as u32;
    vec![
        0,
        1,
        3,
        4,
        real - 4,
        real - 1,
        real,
        real + 1,
        real + 8,
        4096,
        1 << 20,
        i32::MAX as u32,
        -1i32 as u32,
        u32::MAX - 3,
    ]
}

/// The sizes an input struct can really have: the library reads an input struct to its
/// `struct_size` (its bytes past `sizeof` must be 0), so a claim larger than the memory is the
/// caller's bug (the header's Safety sections), not a case to test.
fn real_sizes(real: usize) -> impl Iterator<Item = u32> {
    sizes(real)
        .into_iter()
        .filter(move |&s| (s as usize) < real || (s % 4 == 0 && s <= 1 << 20))
}

#[test]
fn struct_size_of_the_context() {
    let reply = Region::with_bytes(b"452 4.5.3 Too many recipients\r\n");
    let real = size_of::<smtp_context>();
    for size in real_sizes(real) {
        let tails: &[u8] = if size as usize > real {
            &[0, 0xa5]
        } else {
            &[0]
        };
        for &tail in tails {
            let value = smtp_context {
                struct_size: size,
                ..context(8, 3, 0)
            };
            // The region is max(size, sizeof) bytes: a read past it faults.
            let c = Region::with_struct_in(value, real.max(size as usize), tail);
            let out = Region::with_struct(result());
            // SAFETY: as above.
            let status =
                unsafe { smtp_classify_reply(reply.ptr, reply.size, c.ptr.cast(), out.ptr.cast()) };
            let out = out.get::<smtp_result>();
            if (size as usize) < real || tail != 0 {
                assert_eq!(
                    status, SMTP_STATUS_INVALID_ARGUMENT,
                    "size {size} tail {tail}"
                );
                assert_eq!((out.verdict, out.scope), (3, 3), "the safe answer");
            } else {
                assert_eq!((status, out.verdict), (SMTP_STATUS_OK, 4), "size {size}");
            }
            assert_eq!(c.head::<smtp_context>().struct_size, size);
        }
    }
}

#[test]
fn struct_size_of_the_result() {
    let reply = Region::with_bytes(b"250 2.1.5 Ok\r\n");
    let real = size_of::<smtp_result>();
    for size in sizes(real) {
        let filled = smtp_result {
            struct_size: size,
            verdict: 0xdead,
            consumed: 0xbeef,
            ..smtp_result::default()
        };
        let out = Region::with_struct(filled);
        // SAFETY: the result region is sizeof(smtp_result) bytes: a write past it faults.
        let status =
            unsafe { smtp_classify_reply(reply.ptr, reply.size, ptr::null(), out.ptr.cast()) };
        let got = out.get::<smtp_result>();
        assert_eq!(got.struct_size, size, "struct_size is never written");
        if (size as usize) < real {
            assert_eq!(status, SMTP_STATUS_INVALID_ARGUMENT, "size {size}");
            assert_eq!(got, filled, "nothing written");
        } else {
            assert_eq!(status, SMTP_STATUS_OK);
            assert_eq!((got.code, got.consumed), (250, 14));
        }
    }
}

#[test]
fn struct_size_of_the_scanner() {
    let reply = Region::with_bytes(b"250-a\r\n250 b\r\n");
    let real = size_of::<smtp_scanner>();
    for size in real_sizes(real) {
        let tails: &[u8] = if size as usize > real {
            &[0, 0xa5]
        } else {
            &[0]
        };
        for &tail in tails {
            let value = smtp_scanner {
                struct_size: size,
                private_state: [0; 15],
            };
            // A region of max(size, sizeof) bytes, whatever it claims.
            let scanner = Region::with_struct_in(value, real.max(size as usize), tail);
            // SAFETY: as above.
            let reset = unsafe { smtp_scanner_reset(scanner.ptr.cast()) };
            let mut statuses = Vec::new();
            for len in 0..=reply.size {
                let out = Region::with_struct(result());
                // SAFETY: `len` readable bytes; regions as large as their sizes say.
                statuses.push(unsafe {
                    smtp_classify_reply_incremental(
                        reply.ptr,
                        len,
                        ptr::null(),
                        scanner.ptr.cast(),
                        out.ptr.cast(),
                    )
                });
            }
            assert_eq!(scanner.head::<smtp_scanner>().struct_size, size);
            if (size as usize) < real {
                assert_eq!(reset, SMTP_STATUS_INVALID_ARGUMENT);
                assert!(statuses.iter().all(|&s| s == SMTP_STATUS_INVALID_ARGUMENT));
            } else if tail != 0 {
                // Reset writes only what it knows; the set tail is refused on every call.
                assert_eq!(reset, SMTP_STATUS_OK);
                assert!(statuses.iter().all(|&s| s == SMTP_STATUS_INVALID_ARGUMENT));
            } else {
                assert_eq!(reset, SMTP_STATUS_OK);
                assert_eq!(statuses.last(), Some(&SMTP_STATUS_OK), "size {size}");
                assert!(
                    statuses[..reply.size]
                        .iter()
                        .all(|&s| s == SMTP_STATUS_INCOMPLETE)
                );
            }
        }
    }
}

#[test]
fn misaligned_structs_are_refused() {
    #[repr(C, align(8))]
    struct Room([u8; 128]);
    let reply = b"250 ok\r\n";
    let mut room = Room([0; 128]);
    let at = room.0.as_mut_ptr().wrapping_add(1);
    let size = (size_of::<smtp_result>() as u32).to_ne_bytes();
    room.0[1..5].copy_from_slice(&size);
    // SAFETY: 127 bytes from `at` are writable; a misaligned pointer is refused before use.
    let status =
        unsafe { smtp_classify_reply(reply.as_ptr(), reply.len(), ptr::null(), at.cast()) };
    assert_eq!(status, SMTP_STATUS_INVALID_ARGUMENT);
    assert!(room.0[5..].iter().all(|&b| b == 0), "nothing written");
    let mut out = result();
    // SAFETY: as above, for the context and the scanner.
    unsafe {
        assert_eq!(
            smtp_classify_reply(
                reply.as_ptr(),
                reply.len(),
                at.cast_const().cast(),
                &mut out
            ),
            SMTP_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(smtp_scanner_reset(at.cast()), SMTP_STATUS_INVALID_ARGUMENT);
    }
}

#[test]
fn unknown_commands_and_option_bits() {
    let reply = b"250 ok\r\n";
    let bad_commands = [
        Command::ALL.len() as u32,
        Command::ALL.len() as u32 + 1,
        255,
        1 << 16,
        i32::MAX as u32,
        u32::MAX,
    ];
    let bad_options = [8, 16, 1 << 31, u32::MAX, 7 | 8, 1 | 1 << 20];
    let mut cases: Vec<smtp_context> = bad_commands.iter().map(|&c| context(c, 1, 0)).collect();
    cases.extend(bad_options.iter().map(|&o| context(8, 1, o)));
    for ctx in cases {
        let (status, out) = classify_guarded(reply, &ctx);
        assert_eq!(status, SMTP_STATUS_INVALID_ARGUMENT, "{ctx:?}");
        assert_eq!((out.verdict, out.scope, out.consumed), (3, 3, 0), "{ctx:?}");
    }
    // Every known command with every known option set, and any recipient counts.
    let (all_options, counts): (&[u32], &[u32]) = if cfg!(miri) {
        (&[0, 7], &[1])
    } else {
        (&[0, 1, 2, 3, 4, 5, 6, 7], &[0, 1, u32::MAX])
    };
    for command in 0..Command::ALL.len() as u32 {
        for &options in all_options {
            for &accepted in counts {
                let ctx = smtp_context {
                    limited_recipients: u32::MAX - accepted,
                    ..context(command, accepted, options)
                };
                check(b"452 4.5.3 x\r\n", &ctx, 0);
                check(b"552-a\r\n250 b\r\n", &ctx, 0);
            }
        }
    }
}

#[test]
fn null_for_each_pointer() {
    let reply = Region::with_bytes(b"250 ok\r\n");
    let ctx = Region::with_struct(rcpt());
    let mut out = result();
    let mut scanner = scanner();
    // SAFETY: NULL or valid pointers throughout.
    unsafe {
        // data
        assert_eq!(
            smtp_classify_reply(ptr::null(), 8, ctx.ptr.cast(), &mut out),
            SMTP_STATUS_NULL_ARGUMENT
        );
        assert_eq!((out.verdict, out.scope), (3, 3), "the safe answer");
        assert_eq!(
            smtp_classify_reply(ptr::null(), usize::MAX, ctx.ptr.cast(), &mut out),
            SMTP_STATUS_NULL_ARGUMENT
        );
        assert_eq!(
            smtp_classify_reply(ptr::null(), 0, ctx.ptr.cast(), &mut out),
            SMTP_STATUS_INCOMPLETE
        );
        // ctx: the defaults
        assert_eq!(
            smtp_classify_reply(reply.ptr, reply.size, ptr::null(), &mut out),
            SMTP_STATUS_OK
        );
        assert_eq!((out.verdict, out.scope), (1, 3));
        // out
        assert_eq!(
            smtp_classify_reply(reply.ptr, reply.size, ctx.ptr.cast(), ptr::null_mut()),
            SMTP_STATUS_NULL_ARGUMENT
        );
        assert_eq!(
            smtp_classify_reply(ptr::null(), 0, ptr::null(), ptr::null_mut()),
            SMTP_STATUS_NULL_ARGUMENT
        );
        // scanner
        assert_eq!(
            smtp_scanner_reset(ptr::null_mut()),
            SMTP_STATUS_NULL_ARGUMENT
        );
        assert_eq!(
            smtp_classify_reply_incremental(
                reply.ptr,
                reply.size,
                ptr::null(),
                ptr::null_mut(),
                &mut out
            ),
            SMTP_STATUS_NULL_ARGUMENT
        );
        // A reused result gets the safe answer, not the last call's.
        assert_eq!((out.verdict, out.scope, out.code), (3, 3, 0));
        assert_eq!(smtp_scanner_reset(&mut scanner), SMTP_STATUS_OK);
        assert_eq!(
            smtp_classify_reply_incremental(ptr::null(), 3, ptr::null(), &mut scanner, &mut out),
            SMTP_STATUS_NULL_ARGUMENT
        );
        assert_eq!(
            smtp_classify_reply_incremental(
                reply.ptr,
                reply.size,
                ptr::null(),
                &mut scanner,
                ptr::null_mut()
            ),
            SMTP_STATUS_NULL_ARGUMENT
        );
        assert_eq!(
            smtp_classify_reply_incremental(
                ptr::null(),
                0,
                ptr::null(),
                ptr::null_mut(),
                ptr::null_mut()
            ),
            SMTP_STATUS_NULL_ARGUMENT
        );
        // The scanner still works after all that.
        assert_eq!(
            smtp_classify_reply_incremental(
                reply.ptr,
                reply.size,
                ptr::null(),
                &mut scanner,
                &mut out
            ),
            SMTP_STATUS_OK
        );
    }
}

#[test]
fn len_zero() {
    // A pointer right at the guard page, with length 0: nothing may be read.
    let empty = Region::with_bytes(b"");
    let mut out = result();
    let mut scanner = scanner();
    // SAFETY: zero bytes at `empty.ptr`; valid structs.
    unsafe {
        assert_eq!(
            smtp_classify_reply(empty.ptr, 0, ptr::null(), &mut out),
            SMTP_STATUS_INCOMPLETE
        );
        assert_eq!(out, result());
        assert_eq!(smtp_scanner_reset(&mut scanner), SMTP_STATUS_OK);
        for _ in 0..3 {
            assert_eq!(
                smtp_classify_reply_incremental(empty.ptr, 0, ptr::null(), &mut scanner, &mut out),
                SMTP_STATUS_INCOMPLETE
            );
        }
    }
    assert_eq!(check(b"", &rcpt(), 1).0, SMTP_STATUS_INCOMPLETE);
}

#[test]
fn corrupted_scanner_state_is_refused_or_harmless() {
    let bytes = b"250-a\r\n250-b\r\n250 c\r\n";
    let reply = Region::with_bytes(bytes);
    for word in 0..15 {
        for bit in [0, 1, 7, 15, 16, 20, 31] {
            let mut scanner = scanner();
            let mut out = result();
            // SAFETY: valid pointers; 7 readable bytes.
            unsafe {
                assert_eq!(smtp_scanner_reset(&mut scanner), SMTP_STATUS_OK);
                smtp_classify_reply_incremental(reply.ptr, 7, ptr::null(), &mut scanner, &mut out);
            }
            scanner.private_state[word] ^= 1 << bit;
            for len in 7..=bytes.len() {
                let mut out = result();
                // SAFETY: as above.
                let s = unsafe {
                    smtp_classify_reply_incremental(
                        reply.ptr,
                        len,
                        ptr::null(),
                        &mut scanner,
                        &mut out,
                    )
                };
                assert_ne!(s, SMTP_STATUS_PANIC);
                assert!(out.consumed <= len);
                if s != SMTP_STATUS_INCOMPLETE {
                    break;
                }
            }
        }
    }
}

/// A call that only grows the line being read answers INCOMPLETE without reading the context
/// (the answer does not depend on it); the context is checked again when the line ends.
#[test]
fn context_is_checked_when_a_line_ends() {
    let bytes = b"250-first\r\n250 second\r\n";
    let reply = Region::with_bytes(bytes);
    let (good, bad) = (rcpt(), context(u32::MAX, 0, 0));
    let mut scanner = scanner();
    let mut out = result();
    let mut statuses = Vec::new();
    // SAFETY: valid pointers; `len` readable bytes.
    unsafe {
        assert_eq!(smtp_scanner_reset(&mut scanner), SMTP_STATUS_OK);
        assert_eq!(
            smtp_classify_reply_incremental(reply.ptr, 1, &bad, &mut scanner, &mut out),
            SMTP_STATUS_INVALID_ARGUMENT,
            "a reply's first call reads the context"
        );
        assert_eq!(
            smtp_classify_reply_incremental(reply.ptr, 1, &good, &mut scanner, &mut out),
            SMTP_STATUS_INCOMPLETE
        );
        for len in 2..=bytes.len() {
            statuses.push(smtp_classify_reply_incremental(
                reply.ptr,
                len,
                &bad,
                &mut scanner,
                &mut out,
            ));
            if statuses.last() != Some(&SMTP_STATUS_INCOMPLETE) {
                break;
            }
        }
    }
    // The first line ends with its 11th byte: refused there, inside the reply's second line.
    assert_eq!(statuses.len(), 10, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&SMTP_STATUS_INVALID_ARGUMENT));
    assert_eq!((out.verdict, out.scope), (3, 3), "refusal: retry, session");
}

/// A scanner whose line limit was overwritten cannot let a reply grow past
/// SMTP_MAX_REPLY_LEN: the resume check stops there whatever the limit says.
#[test]
fn a_corrupted_line_limit_still_ends_at_the_reply_limit() {
    let mut bytes = b"250 ".to_vec();
    bytes.resize(MAX_REPLY_LEN + 8, b'x');
    let ctx = rcpt();
    let mut scanner = scanner();
    let mut out = result();
    let step = if cfg!(miri) { 4096 } else { 1 };
    let mut last = SMTP_STATUS_INCOMPLETE;
    // SAFETY: valid pointers; `len` readable bytes.
    unsafe {
        assert_eq!(smtp_scanner_reset(&mut scanner), SMTP_STATUS_OK);
        smtp_classify_reply_incremental(bytes.as_ptr(), 4, &ctx, &mut scanner, &mut out);
        scanner.private_state[1] = u32::MAX;
        for len in (5..=bytes.len()).step_by(step) {
            last =
                smtp_classify_reply_incremental(bytes.as_ptr(), len, &ctx, &mut scanner, &mut out);
            if last != SMTP_STATUS_INCOMPLETE {
                assert!(len <= MAX_REPLY_LEN + step, "answered at {len}");
                break;
            }
        }
    }
    assert_eq!(last, SMTP_STATUS_INVALID_ARGUMENT);
}

#[test]
fn name_functions_take_any_number() {
    for n in [0, 1, 5, 6, 7, 100, u32::MAX] {
        // SAFETY: static NUL-terminated strings.
        unsafe {
            assert!(!core::ffi::CStr::from_ptr(smtp_verdict_name(n)).is_empty());
            assert!(!core::ffi::CStr::from_ptr(smtp_scope_name(n)).is_empty());
            assert!(!core::ffi::CStr::from_ptr(smtp_status_name(n)).is_empty());
        }
        for (s, d) in [(0, 0), (5, 3), (n, n), (u32::MAX, 1)] {
            let t = smtp_enhanced_code_text(n, s, d);
            if !t.is_null() {
                // SAFETY: a static NUL-terminated string.
                assert!(!unsafe { core::ffi::CStr::from_ptr(t) }.is_empty());
            }
        }
    }
}

/// The guard works: reading the byte after a region kills a child process with SIGSEGV.
#[cfg(not(miri))]
#[test]
fn the_guard_page_faults() {
    let r = Region::with_bytes(b"250 ok\r\n");
    assert_eq!(r.bytes(), b"250 ok\r\n");
    // SAFETY: the child only reads memory and exits; the parent waits for it.
    unsafe {
        let pid = libc::fork();
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let past = ptr::read_volatile(r.ptr.add(r.size));
            libc::_exit(i32::from(past));
        }
        let mut status = 0;
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSEGV,
            "status {status:#x}"
        );
    }
}

/// One odd line among plain continuation lines, at every alignment (the parser skips plain
/// lines eight bytes at a time across line ends): each must still be seen.
#[test]
fn odd_line_among_plain_continuation_lines() {
    use smtp_verdict::ffi::{
        SMTP_FLAG_BARE_LF, SMTP_FLAG_CODE_MISMATCH, SMTP_FLAG_LONG_LINE, SMTP_FLAG_MULTILINE,
    };
    let long = format!("250-{}\r\n", "x".repeat(507)); // 513 bytes with CRLF
    let just = format!("250-{}\r\n", "x".repeat(506)); // 512: not long
    let too_long = format!("250-{}\r\n", "x".repeat(MAX_LINE_LEN));
    // (odd line, expected status, flags beyond MULTILINE, verdict, enhanced (class, subject, detail))
    type Enhanced = (u32, u32, u32);
    let odd: [(&str, smtp_verdict_status, u32, u32, Enhanced); 9] = [
        ("250-x\n", SMTP_STATUS_OK, SMTP_FLAG_BARE_LF, 1, (0, 0, 0)),
        (
            "251-x\r\n",
            SMTP_STATUS_OK,
            SMTP_FLAG_CODE_MISMATCH,
            1,
            (0, 0, 0),
        ),
        (
            "450-x\r\n",
            SMTP_STATUS_OK,
            SMTP_FLAG_CODE_MISMATCH,
            3,
            (0, 0, 0),
        ),
        ("250-2.1.5 x\r\n", SMTP_STATUS_OK, 0, 1, (2, 1, 5)),
        ("250-  2.0.0\r\n", SMTP_STATUS_OK, 0, 1, (2, 0, 0)),
        (&long, SMTP_STATUS_OK, SMTP_FLAG_LONG_LINE, 1, (0, 0, 0)),
        (&just, SMTP_STATUS_OK, 0, 1, (0, 0, 0)),
        ("25x-x\r\n", SMTP_STATUS_MALFORMED, 0, 3, (0, 0, 0)),
        (&too_long, SMTP_STATUS_TOO_LONG, 0, 3, (0, 0, 0)),
    ];
    let mut cases = 0;
    let (lens, befores): (&[usize], &[usize]) = if cfg!(miri) {
        (&[6, 9], &[0, 8])
    } else {
        (&[6, 7, 8, 9, 10, 11, 12, 13, 14], &[0, 1, 2, 3, 7, 8, 9])
    };
    for &plain_len in lens {
        let plain = format!("250-{}\r\n", "p".repeat(plain_len - 6));
        for &before in befores {
            for &(line, status, flags, verdict, enhanced) in &odd {
                let mut reply = plain.repeat(before + 1);
                reply.push_str(line);
                reply.push_str(&plain.repeat(5));
                reply.push_str("250 end\r\n");
                let (s, out) = check(reply.as_bytes(), &context(2, 0, 0), 0);
                assert_eq!(s, status, "{reply:?}");
                if s == SMTP_STATUS_OK {
                    assert_eq!(out.flags, SMTP_FLAG_MULTILINE | flags, "{reply:?}");
                    assert_eq!(out.verdict, verdict, "{reply:?}");
                    assert_eq!(
                        (
                            out.enhanced_class,
                            out.enhanced_subject,
                            out.enhanced_detail
                        ),
                        enhanced,
                        "{reply:?}"
                    );
                    assert_eq!(out.lines as usize, before + 1 + 1 + 5 + 1);
                } else {
                    assert_eq!(out.verdict, verdict);
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, lens.len() * befores.len() * odd.len());
}

/// `smtp_reply_line_at` over `data` (ending at a guard page) at `offset`.
fn reply_line_at(data: &Region, offset: usize) -> (smtp_verdict_status, smtp_reply_line) {
    let out = Region::with_struct(smtp_reply_line {
        struct_size: size_of::<smtp_reply_line>() as u32,
        ..smtp_reply_line::default()
    });
    // SAFETY: `data` covers exactly its bytes and `out` exactly one struct.
    let status = unsafe { smtp_reply_line_at(data.ptr, data.size, offset, out.ptr.cast()) };
    (status, out.get())
}

/// Every vector's reply walked line by line from C agrees with the Rust reader; every line,
/// whatever follows it, is read without a byte past the buffer.
#[test]
fn reply_lines_from_c() {
    let mut lines = 0;
    for v in common::vectors::load() {
        let data = Region::with_bytes(&v.reply);
        let parsed = smtp_verdict::parse(&v.reply, v.options).ok();
        let mut rust = parsed.iter().flat_map(|r| r.parsed_lines());
        let mut at = 0;
        while at < v.reply.len() {
            let (status, line) = reply_line_at(&data, at);
            match status {
                SMTP_STATUS_OK => {
                    if parsed.is_some() {
                        let r = rust.next().expect("C reads a line Rust does not");
                        assert_eq!(line.code, u32::from(r.code()), "{}", v.id);
                        assert_eq!(line.last, u32::from(r.is_last()));
                        assert_eq!(
                            line.line_offset..line.line_offset + line.line_len,
                            r.range()
                        );
                        assert_eq!(
                            line.text_offset..line.text_offset + line.text_len,
                            r.text_range()
                        );
                        let e = r.enhanced().map_or((0, 0, 0), |e| {
                            (
                                u32::from(e.class()),
                                u32::from(e.subject()),
                                u32::from(e.detail()),
                            )
                        });
                        assert_eq!(
                            (
                                line.enhanced_class,
                                line.enhanced_subject,
                                line.enhanced_detail
                            ),
                            e
                        );
                    }
                    assert!(line.next_offset > at && line.next_offset <= v.reply.len());
                    lines += 1;
                    at = line.next_offset;
                }
                SMTP_STATUS_MALFORMED => {
                    assert!(parsed.is_none(), "{}", v.id);
                    assert!(line.next_offset > at && line.next_offset <= v.reply.len());
                    at = line.next_offset;
                }
                SMTP_STATUS_INCOMPLETE | SMTP_STATUS_TOO_LONG => {
                    assert!(parsed.is_none(), "{}: {status:?}", v.id);
                    assert_eq!(
                        line,
                        smtp_reply_line {
                            struct_size: line.struct_size,
                            ..Default::default()
                        }
                    );
                    break;
                }
                other => panic!("{}: {other:?}", v.id),
            }
        }
        assert!(
            rust.next().is_none(),
            "{}: Rust reads a line C does not",
            v.id
        );
    }
    assert!(lines > 500, "{lines}");
}

#[test]
fn reply_line_arguments() {
    let data = Region::with_bytes(b"250-a\r\n250 b\r\n");
    assert_eq!(reply_line_at(&data, 15).0, SMTP_STATUS_INVALID_ARGUMENT);
    assert_eq!(reply_line_at(&data, 14).0, SMTP_STATUS_INCOMPLETE);
    assert_eq!(reply_line_at(&data, 3).0, SMTP_STATUS_MALFORMED);
    let (status, line) = reply_line_at(&data, 7);
    assert_eq!(
        (status, line.last, line.text_offset, line.text_len),
        (SMTP_STATUS_OK, 1, 11, 1)
    );
    // SAFETY: NULL pointers are what is tested.
    unsafe {
        let mut line = smtp_reply_line {
            struct_size: size_of::<smtp_reply_line>() as u32,
            ..Default::default()
        };
        assert_eq!(
            smtp_reply_line_at(data.ptr, 14, 0, ptr::null_mut()),
            SMTP_STATUS_NULL_ARGUMENT
        );
        assert_eq!(
            smtp_reply_line_at(ptr::null(), 1, 0, &mut line),
            SMTP_STATUS_NULL_ARGUMENT
        );
        assert_eq!(
            smtp_reply_line_at(ptr::null(), 0, 0, &mut line),
            SMTP_STATUS_INCOMPLETE
        );
        line.struct_size -= 1;
        assert_eq!(
            smtp_reply_line_at(data.ptr, 14, 0, &mut line),
            SMTP_STATUS_INVALID_ARGUMENT
        );
    }
    let long = Region::with_bytes(&[b'2'; MAX_LINE_LEN + 1]);
    assert_eq!(reply_line_at(&long, 0).0, SMTP_STATUS_TOO_LONG);
    assert_eq!(reply_line_at(&long, 2).0, SMTP_STATUS_INCOMPLETE);
}
