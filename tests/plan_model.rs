//! The delivery planner against a simulated server, over many random sessions.
//!
//! The server draws a recipient limit (or none) and how it words it, what it advertises in
//! EHLO (PIPELINING, CHUNKING, LIMITS RCPTMAX, MAILMAX, RCPTDOMAINMAX) and enforces, per
//! recipient refusals, Exim's whole-transaction `554` after a limit, a `250` after a `452`
//! (Exim bug 2693), a refused MAIL, a 421 or a cut connection at any reply (after the final
//! dot too, with or without the message stored), LMTP; its bytes reach the planner split at
//! random places. After each session (and the reconnections the planner asks for) the
//! oracle checks that every recipient is final, that none has two copies, that the states
//! agree with what the server stored, that limits cost no recipient, that advertised limits
//! are never exceeded, and that learning leaves no RCPT refused for the limit after the first
//! transaction that met it.
//!
//! `PLAN_SESSIONS=N` sets the number of sessions (default 100,000, about 6 s unoptimised);
//! `PLAN_SEED=S` replays the session with seed S, printing its dialogue.

use smtp_verdict::{
    Action, Error, PlanOptions, Planner, Recipient, RecipientState, domain_key, parse_ehlo,
};

/// xorshift64*: small, fast, and reproducible from a seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(u64::from(hi - lo + 1)) as u32
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// What the server answers one recipient, whenever it is asked.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fate {
    Accept,
    Temporary,
    Permanent,
}

const TEMPORARY: [&str; 2] = ["450 4.2.1 Mailbox busy", "451 4.3.0 Try again later"];
const PERMANENT: [&str; 3] = [
    "550 5.1.1 User unknown",
    "552 5.2.2 Mailbox full", // a 552 that is not a recipient limit
    "553 5.1.3 Bad address",
];
/// How servers word a recipient limit after RCPT.
const OVER_LIMIT: [&str; 5] = [
    "452 4.5.3 Error: too many recipients", // Postfix
    "452 Too many recipients",              // RFC 5321, no enhanced code
    "451 4.5.3 Too many recipients",        // OpenSMTPD
    "552 5.5.3 Too many recipients",
    "552 too many recipients", // Exim recipients_max_reject, RFC 821 style
];

/// What happens at one of the server's replies.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Event {
    /// "421" instead of the reply, then the server closes.
    Shutdown,
    /// The connection breaks instead of the reply; after the message, `stored` says whether
    /// the server had kept it (the RFC 1047 case).
    Cut { stored: bool },
    /// The reply is garbled (malformed, or a code of the wrong class), then the server closes;
    /// `stored` as for `Cut`.
    Garbled { text: &'static str, stored: bool },
    /// The server goes on as if nothing happened, but the client gets only `cut` bytes of this
    /// reply and nothing after: replies lost in transit, the commands behind them carried out.
    Lost { cut: usize },
}

/// What a garbled reply may look like.
const GARBLED: [&str; 3] = ["25O 2.0.0 Ok", "354 what now?", "2"];
/// How a server refuses a whole message after it (or to BDAT).
const REFUSED_MESSAGE: [&str; 3] = [
    "552 5.3.4 Message size exceeds fixed limit",
    "451 4.3.0 Error: queue file write error",
    "554 5.7.1 Rejected by content filter",
];

