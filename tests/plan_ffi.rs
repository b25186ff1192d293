//! The planner's C ABI (`smtp_plan_*`) driven from Rust, step by step beside the Rust
//! `Planner` on the same scripted sessions: every step, every reply's answer and every record
//! must be the same through both. The C side also gets its replies a byte at a time in some
//! sessions (`SMTP_STATUS_INCOMPLETE` until each is whole), the Rust side whole.

use smtp_verdict::ffi::{self as c, smtp_verdict_status};
use smtp_verdict::{
    Action, Capabilities, Error, PlanOptions, Planner, Received, Recipient, domain_key, parse_ehlo,
};

/// What the server does when a command is sent.
#[derive(Clone, Debug)]
enum Event {
    Reply(Vec<u8>),
    /// The connection drops instead of the reply.
    Lost,
}

/// A scripted server: a recipient limit per transaction, refused recipients, and overrides
/// by the number of the command sent (0 for the first, counted across connections).
struct Server {
    limit: u32,
    refused: Vec<u32>,
    lmtp: bool,
    overrides: Vec<(usize, Event)>,
    sent: usize,
    in_transaction: u32,
    accepted: u32,
}

impl Server {
    fn new(limit: u32) -> Server {
        Server {
            limit,
            refused: Vec::new(),
            lmtp: false,
            overrides: Vec::new(),
            sent: 0,
            in_transaction: 0,
            accepted: 0,
        }
    }

    fn answer(&mut self, action: Action) -> Event {
        let n = self.sent;
        self.sent += 1;
        let ordinary = match action {
            Action::Mail | Action::Rset => {
                self.in_transaction = 0;
                self.accepted = 0;
                b"250 2.1.0 Ok\r\n".to_vec()
            }
            Action::Rcpt(i) => {
                if self.limit != 0 && self.in_transaction >= self.limit {
                    b"452 4.5.3 Error: too many recipients\r\n".to_vec()
                } else if self.refused.contains(&i) {
                    b"550 5.1.1 <x@example.org>: Recipient address rejected\r\n".to_vec()
                } else {
                    self.in_transaction += 1;
                    self.accepted += 1;
                    b"250 2.1.5 Ok\r\n".to_vec()
                }
            }
            Action::Data => b"354 End data with <CR><LF>.<CR><LF>\r\n".to_vec(),
            Action::Message | Action::EmptyMessage | Action::BdatLast => {
                let replies = if self.lmtp { self.accepted } else { 1 };
                b"250 2.0.0 Ok: queued\r\n".repeat(replies as usize)
            }
            Action::Quit => b"221 2.0.0 Bye\r\n".to_vec(),
            Action::Wait | Action::Done | Action::Reconnect => unreachable!(),
        };
        match self.overrides.iter().find(|(at, _)| *at == n) {
            Some((_, e)) => e.clone(),
            None => Event::Reply(ordinary),
        }
    }
}

/// The C plan, its records and the Rust planner over its own records.
struct Pair<'r> {
    plan: Box<c::smtp_plan>,
    records: Vec<c::smtp_plan_recipient>,
    rust: Planner<'r>,
    byte_at_a_time: bool,
}

fn c_caps(ehlo: &[u8]) -> c::smtp_ehlo_capabilities {
    let mut caps = c::smtp_ehlo_capabilities {
        struct_size: size_of::<c::smtp_ehlo_capabilities>() as u32,
        ..Default::default()
    };
    // SAFETY: a readable buffer and a writable struct.
    let status = unsafe { c::smtp_parse_ehlo(ehlo.as_ptr(), ehlo.len(), &mut caps) };
    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
    caps
}

fn c_options(o: &PlanOptions) -> c::smtp_plan_options {
    let mut flags = 0;
    if o.pipelining {
        flags |= c::SMTP_PLAN_PIPELINING;
    }
    if o.chunking {
        flags |= c::SMTP_PLAN_CHUNKING;
    }
    if o.lmtp {
        flags |= c::SMTP_PLAN_LMTP;
    }
    if !o.learn {
        flags |= c::SMTP_PLAN_NO_LEARNING;
    }
    c::smtp_plan_options {
        struct_size: size_of::<c::smtp_plan_options>() as u32,
        max_recipients: o.max_recipients,
        max_transactions: o.max_transactions,
        flags,
        classify_options: o.classify.bits(),
    }
}

