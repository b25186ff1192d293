//! Fuzzes the planner's C ABI (`smtp_plan_*`) as a C agent would drive it: the bytes pick the
//! recipients, what the server advertises and the options, then a run of calls of
//! `smtp_plan_next`, `smtp_plan_receive` (canned replies, replies that answer what was sent,
//! raw bytes; buffers kept and grown across `SMTP_STATUS_INCOMPLETE` as the contract says),
//! `smtp_plan_connection_lost` and `smtp_plan_reconnect`, plus calls on a copy of the plan
//! (and of its records) whose private state or struct sizes are corrupted.
//!
//! Checks: never `SMTP_STATUS_PANIC`; the C plan and the Rust `Planner`, fed the same calls, give
//! the same steps, answers and records; every record's state is a valid one; once the step is
//! `SMTP_PLAN_DONE` or `SMTP_PLAN_RECONNECT` every record is final (and RECONNECT exactly when
//! one is not attempted); a corrupted copy is refused or runs, and never touches the real plan.
//!
//! Input: 8 header bytes (recipient count, domain spread, extensions, RCPTMAX, MAILMAX,
//! RCPTDOMAINMAX, option flags, the caller's limits and classifier options), then operations:
//! one byte each (low 3 bits the kind, high 5 a parameter), some followed by their bytes.
#![no_main]

use core::mem::size_of;
use libfuzzer_sys::fuzz_target;
use smtp_verdict::ffi::{
    SMTP_EXT_CHUNKING, SMTP_EXT_PIPELINING, SMTP_OPT_552_PERMANENT, SMTP_OPT_STRICT,
    SMTP_PLAN_CHUNKING, SMTP_PLAN_LMTP, SMTP_PLAN_NO_LEARNING, SMTP_PLAN_NO_RECIPIENT,
    SMTP_PLAN_PIPELINING, smtp_ehlo_capabilities, smtp_plan, smtp_plan_action,
    smtp_plan_action_name, smtp_plan_connection_lost, smtp_plan_init, smtp_plan_next,
    smtp_plan_options, smtp_plan_receive, smtp_plan_recipient, smtp_plan_recipient_state_name,
    smtp_plan_reconnect, smtp_plan_reply, smtp_plan_step, smtp_result, smtp_verdict_status,
};
use smtp_verdict::{
    Action, Capabilities, Error, Extensions, Limits, Options, PlanOptions, Planner, Recipient,
    RecipientState,
};

const CANNED: [&[u8]; 16] = [
    b"250 2.1.0 Ok\r\n",
    b"250 2.1.5 Ok\r\n",
    b"452 4.5.3 Error: too many recipients\r\n",
    b"354 End data with <CR><LF>.<CR><LF>\r\n",
    b"550 5.1.1 <x@example.org>: Recipient address rejected\r\n",
    b"451 4.3.0 Try again later\r\n",
    b"421 4.3.2 Service shutting down\r\n",
    b"221 2.0.0 Bye\r\n",
    b"552 5.3.4 Message too big\r\n",
    b"552 Too many recipients\r\n",
    b"250-first\r\n250 2.0.0 Ok\r\n",
    b"hello there\r\n",
    b"250 2.0.0 Ok: qu",
    b"554 5.7.1 Rejected\r\n",
    b"503 5.5.1 Bad sequence of commands\r\n",
    b"250 2.0.0 Ok: queued as 4Xyz\r\n",
];

struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fn c_caps(ext: u8, rcpt_max: u32, mail_max: u32, domain_max: u32) -> smtp_ehlo_capabilities {
    let mut extensions = 0;
    if ext & 1 != 0 {
        extensions |= SMTP_EXT_PIPELINING;
    }
    if ext & 2 != 0 {
        extensions |= SMTP_EXT_CHUNKING;
    }
    smtp_ehlo_capabilities {
        struct_size: size_of::<smtp_ehlo_capabilities>() as u32,
        code: 250,
        extensions,
        rcpt_max,
        mail_max,
        rcpt_domain_max: domain_max,
        ..smtp_ehlo_capabilities::default()
    }
}

fn rust_caps(c: &smtp_ehlo_capabilities) -> Capabilities {
    let mut extensions = Extensions::empty();
    if c.extensions & SMTP_EXT_PIPELINING != 0 {
        extensions.insert(Extensions::PIPELINING);
    }
    if c.extensions & SMTP_EXT_CHUNKING != 0 {
        extensions.insert(Extensions::CHUNKING);
    }
    let limit = |n: u32| (n != 0).then_some(n);
    Capabilities {
        extensions,
        limits: Limits {
            rcpt_max: limit(c.rcpt_max),
            mail_max: limit(c.mail_max),
            rcpt_domain_max: limit(c.rcpt_domain_max),
        },
        code: 250,
        ..Capabilities::default()
    }
}

