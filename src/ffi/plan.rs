//! The C ABI of the delivery planner (`smtp_plan_*`): the planner's state lives in the
//! caller's `smtp_plan`, its records in the caller's array of `smtp_plan_recipient`, and each
//! call rebuilds the Rust `Planner` from them, checked, and stores its state back.

use core::ffi::c_char;
use core::mem::{align_of, offset_of, size_of};
use core::ptr;

use super::classify::{error_to_c, refusal, result_to_c};
use super::names::static_str;
use super::sized::{Out, Store, read_optional, reply_bytes, writable_size};
use super::smtp_verdict_status::{self, *};
use super::{MIN_RESULT_SIZE, smtp_ehlo_capabilities, smtp_result};
use crate::plan::State;
use crate::{
    Action, Capabilities, Command, Error, Extensions, Limits, Options, PlanOptions, Planner,
    Recipient, RecipientState,
};

/// Where one recipient stands: the values of `smtp_plan_recipient.state`. The last four are
/// final.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smtp_plan_recipient_state {
    /// Waiting for a transaction: not tried yet, or refused with a recipient limit and
    /// waiting for the next transaction on this connection.
    SMTP_PLAN_PENDING = 0,
    /// Chosen for the transaction being sent; its RCPT is not sent yet.
    SMTP_PLAN_QUEUED = 1,
    /// Its RCPT is sent; the reply has not come.
    SMTP_PLAN_SENT = 2,
    /// The server accepted its RCPT; the message has not been accepted yet.
    SMTP_PLAN_ACCEPTED = 3,
    /// Final: the server took the message for it.
    SMTP_PLAN_DELIVERED = 4,
    /// Final: refused for now, try again later (see `SMTP_PLAN_POSSIBLY_DELIVERED`).
    SMTP_PLAN_DEFERRED = 5,
    /// Final: refused for good, bounce it.
    SMTP_PLAN_BOUNCED = 6,
    /// Final on this connection: not decided here (LIMITS MAILMAX reached, a 421, the
    /// connection lost). Send it on another connection: `smtp_plan_reconnect`.
    SMTP_PLAN_NOT_ATTEMPTED = 7,
}

/// What to do next: the values of `smtp_plan_step.action`. Each `SEND_` step counts as sent
/// once `smtp_plan_next` returns it: send it before the next call.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum smtp_plan_action {
    /// Write `MAIL FROM:<sender>` (with the caller's parameters) and CRLF.
    SMTP_PLAN_SEND_MAIL = 1,
    /// Write `RCPT TO:<address>` and CRLF for the recipient whose index in the array is
    /// `smtp_plan_step.recipient`.
    SMTP_PLAN_SEND_RCPT = 2,
    /// Write `DATA` and CRLF.
    SMTP_PLAN_SEND_DATA = 3,
    /// The server said 354: write the message, dot-stuffed, and the final `.` CRLF line.
    SMTP_PLAN_SEND_MESSAGE = 4,
    /// The server said 354 although it accepted no recipient: write the final `.` CRLF line
    /// alone (an empty message, delivered to nobody).
    SMTP_PLAN_SEND_EMPTY_MESSAGE = 5,
    /// Write `BDAT <size> LAST` and CRLF, then the message's `size` octets, not dot-stuffed
    /// (only with `SMTP_PLAN_CHUNKING` and a server that offers CHUNKING).
    SMTP_PLAN_SEND_BDAT_LAST = 6,
    /// Write `RSET` and CRLF.
    SMTP_PLAN_SEND_RSET = 7,
    /// Write `QUIT` and CRLF.
    SMTP_PLAN_SEND_QUIT = 8,
    /// Write nothing: read from the server and hand the bytes to `smtp_plan_receive`.
    SMTP_PLAN_WAIT = 9,
    /// Close the connection: every recipient is in a final state.
    SMTP_PLAN_DONE = 10,
    /// Close the connection: every recipient is in a final state, and those
    /// `SMTP_PLAN_NOT_ATTEMPTED` want another connection (`smtp_plan_reconnect`).
    SMTP_PLAN_RECONNECT = 11,
}

/// Plan option bit: pipeline MAIL, the RCPTs and DATA when the server offers PIPELINING
/// (RFC 2920).
pub const SMTP_PLAN_PIPELINING: u32 = 1;
/// Plan option bit: send the message with `BDAT <size> LAST` when the server offers CHUNKING
/// (RFC 3030).
pub const SMTP_PLAN_CHUNKING: u32 = 2;
/// Plan option bit: LMTP (RFC 2033): one reply per accepted recipient after the message.
pub const SMTP_PLAN_LMTP: u32 = 4;
/// Plan option bit: do not learn from a recipient limit. By default, after a limit that came
/// with k recipients accepted, every later transaction sends at most k (a limit on the whole
/// transaction is always learned: without it a transaction could repeat forever).
pub const SMTP_PLAN_NO_LEARNING: u32 = 8;
/// Record flag (`smtp_plan_recipient.flags`): the connection was lost after the whole message
/// went out and before its reply, so it may have been delivered (RFC 1047). The recipient is
/// deferred, never delivered or bounced: a retry may make a duplicate, which is better than a
/// loss.
pub const SMTP_PLAN_POSSIBLY_DELIVERED: u32 = 1;
/// `smtp_plan_reply.recipient` (and `smtp_plan_step.recipient`) when there is no recipient.
pub const SMTP_PLAN_NO_RECIPIENT: u32 = u32::MAX;