#[derive(Debug)]
struct Server {
    limit: Option<usize>,
    over: &'static str,
    /// Exim: DATA gets "554 Too many recipients" when a RCPT of the transaction met the limit.
    whole_transaction: bool,
    /// A 250 may follow a 452 in the same transaction (Exim bug 2693).
    accept_after_limit: bool,
    pipelining: bool,
    chunking: bool,
    lmtp: bool,
    rcpt_max: Option<usize>,
    mail_max: Option<usize>,
    domain_max: Option<usize>,
    fates: Vec<Fate>,
    /// In LMTP, the answer after the message, per recipient.
    final_fates: Vec<Fate>,
    /// The MAIL (counted over all connections, from 1) refused, and how.
    refuse_mail: Option<(u32, Fate)>,
    /// The message (counted over all connections, from 1) refused after it, and how.
    refuse_message: Option<(u32, &'static str)>,
    messages: u32,
    message_refused: bool,
    /// The server reply (counted over all connections, from 1) where the event happens.
    event: Option<(u32, Event)>,
    domains: Vec<u32>,

    // Per connection.
    closed: bool,
    /// After a `Lost` event: replies are made but never reach the client.
    deaf: bool,
    out: Vec<u8>,
    in_transaction: bool,
    data_mode: bool,
    transaction: Vec<usize>,
    met_limit: bool,
    last_was_limit: bool,
    mails_here: usize,

    // What an observer sees.
    replies: u32,
    mails: u32,
    event_happened: bool,
    mail_refused: bool,
    copies: Vec<u32>,
    /// Per transaction, RCPTs refused for the limit.
    limit_refusals: Vec<u32>,
    /// A command past an advertised limit.
    advertised_exceeded: u32,
    /// A command out of sequence: MAIL in a transaction, the message without 354, an empty
    /// message for accepted recipients.
    protocol_errors: u32,
    log: Vec<String>,
}

impl Server {
    fn random(rng: &mut Rng, n: usize) -> Server {
        let limit = if rng.chance(80) {
            Some(rng.range(1, 6) as usize)
        } else {
            None
        };
        let over = rng.pick(&OVER_LIMIT);
        let lmtp = rng.chance(15);
        let advertise_rcpt_max = rng.chance(20);
        let fate = |rng: &mut Rng, p_temp, p_perm| {
            let x = rng.below(100);
            if x < p_temp {
                Fate::Temporary
            } else if x < p_temp + p_perm {
                Fate::Permanent
            } else {
                Fate::Accept
            }
        };
        let (p_temp, p_perm) = if rng.chance(50) { (0, 0) } else { (10, 10) };
        let fates = (0..n).map(|_| fate(rng, p_temp, p_perm)).collect();
        let final_fates = (0..n)
            .map(|_| {
                if lmtp {
                    fate(rng, 10, 10)
                } else {
                    Fate::Accept
                }
            })
            .collect();
        let domain_count = rng.range(1, 4);
        let domains = (0..n).map(|_| rng.range(1, domain_count)).collect();
        Server {
            limit: limit.filter(|_| !advertise_rcpt_max),
            over,
            // Exim's way, not an LMTP server's.
            whole_transaction: over == "552 too many recipients" && !lmtp && rng.chance(50),
            accept_after_limit: rng.chance(15),
            pipelining: rng.chance(60),
            chunking: rng.chance(20),
            lmtp,
            rcpt_max: if advertise_rcpt_max {
                Some(rng.range(1, 5) as usize)
            } else {
                None
            },
            mail_max: if rng.chance(20) {
                Some(rng.range(1, 3) as usize)
            } else {
                None
            },
            domain_max: if rng.chance(15) {
                Some(rng.range(1, 2) as usize)
            } else {
                None
            },
            fates,
            final_fates,
            refuse_mail: if rng.chance(5) {
                Some((rng.range(1, 3), fate(rng, 50, 50)))
            } else {
                None
            },
            event: if rng.chance(35) {
                let at = rng.range(1, 3 * n as u32 + 6);
                let event = match rng.below(4) {
                    0 => Event::Shutdown,
                    1 => Event::Cut {
                        stored: rng.chance(50),
                    },
                    2 => Event::Garbled {
                        text: rng.pick(&GARBLED),
                        stored: rng.chance(50),
                    },
                    _ => Event::Lost {
                        cut: rng.below(12) as usize,
                    },
                };
                Some((at, event))
            } else {
                None
            },
            refuse_message: if rng.chance(10) {
                Some((rng.range(1, 3), rng.pick(&REFUSED_MESSAGE)))
            } else {
                None
            },
            messages: 0,
            message_refused: false,
            domains,
            closed: false,
            deaf: false,
            out: Vec::new(),
            in_transaction: false,
            data_mode: false,
            transaction: Vec::new(),
            met_limit: false,
            last_was_limit: false,
            mails_here: 0,
            replies: 0,
            mails: 0,
            event_happened: false,
            mail_refused: false,
            copies: vec![0; n],
            limit_refusals: Vec::new(),
            advertised_exceeded: 0,
            protocol_errors: 0,
            log: Vec::new(),
        }
    }