fn options_pair(flags: u8, limits: u8) -> (smtp_plan_options, PlanOptions) {
    let flags = u32::from(flags) & 15;
    let mut classify = 0;
    if limits & 16 != 0 {
        classify |= SMTP_OPT_STRICT;
    }
    if limits & 32 != 0 {
        classify |= SMTP_OPT_552_PERMANENT;
    }
    let c = smtp_plan_options {
        struct_size: size_of::<smtp_plan_options>() as u32,
        max_recipients: u32::from(limits & 3),
        max_transactions: u32::from((limits >> 2) & 3),
        flags,
        classify_options: classify,
    };
    let rust = PlanOptions {
        max_recipients: c.max_recipients,
        max_transactions: c.max_transactions,
        pipelining: flags & SMTP_PLAN_PIPELINING != 0,
        chunking: flags & SMTP_PLAN_CHUNKING != 0,
        lmtp: flags & SMTP_PLAN_LMTP != 0,
        learn: flags & SMTP_PLAN_NO_LEARNING == 0,
        classify: Options::from_bits(classify).unwrap(),
    };
    (c, rust)
}

fn action_of(step: &smtp_plan_step) -> Action {
    use smtp_plan_action::*;
    let a = step.action;
    let all = [
        (SMTP_PLAN_SEND_MAIL, Action::Mail),
        (SMTP_PLAN_SEND_DATA, Action::Data),
        (SMTP_PLAN_SEND_MESSAGE, Action::Message),
        (SMTP_PLAN_SEND_EMPTY_MESSAGE, Action::EmptyMessage),
        (SMTP_PLAN_SEND_BDAT_LAST, Action::BdatLast),
        (SMTP_PLAN_SEND_RSET, Action::Rset),
        (SMTP_PLAN_SEND_QUIT, Action::Quit),
        (SMTP_PLAN_WAIT, Action::Wait),
        (SMTP_PLAN_DONE, Action::Done),
        (SMTP_PLAN_RECONNECT, Action::Reconnect),
    ];
    if a == SMTP_PLAN_SEND_RCPT as u32 {
        return Action::Rcpt(step.recipient);
    }
    assert_eq!(step.recipient, SMTP_PLAN_NO_RECIPIENT);
    all.iter()
        .find(|(c, _)| *c as u32 == a)
        .map(|(_, x)| *x)
        .unwrap_or_else(|| panic!("unknown action {a}"))
}

/// The reply an ordinary server gives to `action`; `refuse` picks RCPTs to limit or refuse.
fn ordinary(action: Action, refuse: u8, lmtp: bool, accepted: &mut u32) -> Vec<u8> {
    match action {
        Action::Mail | Action::Rset => {
            *accepted = 0;
            b"250 2.1.0 Ok\r\n".to_vec()
        }
        Action::Rcpt(i) => match (refuse >> (i % 5)) & 3 {
            1 => b"452 4.5.3 Error: too many recipients\r\n".to_vec(),
            2 => b"550 5.1.1 No such user\r\n".to_vec(),
            _ => {
                *accepted += 1;
                b"250 2.1.5 Ok\r\n".to_vec()
            }
        },
        Action::Data => b"354 go ahead\r\n".to_vec(),
        Action::Message | Action::EmptyMessage | Action::BdatLast => {
            let n = if lmtp { *accepted } else { 1 };
            b"250 2.0.0 Ok: queued\r\n".repeat(n as usize)
        }
        Action::Quit => b"221 2.0.0 Bye\r\n".to_vec(),
        Action::Wait | Action::Done | Action::Reconnect => Vec::new(),
    }
}

fn same_records(c: &[smtp_plan_recipient], rust: &[Recipient]) {
    assert_eq!(c.len(), rust.len());
    for (i, (c, r)) in c.iter().zip(rust).enumerate() {
        let e = r.enhanced().map_or((0, 0, 0), |e| e.parts());
        assert_eq!(
            (
                c.state,
                c.code,
                c.enhanced_class,
                c.enhanced_subject,
                c.enhanced_detail,
                c.flags,
                c.domain,
                c.attempts,
                c.transaction,
                c.reply
            ),
            (
                r.state().expect("a valid state") as u32,
                u32::from(r.code()),
                u32::from(e.0),
                u32::from(e.1),
                u32::from(e.2),
                u32::from(r.possibly_delivered()),
                r.domain(),
                r.attempts(),
                r.transaction(),
                r.reply()
            ),
            "record {i}"
        );
        assert!(RecipientState::from_u32(c.state).is_some());
        // SAFETY: a static string.
        let name = unsafe { core::ffi::CStr::from_ptr(smtp_plan_recipient_state_name(c.state)) };
        assert_ne!(name.to_bytes(), b"unknown");
    }
}

