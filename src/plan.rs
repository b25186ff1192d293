//! The delivery planner: what to send next in a session, and what became of each recipient.
//!
//! Sans-I/O: the caller owns the socket, the addresses and the message, and the memory the
//! planner works in (one [`Recipient`] record per recipient). It asks [`Planner::next_action`]
//! what to send, hands every byte the server sends to [`Planner::receive`], and reads each
//! recipient's final state from its record. The planner keeps the queue of commands awaiting
//! their replies, so each reply is classified against the command it answers, with the
//! transaction's counts that the batch-limit rules need (POLICY.md 4).
//!
//! Why it cannot loop: a batch-limited recipient goes back to the queue in its place, and the
//! queue is served lowest index first, so it comes first in a later transaction, where the same
//! reply with nothing accepted is a plain retry. A whole-transaction limit makes the learned
//! limit smaller than the transaction that hit it (it had a refused RCPT), so it can happen
//! only so many times; every other transaction settles at least one recipient.

use crate::{
    Capabilities, Classification, Command, Context, EnhancedCode, Error, Extensions, Options,
    Scanner, Scope, Verdict,
};

/// Where a recipient stands. The last four are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecipientState {
    /// Waiting for a transaction (not yet tried, or batch-limited and waiting for the next).
    Pending = 0,
    /// Chosen for the transaction being sent; its RCPT is not sent yet.
    Queued = 1,
    /// Its RCPT is sent; the reply has not come.
    Sent = 2,
    /// The server accepted its RCPT; the message has not been accepted yet.
    Accepted = 3,
    /// The server took the message for it.
    Delivered = 4,
    /// Refused for now: try again later. See [`Recipient::possibly_delivered`].
    Deferred = 5,
    /// Refused for good: bounce it.
    Bounced = 6,
    /// Not decided on this connection (MAILMAX reached, 421, connection lost): send it on
    /// another connection ([`Planner::reconnect`]).
    NotAttempted = 7,
}

impl RecipientState {
    const ALL: [RecipientState; 8] = [
        RecipientState::Pending,
        RecipientState::Queued,
        RecipientState::Sent,
        RecipientState::Accepted,
        RecipientState::Delivered,
        RecipientState::Deferred,
        RecipientState::Bounced,
        RecipientState::NotAttempted,
    ];

    /// The state numbered `n` (the numbers of the C ABI).
    pub fn from_u32(n: u32) -> Option<RecipientState> {
        RecipientState::ALL.get(usize::try_from(n).ok()?).copied()
    }

    /// Delivered, deferred, bounced or not attempted.
    pub fn is_final(self) -> bool {
        self as u32 >= RecipientState::Delivered as u32
    }

    /// A lower-case name for logs, such as `"not-attempted"`.
    pub fn name(self) -> &'static str {
        // The names are ASCII: the conversion cannot fail.
        self.c_name().to_str().unwrap_or_default()
    }

    /// [`RecipientState::name`] as a C string, for foreign callers: the one table of the names.
    pub fn c_name(self) -> &'static core::ffi::CStr {
        match self {
            RecipientState::Pending => c"pending",
            RecipientState::Queued => c"queued",
            RecipientState::Sent => c"sent",
            RecipientState::Accepted => c"accepted",
            RecipientState::Delivered => c"delivered",
            RecipientState::Deferred => c"deferred",
            RecipientState::Bounced => c"bounced",
            RecipientState::NotAttempted => c"not-attempted",
        }
    }
}

/// One recipient's record, in memory the caller provides (the caller keeps the address; the
/// record's index is the recipient's number in every [`Action::Rcpt`]).
///
/// The layout is the C ABI's `smtp_plan_recipient`: plain integers, so any bytes are a record
/// (a state the planner does not know is left alone).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Recipient {
    pub(crate) state: u32,
    pub(crate) code: u32,
    pub(crate) enhanced_class: u32,
    pub(crate) enhanced_subject: u32,
    pub(crate) enhanced_detail: u32,
    pub(crate) flags: u32,
    pub(crate) domain: u32,
    pub(crate) attempts: u32,
    pub(crate) transaction: u32,
    pub(crate) reply: u32,
    pub(crate) reserved: [u32; 2],
}

/// Record flag: the connection was lost after the final dot and before its reply, so the
/// message may have been delivered (RFC 1047). The recipient is deferred, never delivered or
/// bounced: a retry may make a duplicate, which is better than a loss.
pub const POSSIBLY_DELIVERED: u32 = 1;

