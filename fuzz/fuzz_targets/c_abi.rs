//! Fuzzes the exported C functions themselves, `smtp_classify_reply` and
//! `smtp_classify_reply_incremental`, as a C caller would call them: raw command and option
//! numbers (unknown ones included), any `struct_size` (too small, exact, larger than the
//! library knows, with the struct really that large), NULL pointers, misaligned structs,
//! scanners with corrupted private state, buffers grown in chunks.
//!
//! Checks: never `SMTP_STATUS_PANIC`; the library writes nothing past `out->struct_size` and never
//! writes `struct_size`; every status comes with the `out` the header documents; OK answers
//! agree with the Rust API.
#![no_main]

mod common;

use core::mem::size_of;
use libfuzzer_sys::fuzz_target;
use smtp_verdict::ffi::{
    smtp_classify_reply, smtp_classify_reply_incremental, smtp_context, smtp_enhanced_code_text,
    smtp_result, smtp_scanner, smtp_scanner_reset, smtp_scope_name, smtp_status_name,
    smtp_verdict_name, smtp_verdict_status,
};
use smtp_verdict::{Command, Context, Options, classify};

/// Room for a struct plus what a newer caller might have appended.
const ROOM: usize = 256;

#[repr(C, align(8))]
struct Room([u8; ROOM]);

const CANARY: u8 = 0xa5;

/// A `struct_size` chosen by a knob: the real size most of the time, else too small, larger
/// (the buffer really is), or absurd (still only `sizeof` is touched: the buffer is ROOM).
fn size_for(knob: u8, real: usize) -> u32 {
    match knob % 8 {
        0..=3 => real as u32,
        4 => u32::from(knob / 8) % real as u32,
        5 => (real + usize::from(knob / 8) % (ROOM - real)) as u32,
        6 => u32::MAX - u32::from(knob / 8),
        _ => (real - 4) as u32,
    }
}

/// [`size_for`] for a struct the library reads: never absurd, as the library reads an input
/// struct to its `struct_size` (its bytes past `sizeof` must be 0).
fn input_size_for(knob: u8, real: usize) -> u32 {
    match knob % 8 {
        6 => real as u32,
        _ => size_for(knob, real),
    }
}

fn expected_status(size: u32, real: usize) -> Option<smtp_verdict_status> {
    (size < real as u32).then_some(smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT)
}

fn read_u32(room: &Room, at: usize) -> u32 {
    u32::from_ne_bytes(room.0[at..at + 4].try_into().unwrap())
}

