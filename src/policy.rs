//! The verdict policy: POLICY.md section 4, one rule after the other, first match wins.

use crate::{
    Classification, Command, Context, EnhancedCode, Flags, Options, Reply, Scope, Verdict,
};

/// A set of commands, one bit per command number: the policy asks "is the command one of
/// these" with a shift and a mask, where a `match` on the command became a jump table that the
/// branch predictor missed on mixed traffic (a tenth of the corpus's mispredictions).
const fn set(commands: &[Command]) -> u32 {
    let mut bits = 0;
    let mut i = 0;
    while i < commands.len() {
        bits |= bit(commands[i]);
        i += 1;
    }
    bits
}

/// `command`'s bit in a [`set`].
const fn bit(command: Command) -> u32 {
    1 << command as u32
}

/// Commands whose replies concern the transaction (POLICY.md section 5).
const TRANSACTION: u32 = set(&[
    Command::Mail,
    Command::Data,
    Command::DataEnd,
    Command::Bdat,
    Command::BdatLast,
    Command::Rset,
]);
/// Commands answered after the message: recipient scope under LMTP (RFC 2033).
const MESSAGE_END: u32 = set(&[Command::DataEnd, Command::BdatLast]);
/// DATA, the final dot and BDAT: with no recipient accepted, NO_RECIPIENTS.
const MESSAGE: u32 = set(&[
    Command::Data,
    Command::DataEnd,
    Command::Bdat,
    Command::BdatLast,
]);
/// Commands ever answered by a 3xx when all is well.
const ANSWERED_BY_3XX: u32 = set(&[Command::Data, Command::Auth, Command::Unknown]);
/// Commands ever answered by a 2xx when all is well.
const ANSWERED_BY_2XX: u32 = !set(&[Command::Data]);

/// The scope of a reply to the command whose bit is `command` (POLICY.md section 5); an
/// unknown command gets the widest.
fn scope_of(command: u32, options: Options) -> Scope {
    let recipient = bit(Command::Rcpt)
        | if options.contains(Options::LMTP) {
            MESSAGE_END
        } else {
            0
        };
    if command & recipient != 0 {
        Scope::Recipient
    } else if command & TRANSACTION != 0 {
        Scope::Transaction
    } else {
        Scope::Session
    }
}

/// Whether the command whose bit is `command` is ever answered by a code with this first
/// digit when all is well.
fn expects_positive(command: u32, first_digit: u16) -> bool {
    match first_digit {
        2 => command & ANSWERED_BY_2XX != 0,
        3 => command & ANSWERED_BY_3XX != 0,
        _ => true,
    }
}

fn verdict_of_first_digit(first_digit: u16) -> Verdict {
    match first_digit {
        2 => Verdict::Success,
        3 => Verdict::Intermediate,
        4 => Verdict::Retry,
        _ => Verdict::Permanent,
    }
}

#[inline(always)]
pub(crate) fn classify(reply: &Reply<'_>, ctx: &Context) -> Classification {
    let code = reply.code();
    let first_digit = code / 100;
    let mut flags = reply.flags();
    let command = bit(ctx.command);
    let mut scope = scope_of(command, ctx.options);

    // RFC 2034: 3xx replies carry no enhanced code. RFC 3463: the class must match the code;
    // when it does not, the values are reported as sent and the code alone decides (Postfix).
    let enhanced = reply.enhanced().filter(|_| first_digit != 3);
    let matching = enhanced.filter(|e| u16::from(e.class) == first_digit);
    if enhanced.is_some() && matching.is_none() {
        flags.insert(Flags::CLASS_MISMATCH);
    }
    // The second digit over 5: 60 and above in the last two digits.
    if !(2..=5).contains(&first_digit) || code - first_digit * 100 >= 60 {
        flags.insert(Flags::NONSTANDARD_CODE);
    }
    let too_many_recipients = matches!(
        matching,
        Some(EnhancedCode {
            subject: 5,
            detail: 3,
            ..
        })
    );
    let accepted = ctx.accepted_recipients;

    let verdict = if !(2..=5).contains(&first_digit) {
        // RFC 5321 4.2: end the session, but keep the mail.
        flags.insert(Flags::PROTOCOL_ERROR | Flags::CLOSE_CONNECTION);
        scope = Scope::Session;
        Verdict::Retry
    } else if code == 421 {
        flags.insert(Flags::CLOSE_CONNECTION);
        scope = Scope::Session;
        Verdict::Retry
    } else if first_digit <= 3 && !expects_positive(command, first_digit) {
        // A desynchronised session must not be trusted (Exim and OpenSMTPD defer too).
        flags.insert(Flags::UNEXPECTED_CODE);
        scope = Scope::Session;
        Verdict::Retry
    } else if first_digit <= 3 && reply.has_negative_line() {
        // `521-` then `220`: never trust a reply that also says no.
        Verdict::Retry
    } else if first_digit <= 3 {
        verdict_of_first_digit(first_digit)
    } else {
        negative_verdict(
            reply,
            ctx,
            &mut flags,
            &mut scope,
            matching,
            too_many_recipients,
        )
    };

    if ctx.command == Command::Quit {
        flags.insert(Flags::CLOSE_CONNECTION);
    }
    if command & MESSAGE != 0 && accepted == 0 {
        flags.insert(Flags::NO_RECIPIENTS);
    }

    Classification {
        verdict,
        scope,
        code,
        enhanced,
        flags,
        lines: reply.line_count(),
        consumed: reply.consumed(),
        text: reply.text_range(),
    }
}

/// The verdict on a 4xx or 5xx reply.
#[inline(always)]
fn negative_verdict(
    reply: &Reply<'_>,
    ctx: &Context,
    flags: &mut Flags,
    scope: &mut Scope,
    matching: Option<EnhancedCode>,
    too_many_recipients: bool,
) -> Verdict {
    let code = reply.code();
    let own = verdict_of_first_digit(code / 100);
    let accepted = ctx.accepted_recipients;
    let command = bit(ctx.command);
    match ctx.command {
        Command::Rcpt => {
            if (code == 452 && matching.is_none()) || too_many_recipients {
                // RFC 5321 4.5.3.1.10. With nothing accepted, resending at once would loop.
                if accepted >= 1 {
                    Verdict::BatchLimit
                } else {
                    Verdict::Retry
                }
            } else if code == 552
                && matching.is_none()
                && !ctx.options.contains(Options::PERMANENT_552)
                && accepted >= 1
            {
                // RFC 821's "too many recipients". If it meant "mailbox full", the resend
                // comes first in its transaction and gets the permanent answer then.
                flags.insert(Flags::LEGACY_552);
                Verdict::BatchLimit
            } else {
                own
            }
        }
        // POLICY.md names the last BDAT; Exim answers whichever chunk follows the refused
        // RCPT, and a bounce there would lose every recipient of the transaction.
        _ if command & MESSAGE != 0
            && accepted >= 1
            && ctx.limited_recipients >= 1
            && *scope == Scope::Transaction
            && (matching.is_none() || too_many_recipients) =>
        {
            // Exim's recipients_max_reject refuses the whole message at DATA: resend its
            // recipients in transactions of at most the accepted count.
            *scope = Scope::Transaction;
            Verdict::BatchLimit
        }
        _ => own,
    }
}