impl Recipient {
    /// A pending recipient whose domain is `domain`: any number that is equal for two
    /// recipients exactly when their domains are (see [`domain_key`]); it matters only when
    /// the server advertises RCPTDOMAINMAX.
    pub const fn new(domain: u32) -> Recipient {
        Recipient {
            state: 0,
            code: 0,
            enhanced_class: 0,
            enhanced_subject: 0,
            enhanced_detail: 0,
            flags: 0,
            domain,
            attempts: 0,
            transaction: 0,
            reply: 0,
            reserved: [0; 2],
        }
    }
    /// `None` only for a record overwritten with a state no planner writes.
    pub fn state(&self) -> Option<RecipientState> {
        RecipientState::from_u32(self.state)
    }
    /// The code of the reply that decided the state (0: none, such as a connection lost).
    pub fn code(&self) -> u16 {
        self.code as u16
    }
    /// The enhanced code of that reply.
    pub fn enhanced(&self) -> Option<EnhancedCode> {
        let class = u8::try_from(self.enhanced_class).ok()?;
        let subject = u16::try_from(self.enhanced_subject).ok()?;
        let detail = u16::try_from(self.enhanced_detail).ok()?;
        EnhancedCode::new(class, subject, detail)
    }
    /// Deferred because the connection was lost while the server had the whole message.
    pub fn possibly_delivered(&self) -> bool {
        self.flags & POSSIBLY_DELIVERED != 0
    }
    pub fn domain(&self) -> u32 {
        self.domain
    }
    /// RCPT commands sent for it, on every connection.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// The transaction (1 for the planner's first MAIL) it was last sent in, 0 for none.
    pub fn transaction(&self) -> u32 {
        self.transaction
    }
    /// The number of the reply (1 for the first the planner read) that decided its state, to
    /// find that reply's text in the caller's log; 0 for none.
    pub fn reply(&self) -> u32 {
        self.reply
    }

    fn is(&self, state: RecipientState) -> bool {
        self.state == state as u32
    }
    fn set(&mut self, state: RecipientState) {
        self.state = state as u32;
    }
    fn decide(
        &mut self,
        state: RecipientState,
        code: u16,
        enhanced: Option<EnhancedCode>,
        reply: u32,
    ) {
        self.set(state);
        self.code = u32::from(code);
        let (class, subject, detail) = enhanced.map_or((0, 0, 0), |e| e.parts());
        self.enhanced_class = u32::from(class);
        self.enhanced_subject = u32::from(subject);
        self.enhanced_detail = u32::from(detail);
        self.reply = reply;
    }
}

/// A key for the domain of `address` (the part after the last `@`, without case), for
/// [`Recipient::new`]. Two domains may share a key only by a 32-bit hash collision.
pub fn domain_key(address: &[u8]) -> u32 {
    let domain = match memchr::memrchr(b'@', address) {
        Some(at) => &address[at + 1..],
        None => &[],
    };
    // FNV-1a: small and good enough to tell a transaction's domains apart.
    let mut hash: u32 = 0x811c_9dc5;
    for &b in domain {
        hash = (hash ^ u32::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0193);
    }
    hash
}

/// How the planner works, beside what the server advertises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PlanOptions {
    /// Recipients per transaction at most, whatever the server says (0: no limit of ours).
    pub max_recipients: u32,
    /// Transactions per connection at most (0: no limit of ours).
    pub max_transactions: u32,
    /// Pipeline MAIL, the RCPTs and DATA when the server offers PIPELINING (RFC 2920).
    pub pipelining: bool,
    /// Send the message with `BDAT <size> LAST` when the server offers CHUNKING (RFC 3030).
    pub chunking: bool,
    /// LMTP (RFC 2033): one reply per accepted recipient after the message.
    pub lmtp: bool,
    /// After a recipient limit that came with k recipients accepted, send at most k per
    /// transaction. Off, every transaction tries as many as the other limits allow (the whole
    /// transaction limit is always learned: without it a transaction could repeat forever).
    pub learn: bool,
    /// Classifier options: [`Options::STRICT`], [`Options::PERMANENT_552`] (LMTP is set from
    /// `lmtp`).
    pub classify: Options,
}

impl Default for PlanOptions {
    fn default() -> PlanOptions {
        PlanOptions {
            max_recipients: 0,
            max_transactions: 0,
            pipelining: true,
            chunking: false,
            lmtp: false,
            learn: true,
            classify: Options::default(),
        }
    }
}

/// What the caller does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Send `MAIL FROM:<sender>`.
    Mail,
    /// Send `RCPT TO:<address>` for the recipient with this index.
    Rcpt(u32),
    /// Send `DATA`.
    Data,
    /// Send the message, dot-stuffed, and the final `.` line (the server said 354).
    Message,
    /// Send the final `.` line alone: the server said 354 although it accepted no recipient.
    EmptyMessage,
    /// Send `BDAT <size> LAST` and the message (not dot-stuffed).
    BdatLast,
    /// Send `RSET`.
    Rset,
    /// Send `QUIT`.
    Quit,
    /// Read from the server and hand the bytes to [`Planner::receive`].
    Wait,
    /// Close the connection: every recipient is in a final state.
    Done,
    /// Close the connection: every recipient is final, and those
    /// [`RecipientState::NotAttempted`] want another connection ([`Planner::reconnect`]).
    Reconnect,
}