const PLAN_FLAGS: u32 =
    SMTP_PLAN_PIPELINING | SMTP_PLAN_CHUNKING | SMTP_PLAN_LMTP | SMTP_PLAN_NO_LEARNING;

/// One recipient's record. The caller allocates an array of them (one per recipient, in any
/// order: a record's index is the recipient's number in every step and reply), zeroes them,
/// sets each `domain`, and calls `smtp_plan_init`. From then on the library writes every field
/// but `domain`; the caller reads them, above all `state` once the plan is done. Any values
/// are safe: a record whose state the library does not know is left alone.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct smtp_plan_recipient {
    /// An `SMTP_PLAN_*` value of `smtp_plan_recipient_state`.
    pub state: u32,
    /// The code of the reply that decided the state, such as 250 or 452; 0 for none (a state
    /// decided by a lost connection, or not decided yet).
    pub code: u32,
    /// That reply's enhanced code (RFC 3463) as sent: class 2, 4 or 5; all three are 0 when it
    /// had none.
    pub enhanced_class: u32,
    /// The enhanced code's subject: the 5 of 4.5.3.
    pub enhanced_subject: u32,
    /// The enhanced code's detail: the 3 of 4.5.3.
    pub enhanced_detail: u32,
    /// `SMTP_PLAN_POSSIBLY_DELIVERED` or 0.
    pub flags: u32,
    /// Input, set by the caller before `smtp_plan_init` and never written by the library: a
    /// number that two recipients share exactly when their domains are the same, such as
    /// `smtp_domain_key(address, strlen(address))`. It matters only when the server advertises
    /// LIMITS RCPTDOMAINMAX; otherwise 0 will do.
    pub domain: u32,
    /// RCPT commands sent for it so far, on every connection.
    pub attempts: u32,
    /// The transaction it was last sent in (1 for the plan's first MAIL, counted across
    /// connections); 0 for none.
    pub transaction: u32,
    /// The number of the reply that decided its state (1 for the first reply the plan read,
    /// as in `smtp_plan_reply.number`), to find that reply's text in the caller's log; 0 for
    /// none.
    pub reply: u32,
    /// Written 0 by `smtp_plan_init`; reserved for the library.
    pub reserved: [u32; 2],
}

// The C record is the Rust record: the library works in the caller's array in place.
const _: () = {
    type C = smtp_plan_recipient;
    type R = Recipient;
    assert!(size_of::<C>() == size_of::<R>() && align_of::<C>() == align_of::<R>());
    assert!(size_of::<C>() == 12 * 4);
    assert!(offset_of!(C, state) == offset_of!(R, state));
    assert!(offset_of!(C, code) == offset_of!(R, code));
    assert!(offset_of!(C, enhanced_class) == offset_of!(R, enhanced_class));
    assert!(offset_of!(C, enhanced_subject) == offset_of!(R, enhanced_subject));
    assert!(offset_of!(C, enhanced_detail) == offset_of!(R, enhanced_detail));
    assert!(offset_of!(C, flags) == offset_of!(R, flags));
    assert!(offset_of!(C, domain) == offset_of!(R, domain));
    assert!(offset_of!(C, attempts) == offset_of!(R, attempts));
    assert!(offset_of!(C, transaction) == offset_of!(R, transaction));
    assert!(offset_of!(C, reply) == offset_of!(R, reply));
    assert!(offset_of!(C, reserved) == offset_of!(R, reserved));
    // The C states are the Rust states.
    use smtp_plan_recipient_state::*;
    let pairs = [
        (SMTP_PLAN_PENDING, RecipientState::Pending),
        (SMTP_PLAN_QUEUED, RecipientState::Queued),
        (SMTP_PLAN_SENT, RecipientState::Sent),
        (SMTP_PLAN_ACCEPTED, RecipientState::Accepted),
        (SMTP_PLAN_DELIVERED, RecipientState::Delivered),
        (SMTP_PLAN_DEFERRED, RecipientState::Deferred),
        (SMTP_PLAN_BOUNCED, RecipientState::Bounced),
        (SMTP_PLAN_NOT_ATTEMPTED, RecipientState::NotAttempted),
    ];
    let mut i = 0;
    while i < pairs.len() {
        assert!(pairs[i].0 as u32 == pairs[i].1 as u32 && pairs[i].0 as u32 == i as u32);
        i += 1;
    }
    assert!(SMTP_PLAN_POSSIBLY_DELIVERED == crate::POSSIBLY_DELIVERED);
};

