//! Structs larger than the library knows (a caller built with a newer header): an input
//! struct's unknown tail must be zero, or the call is refused, so that a field the caller set
//! is never silently ignored; an output struct is written only as far as the library knows.

use smtp_verdict::ffi::{
    smtp_classify_reply, smtp_classify_reply_incremental, smtp_command, smtp_context, smtp_result,
    smtp_scanner, smtp_scanner_reset, smtp_verdict_status,
};

const REPLY: &[u8] = b"452 4.5.3 Error: too many recipients\r\n";

/// A struct followed by `N` more words, as a newer header might declare it.
#[repr(C)]
#[derive(Clone, Copy)]
struct Grown<T, const N: usize> {
    known: T,
    tail: [u32; N],
}

fn context(tail: [u32; 4]) -> Grown<smtp_context, 4> {
    Grown {
        known: smtp_context {
            struct_size: size_of::<Grown<smtp_context, 4>>() as u32,
            command: smtp_command::SMTP_CMD_RCPT as u32,
            accepted_recipients: 2,
            ..smtp_context::default()
        },
        tail,
    }
}

fn result() -> smtp_result {
    smtp_result {
        struct_size: size_of::<smtp_result>() as u32,
        ..smtp_result::default()
    }
}

#[test]
fn an_input_tail_must_be_zero() {
    let classify = |ctx: &Grown<smtp_context, 4>| {
        let mut out = result();
        // SAFETY: a readable reply, a context readable to its struct_size, a writable result.
        let status =
            unsafe { smtp_classify_reply(REPLY.as_ptr(), REPLY.len(), &ctx.known, &mut out) };
        (status, out.verdict)
    };
    assert_eq!(
        classify(&context([0; 4])),
        (smtp_verdict_status::SMTP_STATUS_OK, 4)
    );
    for k in 0..4 {
        let mut tail = [0; 4];
        tail[k] = 1 << (8 * k);
        assert_eq!(
            classify(&context(tail)).0,
            smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT,
            "tail word {k} set"
        );
    }
}

#[test]
fn a_scanner_tail_must_be_zero() {
    for (tail, want) in [
        ([0; 2], smtp_verdict_status::SMTP_STATUS_OK),
        ([0, 7], smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT),
    ] {
        let mut scanner = Grown::<smtp_scanner, 2> {
            known: smtp_scanner {
                struct_size: size_of::<Grown<smtp_scanner, 2>>() as u32,
                ..smtp_scanner::default()
            },
            tail,
        };
        let mut out = result();
        // SAFETY: as above; the scanner is writable to its struct_size.
        let status = unsafe {
            assert_eq!(
                smtp_scanner_reset(&mut scanner.known),
                smtp_verdict_status::SMTP_STATUS_OK
            );
            smtp_classify_reply_incremental(
                REPLY.as_ptr(),
                REPLY.len(),
                core::ptr::null(),
                &mut scanner.known,
                &mut out,
            )
        };
        assert_eq!(status, want, "tail {tail:?}");
        assert_eq!(scanner.tail, tail, "the tail is never written");
    }
}

#[test]
fn an_output_is_written_only_as_far_as_known() {
    let ctx = context([0; 4]);
    let mut out = Grown::<smtp_result, 4> {
        known: smtp_result {
            struct_size: size_of::<Grown<smtp_result, 4>>() as u32,
            ..smtp_result::default()
        },
        tail: [0xdead_beef; 4],
    };
    // SAFETY: as above; the result is writable to its struct_size.
    let status =
        unsafe { smtp_classify_reply(REPLY.as_ptr(), REPLY.len(), &ctx.known, &mut out.known) };
    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
    assert_eq!((out.known.verdict, out.known.code), (4, 452));
    assert_eq!(out.tail, [0xdead_beef; 4]);
}