/// What one reply was about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Received {
    /// The command it answered ([`Command::Unknown`] when no command was waiting for a reply).
    pub command: Command,
    /// The recipient it was about: a RCPT's, or an LMTP reply's after the message.
    pub recipient: Option<u32>,
    /// The classification; its `text` and `consumed` are positions in the input given.
    pub classification: Classification,
    /// The reply's number (1 for the first the planner read), as recipients' records keep it.
    pub number: u32,
}

/// The planner's own state: plain integers, so that the C ABI can keep it in caller memory
/// and any values there are safe (they can only make the planner send the wrong thing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct State {
    /// Limits in force (0: none).
    pub(crate) rcpt_max: u32,
    pub(crate) mail_max: u32,
    pub(crate) domain_max: u32,
    /// What a recipient limit taught: recipients per transaction at most (0: nothing yet).
    pub(crate) learned: u32,
    /// MODE_* bits.
    pub(crate) mode: u32,
    /// The classifier's [`Options`] bits.
    pub(crate) classify: u32,
    pub(crate) phase: u32,
    /// MAIL commands sent on this connection, and on all (the transactions' numbers).
    pub(crate) mails: u32,
    pub(crate) transactions: u32,
    /// Replies read, on all connections.
    pub(crate) replies: u32,
    /// No record below it is pending.
    pub(crate) first_pending: u32,
    /// Where the search starts for the next RCPT to send, for the recipient of the next RCPT
    /// reply, and for that of the next LMTP reply after the message.
    pub(crate) send_from: u32,
    pub(crate) reply_from: u32,
    pub(crate) end_from: u32,
    /// Recipients queued for this transaction whose RCPT is not sent yet.
    pub(crate) unsent: u32,
    /// The transaction's counts that the classifier needs.
    pub(crate) accepted: u32,
    pub(crate) limited: u32,
    /// Replies awaited, by command, in the order they come.
    pub(crate) await_rset: u32,
    pub(crate) await_mail: u32,
    pub(crate) await_rcpt: u32,
    pub(crate) await_data: u32,
    pub(crate) await_end: u32,
    pub(crate) await_quit: u32,
    /// TX_* bits.
    pub(crate) tx: u32,
    pub(crate) scanner: [u32; Scanner::WORDS],
}

impl State {
    /// Replies to the message with `accepted` recipients: one, or in LMTP one per accepted
    /// recipient (one refusal when none was, after a BDAT LAST sent before the RCPT replies).
    fn end_replies(&self, accepted: u32) -> u32 {
        if self.mode & MODE_LMTP != 0 {
            accepted.max(1)
        } else {
            1
        }
    }
}

const MODE_PIPELINING: u32 = 1;
const MODE_CHUNKING: u32 = 2;
const MODE_LMTP: u32 = 4;
const MODE_LEARN: u32 = 8;

/// RSET is to be sent before MAIL.
const TX_RSET_DUE: u32 = 1;
const TX_MAIL_DUE: u32 = 2;
/// DATA or BDAT LAST is to be sent.
const TX_DATA_DUE: u32 = 4;
/// 354 came: the message is to be sent.
const TX_MESSAGE_DUE: u32 = 8;
/// MAIL was accepted and the message's reply has not come: the server's transaction is open.
const TX_OPEN: u32 = 16;
/// MAIL was refused: its verdict settled everyone, the transaction's other replies decide
/// nothing.
const TX_MAIL_REFUSED: u32 = 32;
/// The message went out whole (after 354, or with BDAT LAST): a connection lost before its
/// reply may have delivered it.
const TX_MESSAGE_SENT: u32 = 128;
/// BDAT LAST went out before the RCPT replies: in LMTP, the count of its replies is known
/// only when they are in.
const TX_BDAT_EARLY: u32 = 256;

const IDLE: u32 = 0;
const IN_TRANSACTION: u32 = 1;
const QUITTING: u32 = 2;
const OVER: u32 = 3;

/// The smaller of two limits, 0 meaning none.
fn tighter(a: u32, b: u32) -> u32 {
    match (a, b) {
        (0, b) => b,
        (a, 0) => a,
        (a, b) => a.min(b),
    }
}