fuzz_target!(|data: &[u8]| {
    let input = common::Input::new(data);
    let [k_sizes, k_ptrs, k_chunk, k_state] = input.knobs;
    // An exact-size heap copy: an over-read by one byte is out of bounds for ASan.
    let reply: Box<[u8]> = input.reply.into();

    // The context, raw, in a buffer as large as its struct_size claims (when that is sane).
    let mut ctx_room = Room([CANARY; ROOM]);
    let ctx_size = input_size_for(k_sizes, size_of::<smtp_context>());
    let ctx_fields = [
        ctx_size,
        u32::from(input.command),
        u32::from(input.accepted),
        u32::from(input.limited),
        u32::from(input.options),
    ];
    for (i, f) in ctx_fields.iter().enumerate() {
        ctx_room.0[i * 4..i * 4 + 4].copy_from_slice(&f.to_ne_bytes());
    }
    // Past sizeof, up to a larger struct_size: zero (a newer header's unset fields) or the
    // canary (set fields, which the library must refuse rather than ignore).
    let ctx_known = size_of::<smtp_context>();
    if k_ptrs & 0x10 != 0 && ctx_size as usize > ctx_known {
        ctx_room.0[ctx_known..ctx_size as usize].fill(0);
    }
    let ctx_tail_set = ctx_room.0[ctx_known..(ctx_size as usize).max(ctx_known)]
        .iter()
        .any(|&b| b != 0);
    let mut out_room = Room([CANARY; ROOM]);
    let out_size = size_for(k_sizes.rotate_right(3), size_of::<smtp_result>());
    out_room.0[..4].copy_from_slice(&out_size.to_ne_bytes());

    let misalign = usize::from(k_ptrs & 0x40 != 0);
    let ctx_ptr: *const smtp_context = if k_ptrs & 1 != 0 {
        core::ptr::null()
    } else {
        ctx_room.0.as_ptr().wrapping_add(misalign).cast()
    };
    let out_ptr: *mut smtp_result = if k_ptrs & 2 != 0 {
        core::ptr::null_mut()
    } else {
        out_room.0.as_mut_ptr().cast()
    };
    let data_ptr = if k_ptrs & 4 != 0 {
        core::ptr::null()
    } else {
        reply.as_ptr()
    };

    // SAFETY: each pointer is NULL or points to a buffer at least as large as the size it
    // claims (or ROOM bytes, more than the library reads, when the claim is absurd).
    let status = unsafe { smtp_classify_reply(data_ptr, reply.len(), ctx_ptr, out_ptr) };
    assert_ne!(status, smtp_verdict_status::SMTP_STATUS_PANIC);
    if k_ptrs & 8 != 0 {
        // No scanner: refused before anything is read or written.
        let mut out3 = smtp_result {
            struct_size: size_of::<smtp_result>() as u32,
            ..smtp_result::default()
        };
        // SAFETY: valid or NULL pointers.
        let s = unsafe {
            smtp_classify_reply_incremental(
                reply.as_ptr(),
                reply.len(),
                ctx_ptr,
                core::ptr::null_mut(),
                &mut out3,
            )
        };
        assert_eq!(s, smtp_verdict_status::SMTP_STATUS_NULL_ARGUMENT);
    }

    // What the status must be.
    let valid_ctx = Command::from_u32(u32::from(input.command)).is_some()
        && Options::from_bits(u32::from(input.options)).is_some();
    let expected = if out_ptr.is_null() {
        Some(smtp_verdict_status::SMTP_STATUS_NULL_ARGUMENT)
    } else if let Some(s) = expected_status(out_size, size_of::<smtp_result>()) {
        Some(s)
    } else if !ctx_ptr.is_null() && misalign != 0 {
        Some(smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT)
    } else if !ctx_ptr.is_null()
        && (expected_status(ctx_size, size_of::<smtp_context>()).is_some()
            || ctx_tail_set
            || !valid_ctx)
    {
        Some(smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT)
    } else if data_ptr.is_null() && !reply.is_empty() {
        Some(smtp_verdict_status::SMTP_STATUS_NULL_ARGUMENT)
    } else {
        None
    };
    if let Some(e) = expected {
        assert_eq!(status, e);
    }

    // Nothing written past struct_size, nor struct_size itself.
    let written = (out_size as usize).min(size_of::<smtp_result>());
    if !out_ptr.is_null() {
        assert_eq!(read_u32(&out_room, 0), out_size);
        assert!(out_room.0[written.max(4)..].iter().all(|&b| b == CANARY));
    }
    if expected.is_none() {
        // SAFETY: out_room is 8-aligned, larger than smtp_result, and fully written here
        // (struct_size >= sizeof means the library wrote every field).
        let out = unsafe { &*out_room.0.as_ptr().cast::<smtp_result>() };
        let ctx = if ctx_ptr.is_null() {
            Context::default()
        } else {
            Context {
                command: Command::from_u32(u32::from(input.command)).unwrap(),
                accepted_recipients: u32::from(input.accepted),
                limited_recipients: u32::from(input.limited),
                options: Options::from_bits(u32::from(input.options)).unwrap(),
            }
        };
        let rust = classify(&reply, &ctx);
        check_out(status, out, &rust, reply.len());

        // The incremental entry point, fed in chunks, ends with the same answer. The scanner
        // lives in a Room too, with its own struct_size from the knobs.
        let mut scan_room = Room([CANARY; ROOM]);
        let scan_real = size_of::<smtp_scanner>();
        let scan_size = input_size_for(k_sizes.rotate_right(6), scan_real);
        scan_room.0[..4].copy_from_slice(&scan_size.to_ne_bytes());
        if k_ptrs & 0x20 != 0 && scan_size as usize > scan_real {
            scan_room.0[scan_real..scan_size as usize].fill(0);
        }
        let scan_tail_set = scan_room.0[scan_real..(scan_size as usize).max(scan_real)]
            .iter()
            .any(|&b| b != 0);
        let scan_before = scan_room.0;
        let scanner: *mut smtp_scanner = scan_room.0.as_mut_ptr().cast();
        let scan_ok = scan_size as usize >= scan_real;
        // SAFETY: scan_room is 8-aligned and ROOM bytes long, more than the library touches.
        let reset = unsafe { smtp_scanner_reset(scanner) };
        assert_eq!(
            reset == smtp_verdict_status::SMTP_STATUS_OK,
            scan_ok,
            "reset of size {scan_size}"
        );
        if scan_ok && k_state != 0 {
            // Corrupt the private state: refused or harmless, never a panic or a bad read.
            let i = 4 + 4 * (usize::from(k_state) % 15);
            let w = read_u32(&scan_room, i) ^ (u32::from(k_state) << (k_state % 24));
            scan_room.0[i..i + 4].copy_from_slice(&w.to_ne_bytes());
        }
        let mut last = smtp_verdict_status::SMTP_STATUS_INCOMPLETE;
        let mut out2 = smtp_result {
            struct_size: size_of::<smtp_result>() as u32,
            ..smtp_result::default()
        };
        for end in common::chunks(reply.len(), k_chunk).chain(reply.is_empty().then_some(0)) {
            // SAFETY: valid pointers; `end` bytes of `reply` are readable.
            last = unsafe {
                smtp_classify_reply_incremental(reply.as_ptr(), end, ctx_ptr, scanner, &mut out2)
            };
            assert_ne!(last, smtp_verdict_status::SMTP_STATUS_PANIC);
            if last != smtp_verdict_status::SMTP_STATUS_INCOMPLETE {
                break;
            }
        }
        // Never past the scanner's struct_size or sizeof, never its struct_size field.
        assert_eq!(read_u32(&scan_room, 0), scan_size);
        let scan_written = (scan_size as usize).min(scan_real);
        assert_eq!(
            scan_room.0[scan_written.max(4)..],
            scan_before[scan_written.max(4)..]
        );
        if !scan_ok || (scan_tail_set && k_state == 0) {
            assert_eq!(last, smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT);
        } else if scan_tail_set {
            // A corrupted position may answer INCOMPLETE from the scanner's first two words
            // alone (the header says so); any full call is refused.
            assert!(matches!(
                last,
                smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT
                    | smtp_verdict_status::SMTP_STATUS_INCOMPLETE
            ));
        } else if k_state == 0 {
            assert_eq!(last, status);
            // The same answer; only struct_size (the caller's, never written) may differ.
            assert_eq!(
                out2,
                smtp_result {
                    struct_size: out2.struct_size,
                    ..*out
                }
            );
        } else if !matches!(
            last,
            smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT
                | smtp_verdict_status::SMTP_STATUS_INCOMPLETE
        ) {
            assert!(out2.consumed <= reply.len());
        }
    }

    // The name functions take any number.
    for n in [
        u32::from(input.command),
        u32::from(input.options),
        status as u32,
    ] {
        // SAFETY: none (safe functions); the strings are static and NUL-terminated.
        let _ = unsafe { core::ffi::CStr::from_ptr(smtp_verdict_name(n)) };
        let _ = unsafe { core::ffi::CStr::from_ptr(smtp_scope_name(n)) };
        let _ = unsafe { core::ffi::CStr::from_ptr(smtp_status_name(n)) };
    }
    let t = smtp_enhanced_code_text(
        u32::from(input.accepted),
        u32::from(input.limited),
        u32::from(k_chunk),
    );
    if !t.is_null() {
        // SAFETY: a static NUL-terminated string.
        let _ = unsafe { core::ffi::CStr::from_ptr(t) };
    }
    ehlo(&reply, k_sizes);
});