fn step_init() -> smtp_plan_step {
    smtp_plan_step {
        struct_size: size_of::<smtp_plan_step>() as u32,
        ..smtp_plan_step::default()
    }
}

fn result_init() -> smtp_result {
    smtp_result {
        struct_size: size_of::<smtp_result>() as u32,
        ..smtp_result::default()
    }
}

fn reply_init() -> smtp_plan_reply {
    smtp_plan_reply {
        struct_size: size_of::<smtp_plan_reply>() as u32,
        ..smtp_plan_reply::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    let mut head = [0u8; 8];
    for b in head.iter_mut() {
        *b = input.byte().unwrap_or(0);
    }
    let [
        count,
        spread,
        ext,
        rcpt_max,
        mail_max,
        domain_max,
        flags,
        limits,
    ] = head;
    let count = usize::from(count % 17);
    let spread = u32::from(spread % 4) + 1;
    let mut caps = c_caps(
        ext,
        u32::from(rcpt_max % 5),
        u32::from(mail_max % 4),
        u32::from(domain_max % 3),
    );
    let (mut c_opts, mut opts) = options_pair(flags, limits);
    let lmtp = opts.lmtp;

    let mut c_records: Vec<smtp_plan_recipient> = (0..count)
        .map(|i| smtp_plan_recipient {
            domain: i as u32 % spread,
            state: 0xffff, // reset by init
            ..smtp_plan_recipient::default()
        })
        .collect();
    let mut rust_records: Vec<Recipient> = (0..count)
        .map(|i| Recipient::new(i as u32 % spread))
        .collect();
    let mut plan = Box::new(smtp_plan::default());
    // SAFETY: live, aligned locals of the right sizes.
    let status =
        unsafe { smtp_plan_init(&mut *plan, c_records.as_mut_ptr(), count, &caps, &c_opts) };
    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
    let mut rust = Planner::new(&mut rust_records, &rust_caps(&caps), &opts);

    let mut pending: Vec<u8> = Vec::new();
    let mut sent: Vec<Action> = Vec::new();
    let mut accepted = 0u32;
    while let Some(op) = input.byte() {
        let param = op >> 3;
        match op & 7 {
            // smtp_plan_next, compared.
            0 | 1 => {
                let mut step = step_init();
                // SAFETY: the plan points to c_records, alive and unborrowed.
                let status = unsafe { smtp_plan_next(&mut *plan, &mut step) };
                assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
                let action = rust.next_action();
                assert_eq!(action_of(&step), action);
                // SAFETY: a static string.
                let name = unsafe { core::ffi::CStr::from_ptr(smtp_plan_action_name(step.action)) };
                assert_ne!(name.to_bytes(), b"unknown");
                match action {
                    Action::Wait => {}
                    Action::Done | Action::Reconnect => {
                        let final_all = c_records.iter().all(|r| {
                            RecipientState::from_u32(r.state).is_some_and(|s| s.is_final())
                        });
                        assert!(
                            final_all,
                            "{action:?} with a record not final: {c_records:?}"
                        );
                        let not_attempted = c_records
                            .iter()
                            .any(|r| r.state == RecipientState::NotAttempted as u32);
                        assert_eq!(not_attempted, action == Action::Reconnect);
                    }
                    Action::Rcpt(i) => {
                        assert!((i as usize) < count);
                        sent.push(action);
                    }
                    _ => sent.push(action),
                }
            }
            // Replies: canned, ordinary answers to what was sent, or raw bytes.
            kind @ (2 | 3 | 4) => {
                match kind {
                    2 => pending.extend_from_slice(CANNED[usize::from(param) % CANNED.len()]),
                    3 => {
                        let refuse = input.byte().unwrap_or(0);
                        for a in sent.drain(..) {
                            pending.extend(ordinary(a, refuse, lmtp, &mut accepted));
                        }
                    }
                    _ => pending.extend_from_slice(input.take(usize::from(param))),
                }
                // Fed as the contract says: consumed bytes dropped, incomplete ones kept.
                while !pending.is_empty() {
                    let buf: Box<[u8]> = pending.as_slice().into();
                    let mut out = result_init();
                    let mut about = reply_init();
                    // SAFETY: the plan points to c_records; buf has buf.len() bytes.
                    let status = unsafe {
                        smtp_plan_receive(&mut *plan, buf.as_ptr(), buf.len(), &mut out, &mut about)
                    };
                    let r = rust.receive(&buf);
                    match &r {
                        Ok(r) => {
                            assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
                            let c = &r.classification;
                            assert_eq!(out.verdict, c.verdict as u32);
                            assert_eq!(out.scope, c.scope as u32);
                            assert_eq!(out.code, u32::from(c.code));
                            assert_eq!(out.consumed, c.consumed);
                            assert!(out.consumed > 0 && out.consumed <= buf.len());
                            assert_eq!(about.command, r.command as u32);
                            assert_eq!(
                                about.recipient,
                                r.recipient.unwrap_or(SMTP_PLAN_NO_RECIPIENT)
                            );
                            assert_eq!(about.number, r.number);
                        }
                        Err(Error::Incomplete) => {
                            assert_eq!(status, smtp_verdict_status::SMTP_STATUS_INCOMPLETE);
                            assert_eq!(about.number, 0);
                        }
                        Err(Error::TooLong { .. }) => {
                            assert_eq!(status, smtp_verdict_status::SMTP_STATUS_TOO_LONG)
                        }
                        Err(Error::Malformed { .. }) => {
                            assert_eq!(status, smtp_verdict_status::SMTP_STATUS_MALFORMED)
                        }
                    }
                    match r {
                        Ok(r) => drop(pending.drain(..r.classification.consumed)),
                        Err(Error::Incomplete) => break,
                        Err(_) => pending.clear(),
                    }
                }
            }
            5 => {
                pending.clear();
                sent.clear();
                // SAFETY: the plan points to c_records.
                let status = unsafe { smtp_plan_connection_lost(&mut *plan) };
                assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
                rust.connection_lost();
            }
            6 => {
                // A new connection, with other capabilities and options.
                let b = input.byte().unwrap_or(0);
                caps = c_caps(
                    param,
                    u32::from(b % 5),
                    u32::from((b >> 3) % 4),
                    u32::from(b >> 6),
                );
                let (c, r) = options_pair(input.byte().unwrap_or(0), input.byte().unwrap_or(0));
                (c_opts, opts) = (
                    c,
                    PlanOptions {
                        lmtp,
                        learn: opts.learn,
                        ..r
                    },
                );
                // LMTP and learning stay as init set them, whatever the flags say.
                // SAFETY: the plan points to c_records; caps and options are locals.
                let status = unsafe { smtp_plan_reconnect(&mut *plan, &caps, &c_opts) };
                let ok = rust.reconnect(&rust_caps(&caps), &opts);
                assert_eq!(
                    status,
                    if ok {
                        smtp_verdict_status::SMTP_STATUS_OK
                    } else {
                        smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT
                    }
                );
                if ok {
                    pending.clear();
                    sent.clear();
                }
            }
            _ => {
                // A copy of the plan over a copy of the records, corrupted; the real ones
                // must not change.
                let word = usize::from(input.byte().unwrap_or(0)) % 48;
                let value = u32::from_le_bytes([
                    input.byte().unwrap_or(0),
                    input.byte().unwrap_or(0),
                    input.byte().unwrap_or(0),
                    input.byte().unwrap_or(0),
                ]);
                let mut copy_records = c_records.clone();
                let mut copy = *plan;
                copy.recipients = copy_records.as_mut_ptr();
                if word < 47 {
                    copy.private_state[word] = value;
                } else {
                    copy.struct_size = value;
                }
                let before = (copy.private_state, copy_records.clone());
                let mut step = step_init();
                let mut out = result_init();
                let reply = CANNED[usize::from(param) % CANNED.len()];
                // SAFETY: the copy points to copy_records, as large as it says; the struct
                // itself is a whole smtp_plan whatever struct_size claims.
                let status = unsafe {
                    match param % 4 {
                        0 => smtp_plan_next(&mut copy, &mut step),
                        1 => smtp_plan_receive(
                            &mut copy,
                            reply.as_ptr(),
                            reply.len(),
                            &mut out,
                            core::ptr::null_mut(),
                        ),
                        2 => smtp_plan_connection_lost(&mut copy),
                        _ => smtp_plan_reconnect(&mut copy, &caps, &c_opts),
                    }
                };
                assert_ne!(status, smtp_verdict_status::SMTP_STATUS_PANIC);
                if status == smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT {
                    assert_eq!((copy.private_state, copy_records.clone()), before);
                }
                if word == 47 && (value as usize) < size_of::<smtp_plan>() {
                    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT);
                }
                if (32..47).contains(&word) && value != 0 {
                    // A spare word (the state has 32).
                    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT);
                }
            }
        }
        same_records(&c_records, rust.recipients());
    }
});