/// How the plan works, beside what the server advertises. Set `struct_size` to
/// `sizeof(smtp_plan_options)` (or use `SMTP_PLAN_OPTIONS_INIT`, which sets
/// `SMTP_PLAN_PIPELINING` like the defaults). Passing NULL means the defaults: no limits of
/// the caller's, pipelining, learning, no chunking, SMTP, default classifier options.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct smtp_plan_options {
    /// `sizeof(smtp_plan_options)` as the caller knows it.
    pub struct_size: u32,
    /// Recipients per transaction at most, whatever the server says; 0 for no limit of the
    /// caller's.
    pub max_recipients: u32,
    /// Transactions per connection at most; 0 for no limit of the caller's.
    pub max_transactions: u32,
    /// `SMTP_PLAN_PIPELINING`, `SMTP_PLAN_CHUNKING`, `SMTP_PLAN_LMTP`,
    /// `SMTP_PLAN_NO_LEARNING` bits; any other bit gives `SMTP_STATUS_INVALID_ARGUMENT`.
    pub flags: u32,
    /// Classifier options: `SMTP_OPT_STRICT`, `SMTP_OPT_552_PERMANENT`. `SMTP_OPT_LMTP` is
    /// refused (`SMTP_STATUS_INVALID_ARGUMENT`): set `SMTP_PLAN_LMTP` in `flags`, which also makes
    /// the plan expect one reply per recipient after the message.
    pub classify_options: u32,
}

/// A plan: the state of the delivery of one message to its recipients, over one connection
/// and then, through `smtp_plan_reconnect`, the next ones. The caller owns it: plain data that
/// holds no resource, so it may live anywhere, be moved with `memcpy`, or be dropped at any
/// time (a copy must not be used beside the original: both would write the same records). Set
/// `struct_size` to `sizeof(smtp_plan)` (or use `SMTP_PLAN_INIT`) and call `smtp_plan_init`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct smtp_plan {
    /// `sizeof(smtp_plan)` as the caller knows it; never written by the library.
    pub struct_size: u32,
    /// Private: written by the library only. Do not change: a state no call could have left
    /// gives `SMTP_STATUS_INVALID_ARGUMENT`.
    pub private_state: [u32; 47],
    /// The records, as given to `smtp_plan_init`; the library works in them in place. Do not
    /// change this or `recipient_count`, except to point them at a copy of the same records
    /// (after moving the array, say).
    pub recipients: *mut smtp_plan_recipient,
    /// How many records `recipients` holds.
    pub recipient_count: usize,
}

impl Default for smtp_plan {
    fn default() -> smtp_plan {
        smtp_plan {
            struct_size: MIN_PLAN_SIZE,
            private_state: [0; 47],
            recipients: ptr::null_mut(),
            recipient_count: 0,
        }
    }
}

// Room for the state to grow, and no padding hole before the pointer.
const _: () = {
    assert!(State::WORDS <= 47);
    assert!(offset_of!(smtp_plan, recipients) == 4 + 47 * 4);
    assert!(size_of::<smtp_plan>() == 4 + 47 * 4 + size_of::<usize>() * 2);
};

/// One step of the plan, written by `smtp_plan_next`. Set `struct_size` to
/// `sizeof(smtp_plan_step)` (or use `SMTP_PLAN_STEP_INIT`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct smtp_plan_step {
    /// `sizeof(smtp_plan_step)` as the caller knows it; never written by the library.
    pub struct_size: u32,
    /// An `SMTP_PLAN_*` value of `smtp_plan_action` (0 only with an error status).
    pub action: u32,
    /// For `SMTP_PLAN_SEND_RCPT`: the index of the recipient's record. Otherwise
    /// `SMTP_PLAN_NO_RECIPIENT`.
    pub recipient: u32,
    /// Transactions started on this plan so far, over every connection (a `SEND_MAIL` step
    /// counts its own MAIL): the `transaction` numbers of the records go up to it.
    pub transactions: u32,
}

/// What a reply was about, written by `smtp_plan_receive`. Set `struct_size` to
/// `sizeof(smtp_plan_reply)` (or use `SMTP_PLAN_REPLY_INIT`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct smtp_plan_reply {
    /// `sizeof(smtp_plan_reply)` as the caller knows it; never written by the library.
    pub struct_size: u32,
    /// The `SMTP_CMD_*` value of the command the reply answers (`SMTP_CMD_UNKNOWN` when none
    /// was awaiting a reply).
    pub command: u32,
    /// The index of the recipient the reply was about (a RCPT's, or in LMTP a reply's after
    /// the message), or `SMTP_PLAN_NO_RECIPIENT`.
    pub recipient: u32,
    /// The reply's number (1 for the first the plan read, counted across connections), as
    /// `smtp_plan_recipient.reply` keeps it; 0 when no reply was read (`SMTP_STATUS_INCOMPLETE`).
    pub number: u32,
}