fn action_of(step: &c::smtp_plan_step) -> Action {
    use c::smtp_plan_action::*;
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
    if step.action == SMTP_PLAN_SEND_RCPT as u32 {
        return Action::Rcpt(step.recipient);
    }
    assert_eq!(step.recipient, c::SMTP_PLAN_NO_RECIPIENT);
    all.iter()
        .find(|(c, _)| *c as u32 == step.action)
        .map(|(_, a)| *a)
        .unwrap_or_else(|| panic!("unknown action {}", step.action))
}

fn same_record(c: &c::smtp_plan_recipient, r: &Recipient, i: usize) {
    let enhanced = r.enhanced().map_or((0, 0, 0), |e| e.parts());
    assert_eq!(
        (
            Some(c.state),
            c.code,
            (c.enhanced_class, c.enhanced_subject, c.enhanced_detail),
            c.flags,
            c.domain,
            c.attempts,
            c.transaction,
            c.reply,
            c.reserved,
        ),
        (
            r.state().map(|s| s as u32),
            u32::from(r.code()),
            (
                u32::from(enhanced.0),
                u32::from(enhanced.1),
                u32::from(enhanced.2)
            ),
            u32::from(r.possibly_delivered()),
            r.domain(),
            r.attempts(),
            r.transaction(),
            r.reply(),
            [0, 0],
        ),
        "record {i}"
    );
}

impl Pair<'_> {
    fn check_records(&self) {
        assert_eq!(self.records.len(), self.rust.recipients().len());
        for (i, (c, r)) in self.records.iter().zip(self.rust.recipients()).enumerate() {
            same_record(c, r, i);
        }
    }

    fn next(&mut self) -> Action {
        let mut step = c::smtp_plan_step {
            struct_size: size_of::<c::smtp_plan_step>() as u32,
            ..Default::default()
        };
        // SAFETY: the plan and its records live in self; the step is writable.
        let status = unsafe { c::smtp_plan_next(&mut *self.plan, &mut step) };
        assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
        let action = self.rust.next_action();
        assert_eq!(action_of(&step), action);
        assert_eq!(step.transactions, self.rust.transactions());
        self.check_records();
        action
    }

    /// One reply through C: returns the status, the result and what it was about.
    fn c_receive(
        &mut self,
        input: &[u8],
    ) -> (smtp_verdict_status, c::smtp_result, c::smtp_plan_reply) {
        let mut out = c::smtp_result {
            struct_size: size_of::<c::smtp_result>() as u32,
            ..Default::default()
        };
        let mut about = c::smtp_plan_reply {
            struct_size: size_of::<c::smtp_plan_reply>() as u32,
            ..Default::default()
        };
        let lens: Vec<usize> = if self.byte_at_a_time {
            (1..=input.len()).collect()
        } else {
            vec![input.len()]
        };
        let mut status = smtp_verdict_status::SMTP_STATUS_INCOMPLETE;
        for len in lens {
            // An exact-size copy, so that a read past `len` is out of bounds.
            let data: Box<[u8]> = input[..len].into();
            // SAFETY: the plan and its records live in self; the rest are locals.
            status = unsafe {
                c::smtp_plan_receive(&mut *self.plan, data.as_ptr(), len, &mut out, &mut about)
            };
            if status != smtp_verdict_status::SMTP_STATUS_INCOMPLETE {
                break;
            }
            assert_eq!(about.number, 0);
        }
        (status, out, about)
    }

    /// Hands both planners the same replies, one after another, and compares the answers.
    fn feed(&mut self, mut input: &[u8]) {
        while !input.is_empty() {
            let (status, out, about) = self.c_receive(input);
            let rust: Result<Received, Error> = self.rust.receive(input);
            match &rust {
                Ok(r) => {
                    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
                    let c = &r.classification;
                    assert_eq!(
                        (out.verdict, out.scope, out.code, out.flags, out.consumed),
                        (
                            c.verdict as u32,
                            c.scope as u32,
                            u32::from(c.code),
                            c.flags.bits(),
                            c.consumed
                        )
                    );
                    assert_eq!(about.command, r.command as u32);
                    assert_eq!(
                        about.recipient,
                        r.recipient.unwrap_or(c::SMTP_PLAN_NO_RECIPIENT)
                    );
                    assert_eq!(about.number, r.number);
                }
                Err(Error::Incomplete) => {
                    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_INCOMPLETE)
                }
                Err(Error::TooLong { .. }) => {
                    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_TOO_LONG)
                }
                Err(Error::Malformed { .. }) => {
                    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_MALFORMED)
                }
            }
            self.check_records();
            match rust {
                Ok(r) => input = &input[r.classification.consumed..],
                Err(_) => return,
            }
        }
    }

    fn connection_lost(&mut self) {
        // SAFETY: the plan and its records live in self.
        let status = unsafe { c::smtp_plan_connection_lost(&mut *self.plan) };
        assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
        self.rust.connection_lost();
        self.check_records();
    }

    fn reconnect(&mut self, ehlo: &[u8], options: &PlanOptions) {
        let caps = c_caps(ehlo);
        let opts = c_options(options);
        // SAFETY: the plan and its records live in self; caps and options are locals.
        let status = unsafe { c::smtp_plan_reconnect(&mut *self.plan, &caps, &opts) };
        assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
        assert!(self.rust.reconnect(&parse_ehlo(ehlo).unwrap(), options));
        self.check_records();
    }
}