/// `smtp_parse_ehlo` with any `struct_size`: nothing written past it, never a panic, OK and
/// REFUSED within the input, the same answer as the Rust API.
fn ehlo(reply: &[u8], k_sizes: u8) {
    use smtp_verdict::ffi::{smtp_ehlo_capabilities, smtp_parse_ehlo};
    let size = size_of::<smtp_ehlo_capabilities>();
    let claimed = match k_sizes % 4 {
        0 => size,
        1 => size - 1 - usize::from(k_sizes / 4) % (size - 1),
        _ => size + usize::from(k_sizes / 4) % (ROOM - size),
    };
    let mut room = Room([CANARY; ROOM]);
    room.0[..4].copy_from_slice(&(claimed as u32).to_ne_bytes());
    // SAFETY: `room` is aligned, ROOM bytes long, and struct_size never claims more.
    let status =
        unsafe { smtp_parse_ehlo(reply.as_ptr(), reply.len(), room.0.as_mut_ptr().cast()) };
    assert_ne!(status, smtp_verdict_status::SMTP_STATUS_PANIC);
    assert!(
        room.0[claimed.max(4)..].iter().all(|&b| b == CANARY),
        "written past struct_size"
    );
    assert_eq!(
        room.0[..4],
        (claimed as u32).to_ne_bytes(),
        "struct_size written"
    );
    if claimed < size {
        assert_eq!(status, smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT);
        return;
    }
    // SAFETY: the library wrote a whole smtp_ehlo_capabilities (plain integers).
    let out: smtp_ehlo_capabilities = unsafe { core::ptr::read(room.0.as_ptr().cast()) };
    match smtp_verdict::parse_ehlo(reply) {
        Ok(caps) => {
            assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
            assert_eq!(out.consumed, caps.consumed);
            assert!(out.consumed <= reply.len());
            assert_eq!(out.rcpt_max, caps.limits.rcpt_max.unwrap_or(0));
        }
        Err(smtp_verdict::EhloError::Refused { code, consumed }) => {
            assert_eq!(status, smtp_verdict_status::SMTP_STATUS_REFUSED);
            assert_eq!((out.code, out.consumed), (u32::from(code), consumed));
            assert!(consumed <= reply.len());
        }
        Err(_) => assert_eq!(out.consumed, 0),
    }
}