/// The planner for one message on one connection (and, through [`Planner::reconnect`], the
/// next ones). It allocates nothing: its records are the caller's slice.
///
/// ```
/// use smtp_verdict::{parse_ehlo, Action, Planner, PlanOptions, Recipient, RecipientState};
///
/// let caps = parse_ehlo(b"250-mx.example.net\r\n250 PIPELINING\r\n").unwrap();
/// let mut records = [Recipient::new(0); 2];
/// let mut plan = Planner::new(&mut records, &caps, &PlanOptions::default());
/// let mut sent = Vec::new();
/// while let action @ (Action::Mail | Action::Rcpt(_) | Action::Data) = plan.next_action() {
///     sent.push(action);
/// }
/// assert_eq!(sent, [Action::Mail, Action::Rcpt(0), Action::Rcpt(1), Action::Data]);
/// let mut replies: &[u8] = b"250 ok\r\n250 ok\r\n452 4.5.3 Too many recipients\r\n354 go\r\n";
/// while !replies.is_empty() {
///     let reply = plan.receive(replies).unwrap();
///     replies = &replies[reply.classification.consumed..];
/// }
/// assert_eq!(plan.next_action(), Action::Message);
/// plan.receive(b"250 2.0.0 queued\r\n").unwrap();
/// assert_eq!(plan.next_action(), Action::Mail); // recipient 1 again, at once
/// # drop(plan);
/// assert_eq!(records[0].state(), Some(RecipientState::Delivered));
/// ```
#[derive(Debug)]
pub struct Planner<'r> {
    pub(crate) state: State,
    recipients: &'r mut [Recipient],
}

impl<'r> Planner<'r> {
    /// A planner for `recipients` (made by [`Recipient::new`]; all but their domains are
    /// reset) on a connection whose EHLO or LHLO reply was `caps`.
    ///
    /// At most `u32::MAX` records are used; any more are left alone.
    pub fn new(
        recipients: &'r mut [Recipient],
        caps: &Capabilities,
        options: &PlanOptions,
    ) -> Self {
        let len = recipients.len().min(u32::MAX as usize);
        let recipients = &mut recipients[..len];
        for r in recipients.iter_mut() {
            *r = Recipient::new(r.domain);
        }
        let mut classify = options.classify;
        if options.lmtp {
            classify = classify | Options::LMTP;
        }
        let mut mode = 0;
        if options.lmtp {
            mode |= MODE_LMTP;
        }
        if options.learn {
            mode |= MODE_LEARN;
        }
        let mut planner = Planner {
            state: State {
                mode,
                classify: classify.bits(),
                ..State::default()
            },
            recipients,
        };
        planner.connect(caps, options);
        planner
    }

    /// The planner with `state` over `recipients`, for the C ABI whose state is in caller
    /// memory.
    pub(crate) fn from_parts(state: State, recipients: &'r mut [Recipient]) -> Self {
        let len = recipients.len().min(u32::MAX as usize);
        Planner {
            state,
            recipients: &mut recipients[..len],
        }
    }

    /// A new connection's limits and extensions; the rest of the state stays.
    fn connect(&mut self, caps: &Capabilities, options: &PlanOptions) {
        let s = &mut self.state;
        s.rcpt_max = tighter(options.max_recipients, caps.limits.rcpt_max.unwrap_or(0));
        s.mail_max = tighter(options.max_transactions, caps.limits.mail_max.unwrap_or(0));
        s.domain_max = caps.limits.rcpt_domain_max.unwrap_or(0);
        s.mode &= MODE_LMTP | MODE_LEARN;
        if options.pipelining && caps.has(Extensions::PIPELINING) {
            s.mode |= MODE_PIPELINING;
        }
        if options.chunking && caps.has(Extensions::CHUNKING) {
            s.mode |= MODE_CHUNKING;
        }
    }

    /// The records, in the order given.
    pub fn recipients(&self) -> &[Recipient] {
        self.recipients
    }

    /// Recipients per transaction at most, from every limit known now (0: none).
    pub fn batch_limit(&self) -> u32 {
        tighter(self.state.rcpt_max, self.state.learned)
    }

    /// Transactions started, on every connection.
    pub fn transactions(&self) -> u32 {
        self.state.transactions
    }

    /// Whether the commands sent use pipelining (the server offers it and the options ask).
    pub fn pipelining(&self) -> bool {
        self.state.mode & MODE_PIPELINING != 0
    }

    /// The command whose reply comes next, if one is awaited.
    pub fn awaited(&self) -> Option<Command> {
        let s = &self.state;
        Some(if s.await_rset > 0 {
            Command::Rset
        } else if s.await_mail > 0 {
            Command::Mail
        } else if s.await_rcpt > 0 {
            Command::Rcpt
        } else if s.await_data > 0 {
            Command::Data
        } else if s.await_end > 0 {
            if s.mode & MODE_CHUNKING != 0 {
                Command::BdatLast
            } else {
                Command::DataEnd
            }
        } else if s.await_quit > 0 {
            Command::Quit
        } else {
            return None;
        })
    }