    /// A new connection: its EHLO (or LHLO) reply.
    fn connect(&mut self) -> Vec<u8> {
        self.closed = false;
        self.deaf = false;
        self.out.clear();
        self.in_transaction = false;
        self.data_mode = false;
        self.mails_here = 0;
        let mut lines = vec!["mx.example.net".to_string()];
        if self.pipelining {
            lines.push("PIPELINING".into());
        }
        if self.chunking {
            lines.push("CHUNKING".into());
        }
        lines.push("ENHANCEDSTATUSCODES".into());
        let mut limits = Vec::new();
        if let Some(n) = self.rcpt_max {
            limits.push(format!("RCPTMAX={n}"));
        }
        if let Some(n) = self.mail_max {
            limits.push(format!("MAILMAX={n}"));
        }
        if let Some(n) = self.domain_max {
            limits.push(format!("RCPTDOMAINMAX={n}"));
        }
        if !limits.is_empty() {
            lines.push(format!("LIMITS {}", limits.join(" ")));
        }
        let mut reply = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            reply.extend_from_slice(format!("250{sep}{line}\r\n").as_bytes());
        }
        reply
    }

    /// Sends a reply, unless the event of this reply happens instead; false when the
    /// connection is gone.
    fn reply(&mut self, text: &str) -> bool {
        if self.closed {
            return false;
        }
        self.replies += 1;
        let line = format!("{text}\r\n");
        if let Some((at, event)) = self.event
            && at == self.replies
        {
            self.event_happened = true;
            self.log.push(format!("S: ({event:?})"));
            match event {
                Event::Shutdown => self
                    .out
                    .extend_from_slice(b"421 4.3.2 Service shutting down\r\n"),
                Event::Cut { .. } => {}
                Event::Garbled { text, .. } => {
                    self.out.extend_from_slice(format!("{text}\r\n").as_bytes())
                }
                Event::Lost { cut } => {
                    self.out
                        .extend_from_slice(&line.as_bytes()[..cut.min(line.len())]);
                    self.deaf = true;
                    return true;
                }
            }
            self.closed = true;
            return false;
        }
        self.log.push(format!(
            "S: {text}{}",
            if self.deaf { " (lost)" } else { "" }
        ));
        if !self.deaf {
            self.out.extend_from_slice(line.as_bytes());
        }
        true
    }

    /// Whether the reply about to be sent is cut or garbled with the message stored.
    fn cut_stores(&self) -> bool {
        matches!(self.event, Some((at, Event::Cut { stored: true } | Event::Garbled { stored: true, .. })) if at == self.replies + 1)
    }