fn check_out(
    status: smtp_verdict_status,
    out: &smtp_result,
    rust: &Result<smtp_verdict::Classification, smtp_verdict::Error>,
    len: usize,
) {
    use smtp_verdict_status::*;
    let batch_size = match (status, rust) {
        (SMTP_STATUS_OK, Ok(c)) => c.batch_size,
        _ => 0,
    };
    assert_eq!(out.batch_size, batch_size);
    assert!(out.consumed <= len);
    match status {
        SMTP_STATUS_OK => {
            let c = rust.as_ref().expect("C says OK, Rust does not");
            assert_eq!(out.verdict, c.verdict as u32);
            assert_eq!(out.scope, c.scope as u32);
            assert_eq!(out.code, u32::from(c.code));
            assert_eq!(out.flags, c.flags.bits());
            assert_eq!(out.lines, c.lines);
            assert_eq!(out.consumed, c.consumed);
            assert_eq!(out.text_offset, c.text.start);
            assert_eq!(out.text_len, c.text.len());
            assert!(out.text_offset + out.text_len <= out.consumed);
            assert_eq!(
                (
                    out.enhanced_class,
                    out.enhanced_subject,
                    out.enhanced_detail
                ),
                c.enhanced.map_or((0, 0, 0), |e| (
                    u32::from(e.class()),
                    u32::from(e.subject()),
                    u32::from(e.detail())
                ))
            );
        }
        SMTP_STATUS_INCOMPLETE => {
            assert_eq!(*rust, Err(smtp_verdict::Error::Incomplete));
            assert_eq!(
                *out,
                smtp_result {
                    struct_size: out.struct_size,
                    ..smtp_result::default()
                }
            );
        }
        SMTP_STATUS_MALFORMED | SMTP_STATUS_TOO_LONG => {
            let fallback = rust
                .as_ref()
                .expect_err("C says error, Rust does not")
                .fallback();
            let f = fallback.expect("an error with a fallback");
            assert_eq!(out.verdict, smtp_verdict::Verdict::Retry as u32);
            assert_eq!(out.scope, smtp_verdict::Scope::Session as u32);
            assert_eq!(out.flags, f.flags.bits());
            assert_eq!(out.consumed, f.consumed);
            assert_eq!(out.code, 0);
        }
        other => panic!("unexpected status {other:?}"),
    }
}