/// Runs a session (and reconnections, with `ehlo` each time) until the end; returns the
/// final records, the count of transactions and the actions sent.
fn session(
    addresses: &[&str],
    ehlo: &[u8],
    options: PlanOptions,
    server: &mut Server,
    byte_at_a_time: bool,
    connections: usize,
) -> (Vec<c::smtp_plan_recipient>, u32, Vec<Action>) {
    let mut rust_records: Vec<Recipient> = addresses
        .iter()
        .map(|a| Recipient::new(domain_key(a.as_bytes())))
        .collect();
    let mut records: Vec<c::smtp_plan_recipient> = addresses
        .iter()
        .map(|a| c::smtp_plan_recipient {
            // SAFETY: `a` has a.len() readable bytes.
            domain: unsafe { c::smtp_domain_key(a.as_ptr().cast(), a.len()) },
            state: 0xdead, // reset by init
            ..Default::default()
        })
        .collect();
    let caps: Capabilities = parse_ehlo(ehlo).unwrap();
    let mut plan = Box::new(c::smtp_plan::default());
    let c_caps = c_caps(ehlo);
    let opts = c_options(&options);
    // SAFETY: every pointer is to a live local of the right size.
    let status = unsafe {
        c::smtp_plan_init(
            &mut *plan,
            records.as_mut_ptr(),
            records.len(),
            &c_caps,
            &opts,
        )
    };
    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
    let rust = Planner::new(&mut rust_records, &caps, &options);
    let mut pair = Pair {
        plan,
        records,
        rust,
        byte_at_a_time,
    };
    pair.check_records();
    let mut sent = Vec::new();
    let mut pending = Vec::new();
    let mut left = connections;
    for _ in 0..10_000 {
        match pair.next() {
            Action::Wait => {
                if pending.is_empty() {
                    panic!("waiting with nothing sent: {sent:?}");
                }
                let replies: Vec<u8> = pending.concat();
                pending.clear();
                pair.feed(&replies);
            }
            end @ (Action::Done | Action::Reconnect) => {
                if end == Action::Reconnect && left > 1 {
                    left -= 1;
                    pending.clear();
                    pair.reconnect(ehlo, &options);
                    continue;
                }
                let transactions = pair.rust.transactions();
                return (pair.records, transactions, sent);
            }
            action => {
                sent.push(action);
                match server.answer(action) {
                    Event::Reply(bytes) => pending.push(bytes),
                    Event::Lost => {
                        pending.clear();
                        pair.connection_lost();
                    }
                }
            }
        }
    }
    panic!("no end after 10000 steps: {sent:?}");
}