    /// What to send next, or [`Action::Wait`] for replies, or the end. A call that returns a
    /// command counts it as sent: send it before the next call.
    ///
    /// With pipelining, MAIL, the RCPTs and DATA (or BDAT LAST) come one after the other
    /// before the first wait (RFC 2920: send them together); without, each waits its reply.
    pub fn next_action(&mut self) -> Action {
        loop {
            let waiting = self.awaited().is_some();
            match self.state.phase {
                OVER => return self.end(),
                QUITTING => return Action::Wait,
                IDLE => {
                    if !self.start_transaction() {
                        self.state.phase = QUITTING;
                        self.state.await_quit = 1;
                        return Action::Quit;
                    }
                    continue;
                }
                _ => {}
            }
            if waiting && !self.pipelining() {
                return Action::Wait;
            }
            if let Some(action) = self.next_command() {
                return action;
            }
            if waiting {
                return Action::Wait;
            }
            self.finish_transaction();
        }
    }

    /// The transaction's next command, if one is due now.
    fn next_command(&mut self) -> Option<Action> {
        let s = &mut self.state;
        if s.tx & TX_RSET_DUE != 0 {
            s.tx &= !TX_RSET_DUE;
            s.await_rset = 1;
            return Some(Action::Rset);
        }
        if s.tx & TX_MAIL_DUE != 0 {
            s.tx &= !TX_MAIL_DUE;
            s.mails = s.mails.saturating_add(1);
            s.transactions = s.transactions.wrapping_add(1);
            s.await_mail = 1;
            return Some(Action::Mail);
        }
        if s.tx & TX_MESSAGE_DUE != 0 {
            s.tx &= !TX_MESSAGE_DUE;
            if s.accepted == 0 {
                // RFC 2033: in LMTP nobody accepted means no reply at all.
                s.await_end = u32::from(s.mode & MODE_LMTP == 0);
                return Some(Action::EmptyMessage);
            }
            s.tx |= TX_MESSAGE_SENT;
            s.await_end = s.end_replies(s.accepted);
            return Some(Action::Message);
        }
        if s.tx & TX_MAIL_REFUSED != 0 {
            return None;
        }
        if s.unsent > 0 && s.limited == 0 {
            let tx = s.transactions;
            if let Some(i) = self.find(self.state.send_from, RecipientState::Queued) {
                let r = &mut self.recipients[i as usize];
                r.set(RecipientState::Sent);
                r.attempts = r.attempts.saturating_add(1);
                r.transaction = tx;
                let s = &mut self.state;
                s.send_from = i + 1;
                s.unsent = s.unsent.saturating_sub(1);
                s.await_rcpt = s.await_rcpt.saturating_add(1);
                return Some(Action::Rcpt(i));
            }
        }
        if self.state.unsent > 0 {
            // After a recipient limit the rest wait for the next transaction.
            self.unqueue();
        }
        let s = &mut self.state;
        if s.tx & TX_DATA_DUE == 0 {
            return None;
        }
        s.tx &= !TX_DATA_DUE;
        if s.mode & MODE_PIPELINING == 0 && s.accepted == 0 {
            return None; // nobody accepted: no DATA
        }
        if s.mode & MODE_CHUNKING == 0 {
            s.await_data = 1;
            return Some(Action::Data);
        }
        s.tx |= TX_MESSAGE_SENT;
        if s.await_rcpt > 0 {
            s.tx |= TX_BDAT_EARLY;
            s.await_end = 1;
        } else {
            s.await_end = s.end_replies(s.accepted);
        }
        Some(Action::BdatLast)
    }

    fn end(&self) -> Action {
        if self
            .recipients
            .iter()
            .any(|r| r.is(RecipientState::NotAttempted))
        {
            Action::Reconnect
        } else {
            Action::Done
        }
    }

    /// The first record at or after `from` in `state`.
    fn find(&self, from: u32, state: RecipientState) -> Option<u32> {
        let rest = self.recipients.get(from as usize..)?;
        let i = rest.iter().position(|r| r.is(state))?;
        Some(from + i as u32)
    }