    fn fate_reply(fate: Fate, i: usize) -> &'static str {
        match fate {
            Fate::Accept => "250 2.1.5 Ok",
            Fate::Temporary => TEMPORARY[i % TEMPORARY.len()],
            Fate::Permanent => PERMANENT[i % PERMANENT.len()],
        }
    }

    fn reset(&mut self) {
        self.in_transaction = false;
        self.data_mode = false;
        self.transaction.clear();
    }

    fn command(&mut self, action: Action) {
        if self.closed {
            return;
        }
        self.log.push(format!("C: {action:?}"));
        match action {
            Action::Mail => {
                self.mails += 1;
                self.mails_here += 1;
                self.limit_refusals.push(0);
                if self.in_transaction {
                    self.protocol_errors += 1;
                    self.reply("503 5.5.1 Error: nested MAIL command");
                } else if self.mail_max.is_some_and(|m| self.mails_here > m) {
                    self.advertised_exceeded += 1;
                    self.reply("452 4.5.3 Too many transactions");
                } else if let Some((at, fate)) = self.refuse_mail
                    && at == self.mails
                {
                    self.mail_refused = true;
                    self.reply(if fate == Fate::Temporary {
                        "451 4.3.0 Try later"
                    } else {
                        "550 5.7.1 Sender refused"
                    });
                } else {
                    self.reset();
                    self.in_transaction = true;
                    self.met_limit = false;
                    self.last_was_limit = false;
                    self.reply("250 2.1.0 Ok");
                }
            }
            Action::Rcpt(i) => {
                let i = i as usize;
                if !self.in_transaction {
                    self.reply("503 5.5.1 Error: need MAIL command");
                    return;
                }
                let count = self.transaction.len();
                let domain = self.domains[i];
                let mut domains: Vec<u32> =
                    self.transaction.iter().map(|&r| self.domains[r]).collect();
                domains.sort_unstable();
                domains.dedup();
                let new_domain = !domains.contains(&domain);
                if self.rcpt_max.is_some_and(|m| count >= m)
                    || self
                        .domain_max
                        .is_some_and(|m| new_domain && domains.len() >= m)
                {
                    self.advertised_exceeded += 1;
                    self.reply("452 4.5.3 Too many recipients");
                    return;
                }
                let bug = self.accept_after_limit && self.last_was_limit;
                if self.limit.is_some_and(|l| count >= l) && !bug {
                    self.met_limit = true;
                    self.last_was_limit = true;
                    let over = self.over;
                    if self.reply(over) && !self.deaf {
                        *self.limit_refusals.last_mut().unwrap() += 1;
                    }
                    return;
                }
                self.last_was_limit = false;
                let fate = self.fates[i];
                if fate == Fate::Accept {
                    self.transaction.push(i);
                }
                self.reply(Server::fate_reply(fate, i));
            }
            Action::Data => {
                if !self.in_transaction {
                    self.reply("503 5.5.1 Error: need MAIL command");
                } else if self.transaction.is_empty() {
                    self.reply("554 5.5.1 Error: no valid recipients");
                } else if self.whole_transaction && self.met_limit {
                    self.reply("554 Too many recipients");
                } else {
                    self.data_mode = true;
                    self.reply("354 End data with <CR><LF>.<CR><LF>");
                }
            }
            Action::Message | Action::EmptyMessage => {
                // The message without a 354, or an empty one for accepted recipients.
                if !self.data_mode || action == Action::EmptyMessage && !self.transaction.is_empty()
                {
                    self.protocol_errors += 1;
                }
                self.store();
            }
            Action::BdatLast => {
                if !self.in_transaction {
                    self.reply("503 5.5.1 Error: need MAIL command");
                } else if self.transaction.is_empty() {
                    self.reply("554 5.5.1 Error: no valid recipients");
                } else if self.whole_transaction && self.met_limit {
                    self.reply("554 Too many recipients");
                } else {
                    self.store();
                }
            }
            Action::Rset => {
                self.reset();
                self.reply("250 2.0.0 Ok");
            }
            Action::Quit => {
                self.reply("221 2.0.0 Bye");
                self.closed = true;
            }
            Action::Wait | Action::Done | Action::Reconnect => unreachable!(),
        }
    }

    /// The message is in: keep it for the transaction's recipients and answer.
    fn store(&mut self) {
        let recipients = std::mem::take(&mut self.transaction);
        if recipients.is_empty() {
            if !self.lmtp {
                self.reply("554 5.5.1 Error: no valid recipients");
            }
        } else if self.lmtp {
            for &r in &recipients {
                let fate = self.final_fates[r];
                if fate == Fate::Accept && (self.cut_stores() || self.next_reply_is_normal()) {
                    self.copies[r] += 1;
                }
                let text = match fate {
                    Fate::Accept => "250 2.0.0 Delivered",
                    _ => Server::fate_reply(fate, r),
                };
                self.reply(text);
            }
        } else {
            self.messages += 1;
            if let Some((n, text)) = self.refuse_message
                && n == self.messages
            {
                self.message_refused = true;
                self.reply(text);
                self.reset();
                return;
            }
            if self.cut_stores() || self.next_reply_is_normal() {
                for &r in &recipients {
                    self.copies[r] += 1;
                }
            }
            self.reply("250 2.0.0 Ok: queued");
        }
        self.reset();
    }

    /// The server carries out the next reply as it is (no event there but a `Lost`, which
    /// changes nothing at the server, and the connection is up).
    fn next_reply_is_normal(&self) -> bool {
        !self.closed
            && !matches!(self.event, Some((at, e)) if at == self.replies + 1 && !matches!(e, Event::Lost { .. }))
    }
}