const ADDRESSES: [&str; 7] = [
    "a@one.example",
    "b@one.example",
    "c@two.example",
    "d@two.example",
    "e@three.example",
    "f@three.example",
    "g@four.example",
];

fn states(records: &[c::smtp_plan_recipient]) -> Vec<u32> {
    records.iter().map(|r| r.state).collect()
}

const DELIVERED: u32 = c::smtp_plan_recipient_state::SMTP_PLAN_DELIVERED as u32;
const BOUNCED: u32 = c::smtp_plan_recipient_state::SMTP_PLAN_BOUNCED as u32;
const DEFERRED: u32 = c::smtp_plan_recipient_state::SMTP_PLAN_DEFERRED as u32;
const NOT_ATTEMPTED: u32 = c::smtp_plan_recipient_state::SMTP_PLAN_NOT_ATTEMPTED as u32;

#[test]
fn recipient_limit_pipelined() {
    for byte_at_a_time in [false, true] {
        let mut server = Server::new(3);
        let ehlo = b"250-mx.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
        let (records, transactions, sent) = session(
            &ADDRESSES[..5],
            ehlo,
            PlanOptions::default(),
            &mut server,
            byte_at_a_time,
            1,
        );
        assert_eq!(states(&records), [DELIVERED; 5]);
        assert_eq!(transactions, 2);
        let rcpts: Vec<u32> = sent
            .iter()
            .filter_map(|a| match a {
                Action::Rcpt(i) => Some(*i),
                _ => None,
            })
            .collect();
        assert_eq!(rcpts, [0, 1, 2, 3, 4, 3, 4]);
    }
}

#[test]
fn no_pipelining_refusals_and_learning_off() {
    let mut server = Server::new(2);
    server.refused = vec![1, 5];
    let options = PlanOptions {
        pipelining: false,
        learn: false,
        ..PlanOptions::default()
    };
    // PIPELINING offered, not used.
    let ehlo = b"250-mx\r\n250 PIPELINING\r\n";
    let (records, transactions, _) = session(&ADDRESSES, ehlo, options, &mut server, true, 1);
    let mut want = [DELIVERED; 7];
    want[1] = BOUNCED;
    want[5] = BOUNCED;
    assert_eq!(states(&records), want);
    assert!(transactions >= 3, "{transactions}");
}

#[test]
fn limits_mailmax_and_reconnect() {
    let mut server = Server::new(0);
    let ehlo = b"250-mx\r\n250-PIPELINING\r\n250 LIMITS RCPTMAX=2 MAILMAX=2 RCPTDOMAINMAX=1\r\n";
    let (records, transactions, _) = session(
        &ADDRESSES,
        ehlo,
        PlanOptions::default(),
        &mut server,
        false,
        3,
    );
    // One domain per transaction, two per connection: a, b | c, d || e, f | g.
    assert_eq!(states(&records), [DELIVERED; 7]);
    assert_eq!(transactions, 4);
    assert_eq!(
        records.iter().map(|r| r.transaction).collect::<Vec<_>>(),
        [1, 1, 2, 2, 3, 3, 4]
    );
}