const MIN_PLAN_SIZE: u32 = size_of::<smtp_plan>() as u32;
const MIN_OPTIONS_SIZE: u32 = size_of::<smtp_plan_options>() as u32;
const MIN_STEP_SIZE: u32 = size_of::<smtp_plan_step>() as u32;
const MIN_REPLY_SIZE: u32 = size_of::<smtp_plan_reply>() as u32;
const MIN_EHLO_SIZE: u32 = size_of::<smtp_ehlo_capabilities>() as u32;

impl Store for smtp_plan_step {}
impl Store for smtp_plan_reply {}

/// The capabilities `smtp_parse_ehlo` read, back in Rust terms (what the planner uses of them:
/// the extensions and the limits). NULL is a HELO server, which advertises nothing.
///
/// # Safety
/// `caps` is NULL or points to a readable `smtp_ehlo_capabilities`.
unsafe fn caps_from_c(
    caps: *const smtp_ehlo_capabilities,
) -> Result<Capabilities, smtp_verdict_status> {
    // SAFETY: NULL or a caller's smtp_ehlo_capabilities.
    let Some(c) = unsafe { read_optional(caps, MIN_EHLO_SIZE) }? else {
        return Ok(Capabilities::default());
    };
    if !(200..300).contains(&c.code) || c.extensions & !u32::from(Extensions::ALL.bits()) != 0 {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    let mut extensions = Extensions::empty();
    for (_, e) in Extensions::NAMES {
        if c.extensions & u32::from(e.bits()) != 0 {
            extensions.insert(e);
        }
    }
    let limit = |n: u32| (n != 0).then_some(n);
    Ok(Capabilities {
        extensions,
        limits: Limits {
            rcpt_max: limit(c.rcpt_max),
            mail_max: limit(c.mail_max),
            rcpt_domain_max: limit(c.rcpt_domain_max),
        },
        code: c.code as u16,
        ..Capabilities::default()
    })
}

/// The caller's options in Rust terms; NULL is the defaults.
///
/// # Safety
/// `options` is NULL or points to a readable `smtp_plan_options`.
unsafe fn options_from_c(
    options: *const smtp_plan_options,
) -> Result<PlanOptions, smtp_verdict_status> {
    // SAFETY: NULL or a caller's smtp_plan_options.
    let Some(o) = unsafe { read_optional(options, MIN_OPTIONS_SIZE) }? else {
        return Ok(PlanOptions::default());
    };
    if o.flags & !PLAN_FLAGS != 0 || o.classify_options & Options::LMTP.bits() != 0 {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    Ok(PlanOptions {
        max_recipients: o.max_recipients,
        max_transactions: o.max_transactions,
        pipelining: o.flags & SMTP_PLAN_PIPELINING != 0,
        chunking: o.flags & SMTP_PLAN_CHUNKING != 0,
        lmtp: o.flags & SMTP_PLAN_LMTP != 0,
        learn: o.flags & SMTP_PLAN_NO_LEARNING == 0,
        classify: Options::from_bits(o.classify_options).ok_or(SMTP_STATUS_INVALID_ARGUMENT)?,
    })
}

/// The caller's records as Rust records, checked.
///
/// # Safety
/// `records` is NULL or points to `count` writable records that nothing else uses while the
/// slice lives.
unsafe fn records<'a>(
    records: *mut smtp_plan_recipient,
    count: usize,
) -> Result<&'a mut [Recipient], smtp_verdict_status> {
    let fits = count
        .checked_mul(size_of::<Recipient>())
        .is_some_and(|bytes| bytes <= isize::MAX as usize);
    if count > u32::MAX as usize || !fits {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    if count == 0 {
        return Ok(&mut []);
    }
    if records.is_null() {
        return Err(SMTP_STATUS_NULL_ARGUMENT);
    }
    if !records.is_aligned() {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    // SAFETY: `count` records, aligned and not NULL, as the caller promises; the two structs
    // have one layout (checked above) of plain integers.
    Ok(unsafe { core::slice::from_raw_parts_mut(records.cast::<Recipient>(), count) })
}

/// The planner state in `plan`, checked: every word is one a planner leaves.
fn state_from_c(words: &[u32; 47]) -> Result<State, smtp_verdict_status> {
    let (used, spare) = words.split_at(State::WORDS);
    if spare.iter().any(|&w| w != 0) {
        return Err(SMTP_STATUS_INVALID_ARGUMENT);
    }
    let used: &[u32; State::WORDS] = used.try_into().map_err(|_| SMTP_STATUS_INVALID_ARGUMENT)?;
    State::from_words(used).ok_or(SMTP_STATUS_INVALID_ARGUMENT)
}

/// Stores `state` in `plan`'s private words (the spare ones 0).
///
/// # Safety
/// `plan` passed `writable_size`.
unsafe fn store_state(plan: *mut smtp_plan, state: &State) {
    let mut words = [0; 47];
    words[..State::WORDS].copy_from_slice(&state.to_words());
    // SAFETY: a whole writable smtp_plan, as checked by the caller.
    unsafe { (&raw mut (*plan).private_state).write(words) };
}

/// Runs `f` on the planner kept in `plan` and stores its state back.
///
/// # Safety
/// `plan` is NULL or points to a writable `smtp_plan` whose `recipients` and
/// `recipient_count` describe writable records, none of them overlapping anything else the
/// call reads or writes.
unsafe fn with_planner<T>(
    plan: *mut smtp_plan,
    f: impl FnOnce(&mut Planner<'_>) -> T,
) -> Result<T, smtp_verdict_status> {
    // SAFETY: `plan` is NULL or a caller's smtp_plan.
    unsafe { writable_size(plan, MIN_PLAN_SIZE) }?;
    // SAFETY: a whole smtp_plan by its struct_size (checked just above).
    let (words, list, count) = unsafe {
        (
            (&raw const (*plan).private_state).read(),
            (&raw const (*plan).recipients).read(),
            (&raw const (*plan).recipient_count).read(),
        )
    };
    let state = state_from_c(&words)?;
    // SAFETY: as the caller promises.
    let recipients = unsafe { records(list, count) }?;
    let mut planner = Planner::from_parts(state, recipients);
    let value = f(&mut planner);
    let state = planner.state;
    // SAFETY: checked above; the planner (and its borrow of the records) is gone.
    unsafe { store_state(plan, &state) };
    Ok(value)
}

fn status_of(result: Result<(), smtp_verdict_status>) -> smtp_verdict_status {
    match result {
        Ok(()) => SMTP_STATUS_OK,
        Err(status) => status,
    }
}

/// The key of the domain of an address (the part after its last `@`, without case; an
/// address without `@` has the empty domain), for `smtp_plan_recipient.domain`: two domains
/// share a key only by a 32-bit hash collision. Reads `len` bytes of `address` (NULL is the
/// empty address when `len` is 0; NULL with `len` > 0 gives the empty domain's key). Not a
/// status: it cannot fail.
///
/// # Safety
/// `address` is NULL or points to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_domain_key(address: *const c_char, len: usize) -> u32 {
    ffi_guard!(crate::domain_key(&[]), {
        let bytes: &[u8] = if address.is_null() || len == 0 {
            &[]
        } else {
            // SAFETY: the caller promises `len` readable bytes at `address`, not NULL.
            unsafe { core::slice::from_raw_parts(address.cast::<u8>(), len) }
        };
        crate::domain_key(bytes)
    })
}

/// Starts a plan for the `count` records at `recipients` on a connection whose EHLO (or
/// LHLO) reply `smtp_parse_ehlo` read into `caps`.
///
/// Every record is reset to `SMTP_PLAN_PENDING`, all zero but its `domain`. `caps` NULL is a
/// server that answered HELO (no extension, no limit); otherwise its `code` must be 2xx, as
/// `smtp_parse_ehlo` leaves it with `SMTP_STATUS_OK`, and only its `extensions`, `rcpt_max`,
/// `mail_max` and `rcpt_domain_max` (0: not advertised) are used. `options` NULL is the
/// defaults (see `smtp_plan_options`). The plan keeps the `recipients` pointer: the records
/// must stay where they are for as long as the plan is used, and nothing but the plan may
/// write them (`domain` excepted, which it never writes).
///
/// Start a plan once the session is open: after a 2xx to EHLO, LHLO or HELO. When the greeting
/// or HELO is refused there is nothing to plan: every recipient takes that reply's verdict
/// (permanent: bounce them; otherwise defer them, or try another host).
///
/// Statuses: `SMTP_STATUS_OK`; `SMTP_STATUS_NULL_ARGUMENT` when `plan` is NULL, or `recipients` is
/// NULL with `count` > 0 (NULL with 0 is a plan with no recipient: its first step is QUIT);
/// `SMTP_STATUS_INVALID_ARGUMENT` for a `struct_size` too small, a misaligned struct or array,
/// `count` over `UINT32_MAX`, `caps` whose code is not 2xx or that has an unknown extension
/// bit, or an unknown `flags` bit or classifier option in `options` (`SMTP_OPT_LMTP`
/// included). On any error nothing is written.
///
/// # Safety
/// `plan` is NULL or points to a writable `smtp_plan`; `recipients` is NULL or points to
/// `count` writable records that overlap no struct of any `smtp_plan_*` call on this plan;
/// `caps` and `options` are NULL or point to readable structs. Each struct is at least as
/// large as its `struct_size` says. A plan and its records belong to one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_plan_init(
    plan: *mut smtp_plan,
    recipients: *mut smtp_plan_recipient,
    count: usize,
    caps: *const smtp_ehlo_capabilities,
    options: *const smtp_plan_options,
) -> smtp_verdict_status {
    ffi_guard!(SMTP_STATUS_PANIC, {
        // SAFETY: the caller's pointers, as documented.
        status_of(unsafe { plan_init(plan, recipients, count, caps, options) })
    })
}

/// The body of `smtp_plan_init`.
///
/// # Safety
/// As documented there.
unsafe fn plan_init(
    plan: *mut smtp_plan,
    list: *mut smtp_plan_recipient,
    count: usize,
    caps: *const smtp_ehlo_capabilities,
    options: *const smtp_plan_options,
) -> Result<(), smtp_verdict_status> {
    // SAFETY: the caller's pointers, as documented.
    unsafe { writable_size(plan, MIN_PLAN_SIZE) }?;
    // SAFETY: as above.
    let caps = unsafe { caps_from_c(caps) }?;
    // SAFETY: as above.
    let options = unsafe { options_from_c(options) }?;
    // SAFETY: as above.
    let recipients = unsafe { records(list, count) }?;
    let state = Planner::new(recipients, &caps, &options).state;
    // SAFETY: checked by writable_size above; the records are no longer borrowed.
    unsafe {
        store_state(plan, &state);
        (&raw mut (*plan).recipients).write(list);
        (&raw mut (*plan).recipient_count).write(count);
    }
    Ok(())
}

fn action_to_c(action: Action) -> (smtp_plan_action, u32) {
    use smtp_plan_action::*;
    let c = match action {
        Action::Mail => SMTP_PLAN_SEND_MAIL,
        Action::Rcpt(i) => return (SMTP_PLAN_SEND_RCPT, i),
        Action::Data => SMTP_PLAN_SEND_DATA,
        Action::Message => SMTP_PLAN_SEND_MESSAGE,
        Action::EmptyMessage => SMTP_PLAN_SEND_EMPTY_MESSAGE,
        Action::BdatLast => SMTP_PLAN_SEND_BDAT_LAST,
        Action::Rset => SMTP_PLAN_SEND_RSET,
        Action::Quit => SMTP_PLAN_SEND_QUIT,
        Action::Wait => SMTP_PLAN_WAIT,
        Action::Done => SMTP_PLAN_DONE,
        Action::Reconnect => SMTP_PLAN_RECONNECT,
    };
    (c, SMTP_PLAN_NO_RECIPIENT)
}

/// Writes the plan's next step into `out`: a command to send, `SMTP_PLAN_WAIT` for replies,
/// or the end (`SMTP_PLAN_DONE`, `SMTP_PLAN_RECONNECT`, which repeat until
/// `smtp_plan_reconnect`). A command step counts as sent: write it (or queue it and write
/// the queue at the next `SMTP_PLAN_WAIT`) before acting on the next step; a write that fails
/// is a lost connection (`smtp_plan_connection_lost`). With pipelining, MAIL, the RCPTs and
/// DATA (or BDAT LAST) come one after another before the first wait: send them together
/// (RFC 2920); without, each is followed by a wait. The message, RSET and QUIT are each
/// followed by a wait, and the end comes after QUIT's reply. Calling it between two replies
/// of a pipelined group is allowed: it answers `SMTP_PLAN_WAIT` until a step is due.
///
/// Statuses: `SMTP_STATUS_OK`; `SMTP_STATUS_NULL_ARGUMENT` (`plan` or `out` NULL, or the plan's
/// `recipients` NULL with a count); `SMTP_STATUS_INVALID_ARGUMENT` (a `struct_size` too small, a
/// misaligned struct, a `private_state` no call left); `SMTP_STATUS_PANIC` (a bug in the
/// library). With an error `out->action` is 0 whenever `out` is usable, and the plan is
/// unchanged: an error here means the plan or its records were damaged, so calling again
/// would give the same error; end the session and treat every recipient not final as not
/// attempted.
///
/// # Safety
/// As for `smtp_plan_init`: `plan` is NULL or a writable `smtp_plan` whose records are
/// writable, and `out` is NULL or a writable `smtp_plan_step`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_plan_next(
    plan: *mut smtp_plan,
    out: *mut smtp_plan_step,
) -> smtp_verdict_status {
    ffi_guard!(SMTP_STATUS_PANIC, {
        // SAFETY: `out` is NULL or a caller's smtp_plan_step.
        let out = match unsafe { Out::new(out, MIN_STEP_SIZE) } {
            Ok(out) => out,
            Err(status) => return status,
        };
        let next = |p: &mut Planner<'_>| (action_to_c(p.next_action()), p.transactions());
        // SAFETY: the caller's plan, as documented.
        let (status, action, recipient, transactions) = match unsafe { with_planner(plan, next) } {
            Ok(((action, recipient), transactions)) => {
                (SMTP_STATUS_OK, action as u32, recipient, transactions)
            }
            Err(status) => (status, 0, SMTP_PLAN_NO_RECIPIENT, 0),
        };
        let step = smtp_plan_step {
            struct_size: MIN_STEP_SIZE,
            action,
            recipient,
            transactions,
        };
        out.finish(status, &step)
    })
}