    /// Queues the next transaction's recipients, lowest index first within every limit;
    /// false when there is none to do (every record is final, or is made not attempted here
    /// because MAILMAX is reached).
    fn start_transaction(&mut self) -> bool {
        let Some(first) = self.find(self.state.first_pending, RecipientState::Pending) else {
            self.state.first_pending = self.recipients.len() as u32;
            return false;
        };
        let s = self.state;
        if s.mail_max != 0 && s.mails >= s.mail_max {
            for r in self
                .recipients
                .iter_mut()
                .filter(|r| r.is(RecipientState::Pending))
            {
                r.decide(RecipientState::NotAttempted, 0, None, 0);
            }
            return false;
        }
        let cap = match self.batch_limit() {
            0 => u32::MAX,
            n => n,
        };
        let first = first as usize;
        let (mut count, mut domains) = (0, 0);
        for i in first..self.recipients.len() {
            if !self.recipients[i].is(RecipientState::Pending) {
                continue;
            }
            if s.domain_max != 0 {
                let domain = self.recipients[i].domain;
                let queued = &self.recipients[first..i];
                if !queued
                    .iter()
                    .any(|r| r.is(RecipientState::Queued) && r.domain == domain)
                {
                    if domains == s.domain_max {
                        continue;
                    }
                    domains += 1;
                }
            }
            self.recipients[i].set(RecipientState::Queued);
            count += 1;
            if count == cap {
                break;
            }
        }
        let first = first as u32;
        let s = &mut self.state;
        s.phase = IN_TRANSACTION;
        s.first_pending = first;
        s.send_from = first;
        s.reply_from = first;
        s.end_from = first;
        s.unsent = count;
        s.accepted = 0;
        s.limited = 0;
        // A transaction left open at the server (DATA refused, nobody accepted) is reset.
        let rset = if s.tx & TX_OPEN != 0 { TX_RSET_DUE } else { 0 };
        s.tx = rset | TX_MAIL_DUE | TX_DATA_DUE;
        true
    }

    /// Records queued whose RCPT was not sent go back to pending.
    fn unqueue(&mut self) {
        let from = self.state.send_from as usize;
        for r in self.recipients.get_mut(from..).unwrap_or_default() {
            if r.is(RecipientState::Queued) {
                r.set(RecipientState::Pending);
            }
        }
        self.state.unsent = 0;
    }

    /// Every reply of the transaction is in: the next one can be chosen.
    fn finish_transaction(&mut self) {
        self.unqueue();
        self.state.tx &= TX_OPEN;
        self.state.phase = IDLE;
    }

    /// Reads the first reply in `input` (the bytes received and not consumed yet, from the
    /// start of a reply) as the answer to the command awaited.
    ///
    /// On `Ok`, `classification.consumed` bytes were used: drop them, and call again while
    /// bytes remain (pipelined replies come together). [`Error::Incomplete`]: read more and
    /// call again with the same bytes grown at the end; the planner's scanner goes on where
    /// it stopped. A malformed or over-long reply, or one that nothing awaited, ends the
    /// session: the error is returned and the next action is the end.
    pub fn receive(&mut self, input: &[u8]) -> Result<Received, Error> {
        let command = self.awaited().unwrap_or(Command::Unknown);
        let ctx = Context {
            command,
            accepted_recipients: self.state.accepted,
            limited_recipients: self.state.limited,
            options: Options::from_bits(self.state.classify).unwrap_or_default(),
        };
        let mut scanner = Scanner::from_words(&self.state.scanner).unwrap_or_default();
        let outcome = scanner.classify(input, &ctx);
        self.state.scanner = scanner.to_words();
        if outcome == Err(Error::Incomplete) {
            return Err(Error::Incomplete);
        }
        self.state.replies = self.state.replies.wrapping_add(1);
        let number = self.state.replies;
        let classification = match outcome {
            Ok(c) => c,
            Err(e) => {
                self.end_session(0, None, number, false);
                return Err(e);
            }
        };
        let recipient = self.apply(command, &classification, number);
        Ok(Received {
            command,
            recipient,
            classification,
            number,
        })
    }

    /// The connection is gone (end of file, a failed write, a timeout). Whoever is not final
    /// is not attempted, but for the recipients of a message sent whole and not answered yet:
    /// deferred, flagged possibly delivered (RFC 1047), never delivered or bounced.
    pub fn connection_lost(&mut self) {
        if self.state.phase == OVER {
            return;
        }
        self.end_session(0, None, 0, false);
    }

    /// Starts again on a new connection, whose EHLO reply was `caps`, for the recipients not
    /// attempted. What the planner learned stays. Only after the end
    /// ([`Action::Done`] or [`Action::Reconnect`]); false (and nothing done) before.
    pub fn reconnect(&mut self, caps: &Capabilities, options: &PlanOptions) -> bool {
        if self.state.phase != OVER {
            return false;
        }
        for r in self
            .recipients
            .iter_mut()
            .filter(|r| r.is(RecipientState::NotAttempted))
        {
            r.decide(RecipientState::Pending, 0, None, 0);
        }
        self.state.phase = IDLE;
        self.connect(caps, options);
        true
    }