#[test]
fn a_421_then_a_lost_connection() {
    let mut server = Server::new(0);
    // Command 3 is the third RCPT (0: MAIL): 421 there ends the session.
    server.overrides = vec![(3, Event::Reply(b"421 4.3.2 Shutting down\r\n".to_vec()))];
    let ehlo = b"250-mx\r\n250 PIPELINING\r\n";
    let (records, _, _) = session(
        &ADDRESSES[..4],
        ehlo,
        PlanOptions::default(),
        &mut server,
        false,
        1,
    );
    assert!(states(&records).contains(&NOT_ATTEMPTED), "{records:?}");

    // Without pipelining: MAIL, RCPT a, RCPT b, DATA, message, then the connection drops.
    let mut server = Server::new(0);
    server.overrides = vec![(4, Event::Lost)];
    let options = PlanOptions {
        pipelining: false,
        ..PlanOptions::default()
    };
    let (records, _, _) = session(
        &ADDRESSES[..2],
        b"250 mx\r\n",
        options,
        &mut server,
        true,
        1,
    );
    assert_eq!(states(&records), [DEFERRED; 2]);
    assert!(
        records
            .iter()
            .all(|r| r.flags == c::SMTP_PLAN_POSSIBLY_DELIVERED)
    );
}

#[test]
fn lmtp_with_chunking_and_a_malformed_reply() {
    let mut server = Server::new(0);
    server.lmtp = true;
    server.refused = vec![2];
    let options = PlanOptions {
        lmtp: true,
        chunking: true,
        ..PlanOptions::default()
    };
    let lhlo = b"250-lmtp.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n";
    let (records, _, sent) = session(&ADDRESSES[..4], lhlo, options, &mut server, false, 1);
    assert!(sent.contains(&Action::BdatLast), "{sent:?}");
    assert_eq!(states(&records), [DELIVERED, DELIVERED, BOUNCED, DELIVERED]);

    // A malformed reply ends the session; the next connection does the rest.
    let mut server = Server::new(0);
    server.overrides = vec![(1, Event::Reply(b"hello?\r\n".to_vec()))];
    let (records, _, _) = session(
        &ADDRESSES[..3],
        b"250-mx\r\n250 PIPELINING\r\n",
        PlanOptions::default(),
        &mut server,
        true,
        2,
    );
    assert_eq!(states(&records), [DELIVERED; 3]);
}

/// The C side refuses what the Rust side cannot express, and a corrupted state.
#[test]
fn c_side_refusals() {
    let mut records = [c::smtp_plan_recipient::default(); 2];
    let mut plan = c::smtp_plan::default();
    let caps = c_caps(b"250 mx\r\n");
    let mut opts = c_options(&PlanOptions::default());
    opts.classify_options = c::SMTP_OPT_LMTP;
    // SAFETY: live locals.
    let init = |plan: &mut c::smtp_plan, records: &mut [c::smtp_plan_recipient], opts| unsafe {
        c::smtp_plan_init(plan, records.as_mut_ptr(), records.len(), &caps, opts)
    };
    assert_eq!(
        init(&mut plan, &mut records, &opts),
        smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT
    );
    assert_eq!(
        init(&mut plan, &mut records, &c_options(&PlanOptions::default())),
        smtp_verdict_status::SMTP_STATUS_OK
    );
    let clean = plan;
    let mut step = c::smtp_plan_step {
        struct_size: size_of::<c::smtp_plan_step>() as u32,
        ..Default::default()
    };
    // Every word of the state set to a value no planner writes is refused, the plan unchanged.
    for word in 0..plan.private_state.len() {
        for value in [u32::MAX, 0x8000_0000] {
            let mut bad = clean;
            bad.private_state[word] = value;
            let before = bad;
            // SAFETY: live locals.
            let status = unsafe { c::smtp_plan_next(&mut bad, &mut step) };
            assert!(
                matches!(
                    status,
                    smtp_verdict_status::SMTP_STATUS_OK
                        | smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT
                ),
                "{status:?}"
            );
            if status != smtp_verdict_status::SMTP_STATUS_OK {
                assert_eq!(bad.private_state, before.private_state);
            }
            // The spare words and the mode, classifier and phase words must be refused.
            if word >= 32 {
                assert_eq!(
                    status,
                    smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT,
                    "word {word}"
                );
            }
        }
    }
}