/// Hands the plan the bytes received from the server, `data[0..len)`, starting at a reply:
/// the first reply is read as the answer to the command awaited, its verdict written to `out`
/// (as `smtp_classify_reply` writes it, with the context the plan keeps) and the records it
/// decides are updated. `about`, if not NULL, says which command and recipient it answered.
///
/// On `SMTP_STATUS_OK`, `out->consumed` bytes were used: drop them, and call again while bytes remain
/// (pipelined replies come together), then call `smtp_plan_next`; bytes that hold only part of
/// the next reply give `SMTP_STATUS_INCOMPLETE`. `SMTP_STATUS_INCOMPLETE`: read more and call again with the
/// same bytes, from the reply's first byte, grown at the end (the plan remembers how far it
/// read, counted from that first byte, so the bytes may be moved to another buffer between
/// calls but not dropped; every field of `out` but `struct_size` is 0).
/// `SMTP_STATUS_MALFORMED` or `SMTP_STATUS_TOO_LONG`: `out` holds the safe answer as for
/// `smtp_classify_reply`, and the session is over: every
/// recipient not final is `SMTP_PLAN_NOT_ATTEMPTED` and the next step is the end; close the
/// connection. A reply that no command awaited, a 421 and QUIT's reply end the session too,
/// with `SMTP_STATUS_OK`.
///
/// Other statuses change nothing: `SMTP_STATUS_NULL_ARGUMENT` (`plan` or `out` NULL, `data` NULL
/// with `len` > 0, the plan's `recipients` NULL with a count), `SMTP_STATUS_INVALID_ARGUMENT` (a
/// `struct_size` too small, a misaligned struct, a `private_state` no call left),
/// `SMTP_STATUS_PANIC` (a bug in the library); with them
/// `out`, when usable, says retry, session scope. `about` is written with every status that
/// writes `out` from a reply: `SMTP_STATUS_OK`, `SMTP_STATUS_INCOMPLETE` (`number` 0), `SMTP_STATUS_MALFORMED`
/// and `SMTP_STATUS_TOO_LONG` (`recipient` `SMTP_PLAN_NO_RECIPIENT`).
///
/// Reads at most `SMTP_MAX_REPLY_LEN` bytes of `data` and never past `len`.
///
/// # Safety
/// As for `smtp_plan_next`; `data` points to `len` readable bytes (or is NULL with `len` 0);
/// `out` is NULL or a writable `smtp_result`, `about` NULL or a writable `smtp_plan_reply`;
/// none of them overlaps the plan's records.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_plan_receive(
    plan: *mut smtp_plan,
    data: *const u8,
    len: usize,
    out: *mut smtp_result,
    about: *mut smtp_plan_reply,
) -> smtp_verdict_status {
    ffi_guard!(SMTP_STATUS_PANIC, {
        // SAFETY: the caller's pointers, as documented.
        unsafe { plan_receive(plan, data, len, out, about) }
    })
}