struct Outcome {
    connections: u32,
    actions: u32,
}

/// Runs one session (and its reconnections), then checks it; panics with the seed on a
/// failure.
fn session(seed: u64, verbose: bool) -> Outcome {
    let mut rng = Rng::new(seed);
    let n = if rng.chance(10) {
        rng.range(13, 40)
    } else {
        rng.range(1, 12)
    } as usize;
    let mut server = Server::random(&mut rng, n);
    let options = PlanOptions {
        max_recipients: if rng.chance(10) { rng.range(1, 4) } else { 0 },
        pipelining: rng.chance(80),
        chunking: rng.chance(50),
        lmtp: server.lmtp,
        learn: rng.chance(85),
        ..PlanOptions::default()
    };
    let mut records: Vec<Recipient> = (0..n)
        .map(|i| {
            Recipient::new(domain_key(
                format!("u{i}@d{}.example", server.domains[i]).as_bytes(),
            ))
        })
        .collect();
    let ehlo = server.connect();
    let caps = parse_ehlo(&ehlo).expect("the simulated EHLO parses");
    let mut plan = Planner::new(&mut records, &caps, &options);
    let (mut connections, mut actions) = (1u32, 0u32);
    let mut input: Vec<u8> = Vec::new();
    let budget = 40 * (n as u32 + 5) * 4;
    let failure = |why: String, server: &Server| -> ! {
        panic!(
            "seed {seed}: {why}\nserver: limit {:?} over {:?} whole {} bug {} pipelining {} chunking {} lmtp {} rcpt_max {:?} mail_max {:?} domain_max {:?} refuse_mail {:?} event {:?}\noptions: {options:?}\n{}",
            server.limit,
            server.over,
            server.whole_transaction,
            server.accept_after_limit,
            server.pipelining,
            server.chunking,
            server.lmtp,
            server.rcpt_max,
            server.mail_max,
            server.domain_max,
            server.refuse_mail,
            server.event,
            server.log.join("\n")
        )
    };
    loop {
        actions += 1;
        if actions > budget {
            failure(format!("no end after {budget} actions: a loop"), &server);
        }
        let action = plan.next_action();
        match action {
            Action::Wait => {
                if server.out.is_empty() {
                    if server.closed || server.deaf {
                        input.clear();
                        plan.connection_lost();
                        continue;
                    }
                    failure(
                        "the planner waits for a reply that no command asked for".into(),
                        &server,
                    );
                }
                // Some of what the server sent: any split, often all of it.
                let take = if rng.chance(50) {
                    server.out.len()
                } else {
                    1 + rng.below(server.out.len() as u64) as usize
                };
                input.extend(server.out.drain(..take));
                while !input.is_empty() {
                    match plan.receive(&input) {
                        Ok(r) => {
                            input.drain(..r.classification.consumed);
                        }
                        Err(Error::Incomplete) if !(server.deaf && server.out.is_empty()) => break,
                        Err(Error::Incomplete) => {
                            // The rest of this reply was lost in transit.
                            input.clear();
                            plan.connection_lost();
                        }
                        Err(_) if matches!(server.event, Some((_, Event::Garbled { .. }))) => {
                            input.clear();
                        }
                        Err(e) => failure(format!("a well-formed reply refused: {e}"), &server),
                    }
                }
            }
            Action::Done => break,
            Action::Reconnect => {
                if connections == 20 {
                    break;
                }
                connections += 1;
                input.clear();
                let ehlo = server.connect();
                let caps = parse_ehlo(&ehlo).expect("the simulated EHLO parses");
                assert!(plan.reconnect(&caps, &options));
            }
            command => server.command(command),
        }
    }
    let transactions = plan.transactions();
    if verbose {
        eprintln!("{}", server.log.join("\n"));
    }
    check(&server, &records, &options, transactions).unwrap_or_else(|why| failure(why, &server));
    Outcome {
        connections,
        actions,
    }
}