    /// Ends the session: whoever is not final is not attempted, with the reply that ended it.
    ///
    /// With the whole message at the server and no clear answer to it (`refused` false: the
    /// connection lost, a reply garbled or out of place), its recipients may have it: they are
    /// deferred, flagged possibly delivered (RFC 1047), never sent again at once. That
    /// includes recipients whose RCPT reply has not come, after a pipelined BDAT LAST.
    fn end_session(
        &mut self,
        code: u16,
        enhanced: Option<EnhancedCode>,
        reply: u32,
        refused: bool,
    ) {
        let message_out = self.state.tx & TX_MESSAGE_SENT != 0 && !refused;
        for r in self.recipients.iter_mut() {
            if message_out && (r.is(RecipientState::Accepted) || r.is(RecipientState::Sent)) {
                r.decide(RecipientState::Deferred, code, enhanced, reply);
                r.flags |= POSSIBLY_DELIVERED;
            } else if r.state().is_some_and(|s| !s.is_final()) {
                r.decide(RecipientState::NotAttempted, code, enhanced, reply);
            }
        }
        let s = self.state;
        self.state = State {
            phase: OVER,
            mode: s.mode,
            classify: s.classify,
            learned: s.learned,
            transactions: s.transactions,
            replies: s.replies,
            ..State::default()
        };
    }

    /// Takes in a classified reply to `command`; returns the recipient it was about.
    fn apply(&mut self, command: Command, c: &Classification, number: u32) -> Option<u32> {
        let outcome = match c.verdict {
            Verdict::Success => RecipientState::Delivered,
            Verdict::Retry => RecipientState::Deferred,
            Verdict::Permanent => RecipientState::Bounced,
            Verdict::BatchLimit | Verdict::Intermediate => RecipientState::Pending,
        };
        // 421, a desynchronised server, a reply nobody awaited, or QUIT's.
        if c.scope == Scope::Session
            || c.flags.contains(crate::Flags::CLOSE_CONNECTION)
            || matches!(command, Command::Unknown | Command::Quit)
        {
            let about = match command {
                Command::Rcpt => self.find(self.state.reply_from, RecipientState::Sent),
                _ => None,
            };
            // Only a 421 says for sure that the message was not taken.
            self.end_session(c.code, c.enhanced, number, c.code == 421);
            return about;
        }
        let s = &mut self.state;
        match command {
            Command::Rset => {
                s.await_rset = 0;
                if c.verdict != Verdict::Success {
                    // A server that cannot reset is not given another transaction.
                    self.end_session(c.code, c.enhanced, number, true);
                }
                None
            }
            Command::Mail => {
                s.await_mail = 0;
                if c.verdict == Verdict::Success {
                    s.tx |= TX_OPEN;
                    return None;
                }
                // The sender is refused: the same answer would meet every transaction. But a
                // temporary refusal after earlier transactions may be this connection's limit
                // (MAILMAX unadvertised): the recipients not in this one want another.
                let connection_limit = c.verdict == Verdict::Retry && s.mails > 1;
                s.tx |= TX_MAIL_REFUSED;
                s.tx &= !TX_DATA_DUE;
                s.unsent = 0;
                for r in self.recipients.iter_mut() {
                    if connection_limit && r.is(RecipientState::Pending) {
                        r.decide(RecipientState::NotAttempted, c.code, c.enhanced, number);
                    } else if r.state().is_some_and(|s| !s.is_final()) {
                        r.decide(outcome, c.code, c.enhanced, number);
                    }
                }
                None
            }
            Command::Rcpt => {
                s.await_rcpt = s.await_rcpt.saturating_sub(1);
                if s.await_rcpt == 0 && s.tx & TX_BDAT_EARLY != 0 {
                    // The last RCPT reply: its own acceptance counts.
                    let accepted = s
                        .accepted
                        .saturating_add(u32::from(c.verdict == Verdict::Success));
                    s.await_end = s.end_replies(accepted);
                }
                let i = self.find(self.state.reply_from, RecipientState::Sent)?;
                self.state.reply_from = i + 1;
                let s = &mut self.state;
                let r = &mut self.recipients[i as usize];
                match c.verdict {
                    Verdict::Success => {
                        r.decide(RecipientState::Accepted, c.code, c.enhanced, number);
                        s.accepted = s.accepted.saturating_add(1);
                    }
                    Verdict::BatchLimit => {
                        // Back in its place: the lowest pending index goes first next time.
                        r.decide(RecipientState::Pending, c.code, c.enhanced, number);
                        s.limited = s.limited.saturating_add(1);
                        if s.mode & MODE_LEARN != 0 {
                            s.learned = tighter(s.learned, s.accepted);
                        }
                    }
                    _ => r.decide(outcome, c.code, c.enhanced, number),
                }
                Some(i)
            }
            Command::Data => {
                s.await_data = 0;
                if c.verdict == Verdict::Intermediate {
                    s.tx |= TX_MESSAGE_DUE;
                } else if s.tx & TX_MAIL_REFUSED == 0 {
                    self.settle_accepted(c, outcome, number);
                }
                None
            }
            Command::DataEnd | Command::BdatLast => {
                s.await_end = s.await_end.saturating_sub(1);
                if s.await_end == 0 {
                    s.tx &= !TX_MESSAGE_SENT;
                    // The reply after the final dot ends the transaction at the server
                    // (RFC 5321 4.1.1.4); a refused BDAT LAST leaves it to RSET (RFC 3030 2).
                    if command == Command::DataEnd || c.verdict == Verdict::Success {
                        s.tx &= !TX_OPEN;
                    }
                }
                if s.tx & TX_MAIL_REFUSED != 0 {
                    return None;
                }
                if c.scope != Scope::Recipient {
                    self.settle_accepted(c, outcome, number);
                    return None;
                }
                // LMTP: this reply is the next accepted recipient's.
                let from = s.end_from;
                let i = self.find(from, RecipientState::Accepted)?;
                self.state.end_from = i + 1;
                self.recipients[i as usize].decide(outcome, c.code, c.enhanced, number);
                Some(i)
            }
            _ => None,
        }
    }