/// The body of `smtp_plan_receive`.
///
/// # Safety
/// As documented there.
unsafe fn plan_receive(
    plan: *mut smtp_plan,
    data: *const u8,
    len: usize,
    out: *mut smtp_result,
    about: *mut smtp_plan_reply,
) -> smtp_verdict_status {
    // SAFETY: `out` is NULL or a caller's smtp_result.
    let out = match unsafe { Out::new(out, MIN_RESULT_SIZE) } {
        Ok(out) => out,
        Err(status) => return status,
    };
    // SAFETY: NULL or a caller's smtp_plan_reply.
    let about = match unsafe { Out::optional(about, MIN_REPLY_SIZE) } {
        Ok(about) => about,
        Err(status) => return out.finish(status, &refusal()),
    };
    // SAFETY: the caller promises `len` readable bytes at `data`, or NULL.
    let input = match unsafe { reply_bytes(data, len) } {
        Ok(input) => input,
        Err(status) => return out.finish(status, &refusal()),
    };
    // SAFETY: the caller's plan, as documented.
    let received = unsafe {
        with_planner(plan, |p| {
            let command = p.awaited().unwrap_or(Command::Unknown);
            let outcome = p.receive(input);
            (command, outcome, p.state.replies)
        })
    };
    let (command, outcome, replies) = match received {
        Ok(received) => received,
        Err(status) => return out.finish(status, &refusal()),
    };
    let reply = |command: Command, recipient: Option<u32>, number: u32| smtp_plan_reply {
        struct_size: MIN_REPLY_SIZE,
        command: command as u32,
        recipient: recipient.unwrap_or(SMTP_PLAN_NO_RECIPIENT),
        number,
    };
    let (status, result, answer) = match outcome {
        Ok(r) => (
            SMTP_STATUS_OK,
            result_to_c(&r.classification),
            reply(r.command, r.recipient, r.number),
        ),
        Err(e) => {
            let (status, result) = error_to_c(&e);
            // An incomplete reply has no number yet.
            let number = if matches!(e, Error::Incomplete) {
                0
            } else {
                replies
            };
            (status, result, reply(command, None, number))
        }
    };
    if let Some(about) = about {
        about.finish(status, &answer);
    }
    out.finish(status, &result)
}