/// A newer caller's structs are larger: the library writes only what it knows, never
/// `struct_size`, and refuses options whose bytes past `sizeof` are not 0.
#[test]
fn larger_structs_are_written_only_as_far_as_known() {
    #[repr(C, align(8))]
    struct Room([u8; 128]);
    const CANARY: u8 = 0xa5;
    fn room<T>(extra: usize) -> (Room, usize) {
        let mut r = Room([CANARY; 128]);
        let size = size_of::<T>() + extra;
        r.0[..size_of::<T>()].fill(0);
        r.0[..4].copy_from_slice(&(size as u32).to_ne_bytes());
        (r, size)
    }
    let mut records = [c::smtp_plan_recipient::default(); 1];
    let mut plan = Box::new(c::smtp_plan {
        struct_size: size_of::<c::smtp_plan>() as u32 + 16,
        ..Default::default()
    });
    let (mut opts, opts_size) = room::<c::smtp_plan_options>(8);
    opts.0[12..16].copy_from_slice(&c::SMTP_PLAN_PIPELINING.to_ne_bytes());
    let caps = c_caps(b"250-mx\r\n250 PIPELINING\r\n");
    // An input struct's bytes past what the library knows must be 0: a field the caller set
    // is never silently ignored.
    // SAFETY: live locals; the options room is larger than its struct_size says.
    let status = unsafe {
        c::smtp_plan_init(
            &mut *plan,
            records.as_mut_ptr(),
            1,
            &caps,
            opts.0.as_ptr().cast(),
        )
    };
    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_INVALID_ARGUMENT);
    opts.0[size_of::<c::smtp_plan_options>()..opts_size].fill(0);
    // SAFETY: live locals; the options room is larger than its struct_size says.
    let status = unsafe {
        c::smtp_plan_init(
            &mut *plan,
            records.as_mut_ptr(),
            1,
            &caps,
            opts.0.as_ptr().cast(),
        )
    };
    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
    let (mut step, step_size) = room::<c::smtp_plan_step>(12);
    // SAFETY: the step room is 128 bytes, more than its struct_size.
    let status = unsafe { c::smtp_plan_next(&mut *plan, step.0.as_mut_ptr().cast()) };
    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
    assert_eq!(&step.0[..4], &(step_size as u32).to_ne_bytes());
    assert_eq!(
        &step.0[4..8],
        &(c::smtp_plan_action::SMTP_PLAN_SEND_MAIL as u32).to_ne_bytes()
    );
    assert!(
        step.0[size_of::<c::smtp_plan_step>()..]
            .iter()
            .all(|&b| b == CANARY)
    );
    // Pipelined: the RCPT comes before any reply.
    // SAFETY: as above.
    let status = unsafe { c::smtp_plan_next(&mut *plan, step.0.as_mut_ptr().cast()) };
    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
    assert_eq!(
        &step.0[4..8],
        &(c::smtp_plan_action::SMTP_PLAN_SEND_RCPT as u32).to_ne_bytes()
    );
    let (mut about, about_size) = room::<c::smtp_plan_reply>(4);
    let mut out = c::smtp_result {
        struct_size: size_of::<c::smtp_result>() as u32,
        ..Default::default()
    };
    let reply = b"250 2.1.0 Ok\r\n";
    // SAFETY: live locals; the about room is larger than its struct_size.
    let status = unsafe {
        c::smtp_plan_receive(
            &mut *plan,
            reply.as_ptr(),
            reply.len(),
            &mut out,
            about.0.as_mut_ptr().cast(),
        )
    };
    assert_eq!(status, smtp_verdict_status::SMTP_STATUS_OK);
    assert_eq!(&about.0[..4], &(about_size as u32).to_ne_bytes());
    assert_eq!(
        &about.0[4..8],
        &(c::smtp_command::SMTP_CMD_MAIL as u32).to_ne_bytes()
    );
    assert!(
        about.0[size_of::<c::smtp_plan_reply>()..]
            .iter()
            .all(|&b| b == CANARY)
    );
    assert_eq!(plan.struct_size, size_of::<c::smtp_plan>() as u32 + 16);
}