/// The oracle.
fn check(
    server: &Server,
    records: &[Recipient],
    options: &PlanOptions,
    transactions: u32,
) -> Result<(), String> {
    if server.advertised_exceeded > 0 {
        return Err(format!(
            "{} commands past an advertised limit",
            server.advertised_exceeded
        ));
    }
    if server.protocol_errors > 0 {
        return Err(format!(
            "{} commands out of sequence",
            server.protocol_errors
        ));
    }
    let disturbed = server.event_happened || server.mail_refused || server.message_refused;
    let gave_up = records
        .iter()
        .any(|r| r.state() == Some(RecipientState::NotAttempted));
    for (i, r) in records.iter().enumerate() {
        let state = r.state().ok_or(format!("recipient {i}: no state"))?;
        let copies = server.copies[i];
        if !state.is_final() {
            return Err(format!("recipient {i}: {state:?} at the end"));
        }
        if copies > 1 {
            return Err(format!("recipient {i}: {copies} copies"));
        }
        let consistent = match state {
            RecipientState::Delivered => copies == 1,
            RecipientState::Deferred if r.possibly_delivered() => true,
            _ => copies == 0,
        };
        if !consistent {
            return Err(format!("recipient {i}: {state:?} with {copies} copies"));
        }
        if r.possibly_delivered()
            && !matches!(
                server.event,
                Some((
                    _,
                    Event::Cut { .. } | Event::Garbled { .. } | Event::Lost { .. }
                ))
            )
        {
            return Err(format!(
                "recipient {i}: possibly delivered without a cut connection"
            ));
        }
        // A limit never costs a recipient: only its own refusals (or a disturbance) do.
        let refused = server.fates[i] != Fate::Accept || server.final_fates[i] != Fate::Accept;
        if !disturbed && !gave_up && !refused && state != RecipientState::Delivered {
            return Err(format!(
                "recipient {i}: {state:?} ({} {:?}) although the server takes it",
                r.code(),
                r.enhanced()
            ));
        }
        if state == RecipientState::Bounced
            && !refused
            && !server.mail_refused
            && !server.message_refused
        {
            return Err(format!(
                "recipient {i}: bounced ({}) for no refusal of its own",
                r.code()
            ));
        }
    }
    if let Some(m) = server.mail_max
        && !gave_up
        && !disturbed
        && server.mails as usize > m * 20
    {
        return Err(format!("{} transactions", server.mails));
    }
    // Learning: after the first transaction that met the limit, no RCPT is refused for it.
    if options.learn && !server.accept_after_limit && options.max_recipients == 0 {
        if let Some(first) = server.limit_refusals.iter().position(|&n| n > 0) {
            let later: u32 = server.limit_refusals[first + 1..].iter().sum();
            if later > 0 {
                return Err(format!(
                    "{later} RCPTs refused for the limit after it was learned"
                ));
            }
        }
    }
    // MAILs sent after the server closed are counted by the planner, not the server.
    if transactions < server.mails {
        return Err(format!(
            "{transactions} transactions counted, {} MAILs received",
            server.mails
        ));
    }
    Ok(())
}

#[test]
fn random_sessions_keep_every_recipient_exactly_once() {
    if let Ok(seed) = std::env::var("PLAN_SEED") {
        session(seed.parse().expect("PLAN_SEED is a number"), true);
        return;
    }
    let default = if cfg!(debug_assertions) {
        20_000
    } else {
        100_000
    };
    let sessions: u64 = std::env::var("PLAN_SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    let (mut connections, mut actions) = (0u64, 0u64);
    let started = std::time::Instant::now();
    for seed in 0..sessions {
        let outcome = session(seed, false);
        connections += u64::from(outcome.connections);
        actions += u64::from(outcome.actions);
    }
    eprintln!(
        "plan_model: {sessions} sessions, {connections} connections, {actions} actions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