/// Tells the plan the connection is gone (end of file, a failed write, a timeout, or the
/// caller's decision to close it). Every recipient not final becomes
/// `SMTP_PLAN_NOT_ATTEMPTED`, but those of a message sent whole whose reply had not come:
/// those are `SMTP_PLAN_DEFERRED` with `SMTP_PLAN_POSSIBLY_DELIVERED` (RFC 1047). The next step
/// is the end. After the end it does nothing.
///
/// Statuses: `SMTP_STATUS_OK`; `SMTP_STATUS_NULL_ARGUMENT` and `SMTP_STATUS_INVALID_ARGUMENT` as for
/// `smtp_plan_next`, with the plan unchanged.
///
/// # Safety
/// As for `smtp_plan_next`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_plan_connection_lost(plan: *mut smtp_plan) -> smtp_verdict_status {
    ffi_guard!(SMTP_STATUS_PANIC, {
        // SAFETY: the caller's plan, as documented.
        status_of(unsafe { with_planner(plan, |p| p.connection_lost()) })
    })
}

/// Starts the plan again on a new connection, whose EHLO reply is `caps` (read as by
/// `smtp_plan_init`), for the recipients `SMTP_PLAN_NOT_ATTEMPTED`, which become pending. What
/// the plan learned of recipient limits stays; the records of the others stay as they are.
/// `options` (NULL: the defaults) gives this connection's limits, pipelining and chunking;
/// LMTP, learning and the classifier options stay as `smtp_plan_init` set them (those bits
/// are checked, then not used).
///
/// Statuses: `SMTP_STATUS_OK`; `SMTP_STATUS_INVALID_ARGUMENT` when the plan has not ended (its step is not
/// `SMTP_PLAN_DONE` or `SMTP_PLAN_RECONNECT`), and as for `smtp_plan_init` and
/// `smtp_plan_next`; `SMTP_STATUS_NULL_ARGUMENT` as for `smtp_plan_next`. On any error the plan is
/// unchanged.
///
/// # Safety
/// As for `smtp_plan_init` and `smtp_plan_next`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn smtp_plan_reconnect(
    plan: *mut smtp_plan,
    caps: *const smtp_ehlo_capabilities,
    options: *const smtp_plan_options,
) -> smtp_verdict_status {
    ffi_guard!(SMTP_STATUS_PANIC, {
        // SAFETY: the caller's pointers, as documented.
        status_of(unsafe { plan_reconnect(plan, caps, options) })
    })
}