    /// A reply to DATA or to the message for the whole transaction: its verdict for every
    /// accepted recipient. A batch limit sends them all again in transactions of at most as
    /// many as were accepted, learning or not: the same transaction again could repeat
    /// forever.
    fn settle_accepted(&mut self, c: &Classification, outcome: RecipientState, number: u32) {
        let from = self.state.first_pending as usize;
        for r in self.recipients.get_mut(from..).unwrap_or_default() {
            if r.is(RecipientState::Accepted) {
                r.decide(outcome, c.code, c.enhanced, number);
            }
        }
        let s = &mut self.state;
        if outcome == RecipientState::Pending && s.accepted > 0 {
            s.learned = tighter(s.learned, s.accepted);
        }
        s.tx &= !(TX_MESSAGE_DUE | TX_DATA_DUE);
    }
}

// ------------------------------------------------------------------------------------------
// The state as plain words, for the C ABI (src/ffi/plan.rs keeps it in caller memory).
// ------------------------------------------------------------------------------------------

/// Every MODE_* bit.
const MODE_ALL: u32 = MODE_PIPELINING | MODE_CHUNKING | MODE_LMTP | MODE_LEARN;
/// Every TX_* bit.
const TX_ALL: u32 = TX_RSET_DUE
    | TX_MAIL_DUE
    | TX_DATA_DUE
    | TX_MESSAGE_DUE
    | TX_OPEN
    | TX_MAIL_REFUSED
    | TX_MESSAGE_SENT
    | TX_BDAT_EARLY;

impl State {
    /// The count of plain fields before the scanner's words.
    const FIELDS: usize = 24;
    /// The length of [`State::to_words`].
    pub(crate) const WORDS: usize = State::FIELDS + Scanner::WORDS;

    /// The state [`State::to_words`] gave, or `None` for words no planner leaves: a phase,
    /// mode or transaction bit it does not know, classifier options that are not
    /// [`Options`], or scanner words that [`Scanner::from_words`] refuses.
    pub(crate) fn from_words(words: &[u32; State::WORDS]) -> Option<State> {
        let state = State::from_words_unchecked(words);
        let valid = state.phase <= OVER
            && state.mode & !MODE_ALL == 0
            && state.tx & !TX_ALL == 0
            && Options::from_bits(state.classify).is_some()
            && Scanner::from_words(&state.scanner).is_some();
        valid.then_some(state)
    }
}

/// `State::to_words` and `State::from_words_unchecked` from one list of the plain fields, in
/// word order; the destructuring fails to compile if a field of `State` is missing.
macro_rules! state_words {
    ($($field:ident),* $(,)?) => {
        const _: () = assert!([$(stringify!($field)),*].len() == State::FIELDS);
        impl State {
            /// The state as words, in field order, the scanner's last.
            pub(crate) fn to_words(self) -> [u32; State::WORDS] {
                let State { $($field,)* scanner } = self;
                let mut words = [0; State::WORDS];
                words[..State::FIELDS].copy_from_slice(&[$($field),*]);
                words[State::FIELDS..].copy_from_slice(&scanner);
                words
            }

            fn from_words_unchecked(words: &[u32; State::WORDS]) -> State {
                let mut fields = words.iter().copied();
                $(let $field = fields.next().unwrap_or(0);)*
                let mut scanner = [0; Scanner::WORDS];
                scanner.copy_from_slice(&words[State::FIELDS..]);
                State { $($field,)* scanner }
            }
        }
    };
}

state_words!(
    rcpt_max,
    mail_max,
    domain_max,
    learned,
    mode,
    classify,
    phase,
    mails,
    transactions,
    replies,
    first_pending,
    send_from,
    reply_from,
    end_from,
    unsent,
    accepted,
    limited,
    await_rset,
    await_mail,
    await_rcpt,
    await_data,
    await_end,
    await_quit,
    tx,
);