/// The body of `smtp_plan_reconnect`.
///
/// # Safety
/// As documented there.
unsafe fn plan_reconnect(
    plan: *mut smtp_plan,
    caps: *const smtp_ehlo_capabilities,
    options: *const smtp_plan_options,
) -> Result<(), smtp_verdict_status> {
    // SAFETY: the caller's pointers, as documented.
    unsafe { writable_size(plan, MIN_PLAN_SIZE) }?;
    // SAFETY: as above.
    let caps = unsafe { caps_from_c(caps) }?;
    // SAFETY: as above.
    let options = unsafe { options_from_c(options) }?;
    // SAFETY: as above.
    match unsafe { with_planner(plan, |p| p.reconnect(&caps, &options)) }? {
        true => Ok(()),
        false => Err(SMTP_STATUS_INVALID_ARGUMENT),
    }
}

/// The name of an `smtp_plan_action` value, such as "send-rcpt", or "unknown".
/// A static string: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_plan_action_name(action: u32) -> *const c_char {
    ffi_guard!(static_str(c"unknown"), {
        let names = [
            c"send-mail",
            c"send-rcpt",
            c"send-data",
            c"send-message",
            c"send-empty-message",
            c"send-bdat-last",
            c"send-rset",
            c"send-quit",
            c"wait",
            c"done",
            c"reconnect",
        ];
        let index = action.wrapping_sub(1) as usize;
        static_str(names.get(index).copied().unwrap_or(c"unknown"))
    })
}

/// The name of an `smtp_plan_recipient_state` value, such as "not-attempted", or "unknown".
/// A static string: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn smtp_plan_recipient_state_name(state: u32) -> *const c_char {
    ffi_guard!(static_str(c"unknown"), {
        static_str(RecipientState::from_u32(state).map_or(c"unknown", |s| s.c_name()))
    })
}

// The action names follow the enum's order.
const _: () = {
    use smtp_plan_action::*;
    assert!(SMTP_PLAN_SEND_MAIL as u32 == 1 && SMTP_PLAN_RECONNECT as u32 == 11);
};
