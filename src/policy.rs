//! The verdict policy: POLICY.md section 4, one rule after the other, first match wins.
//!
//! The rules that look only at the command and the first digit are decided at compile time
//! into one table, [`OUTCOMES`]; [`classify`] reads its row and applies the rules that need the
//! rest of the reply and the context (a chain of tests on every reply cost a fifth more
//! instructions for a short one).

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
    Command::Burl,
    Command::BurlLast,
    Command::Rset,
]);
/// Commands answered after the message: recipient scope under LMTP (RFC 2033).
const MESSAGE_END: u32 = set(&[Command::DataEnd, Command::BdatLast, Command::BurlLast]);
/// DATA, the final dot, BDAT and BURL (RFC 4468, BDAT with the message fetched from a URL):
/// with no recipient accepted, NO_RECIPIENTS.
const MESSAGE: u32 = set(&[
    Command::Data,
    Command::DataEnd,
    Command::Bdat,
    Command::BdatLast,
    Command::Burl,
    Command::BurlLast,
]);
/// Commands ever answered by a 3xx when all is well.
const ANSWERED_BY_3XX: u32 = set(&[Command::Data, Command::Auth, Command::Unknown]);
/// Commands ever answered by a 2xx when all is well.
const ANSWERED_BY_2XX: u32 = !set(&[Command::Data]);

/// The scope of a reply to the command whose bit is `command` (POLICY.md section 5); an
/// unknown command gets the widest.
const fn scope_of(command: u32, options: Options) -> Scope {
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
const fn expects_positive(command: u32, first_digit: u16) -> bool {
    match first_digit {
        2 => command & ANSWERED_BY_2XX != 0,
        3 => command & ANSWERED_BY_3XX != 0,
        _ => true,
    }
}

const fn verdict_of_first_digit(first_digit: u16) -> Verdict {
    match first_digit {
        2 => Verdict::Success,
        3 => Verdict::Intermediate,
        4 => Verdict::Retry,
        _ => Verdict::Permanent,
    }
}

/// What the policy says of a reply from its command and first digit alone: the rules of
/// POLICY.md section 4 that look at nothing else, decided once at compile time. The rest
/// (421, a negative line, the recipient limits, no accepted recipient) is [`classify`]'s.
#[derive(Clone, Copy)]
struct Outcome {
    verdict: Verdict,
    scope: Scope,
    /// Flags the command and first digit give.
    flags: u16,
    /// What [`classify`] must still look at, [`POSITIVE`] and the like.
    checks: u16,
}

/// A positive verdict: a line with a 4 or 5 first digit makes it retry.
const POSITIVE: u16 = 1;
/// A negative reply to RCPT or a message command: the recipient limit rules apply.
const LIMITS: u16 = 2;
/// DATA, the final dot or BDAT: flagged when no recipient was accepted.
const NEEDS_RECIPIENTS: u16 = 4;

const fn outcome(command: Command, first_digit: u16, lmtp: bool) -> Outcome {
    let command_bit = bit(command);
    let options = if lmtp { Options::LMTP } else { Options(0) };
    let mut flags = 0;
    let mut checks = 0;
    let mut scope = scope_of(command_bit, options);
    let verdict = if first_digit < 2 || first_digit > 5 {
        // RFC 5321 4.2: end the session, but keep the mail.
        flags |= Flags::PROTOCOL_ERROR.bits()
            | Flags::CLOSE_CONNECTION.bits()
            | Flags::NONSTANDARD_CODE.bits();
        scope = Scope::Session;
        Verdict::Retry
    } else if first_digit <= 3 && !expects_positive(command_bit, first_digit) {
        // A desynchronised session must not be trusted (Exim and OpenSMTPD defer too).
        flags |= Flags::UNEXPECTED_CODE.bits();
        scope = Scope::Session;
        Verdict::Retry
    } else {
        if first_digit <= 3 {
            // `521-` then `220`: never trust a reply that also says no.
            checks |= POSITIVE;
        } else if command_bit & (bit(Command::Rcpt) | MESSAGE) != 0 {
            checks |= LIMITS;
        }
        verdict_of_first_digit(first_digit)
    };
    if command_bit & bit(Command::Quit) != 0 {
        flags |= Flags::CLOSE_CONNECTION.bits();
    }
    if command_bit & MESSAGE != 0 {
        checks |= NEEDS_RECIPIENTS;
    }
    Outcome {
        verdict,
        scope,
        flags: flags as u16,
        checks,
    }
}

/// Slots per command for the code's first digit: 10 digits, padded to a power of two so that
/// the index needs no bounds check.
const FIRST_DIGITS: usize = 16;

/// [`outcome`] for LMTP or not, every command and first digit: `OUTCOMES[lmtp][command][digit]`.
const OUTCOMES: [[[Outcome; FIRST_DIGITS]; Command::ALL.len()]; 2] = {
    let placeholder = Outcome {
        verdict: Verdict::Retry,
        scope: Scope::Session,
        flags: 0,
        checks: 0,
    };
    let mut table = [[[placeholder; FIRST_DIGITS]; Command::ALL.len()]; 2];
    let mut lmtp = 0;
    while lmtp < 2 {
        let mut command = 0;
        while command < Command::ALL.len() {
            let mut digit = 0;
            while digit < 10 {
                table[lmtp][command][digit] =
                    outcome(Command::ALL[command], digit as u16, lmtp == 1);
                digit += 1;
            }
            command += 1;
        }
        lmtp += 1;
    }
    table
};

// `classify` tells a positive reply's negative line only where the limit rules do not apply:
// a row with both checks would lose one of them.
const _: () = {
    let mut lmtp = 0;
    while lmtp < 2 {
        let mut command = 0;
        while command < Command::ALL.len() {
            let mut digit = 0;
            while digit < FIRST_DIGITS {
                let checks = OUTCOMES[lmtp][command][digit].checks;
                assert!(checks & (POSITIVE | LIMITS) != POSITIVE | LIMITS);
                digit += 1;
            }
            command += 1;
        }
        lmtp += 1;
    }
};

#[inline(always)]
pub(crate) fn classify(reply: &Reply<'_>, ctx: &Context) -> Classification {
    let code = reply.code();
    let first_digit = reply.first_digit();
    let lmtp = usize::from(ctx.options.contains(Options::LMTP));
    let base = OUTCOMES[lmtp][ctx.command as usize][usize::from(first_digit) % FIRST_DIGITS];
    let mut verdict = base.verdict;
    let mut scope = base.scope;
    let mut flags = reply.flags().union(Flags(u32::from(base.flags)));

    // RFC 2034: 3xx replies carry no enhanced code. RFC 3463: the class must match the code;
    // when it does not, the values are reported as sent and the code alone decides (Postfix).
    // The codes as words, 0 for none: no branch to tell none from some.
    let enhanced = match first_digit {
        3 => 0,
        _ => EnhancedCode::word_of(reply.enhanced()),
    };
    let [class, ..] = EnhancedCode::parts_of_word(enhanced);
    let matching = if class == u32::from(first_digit) {
        enhanced
    } else {
        0
    };
    if enhanced != matching {
        flags.insert(Flags::CLASS_MISMATCH);
    }
    // The second digit over 5 (a first digit other than 2 to 5 is flagged by the table).
    if reply.second_digit() > 5 {
        flags.insert(Flags::NONSTANDARD_CODE);
    }
    if code == 421 {
        flags.insert(Flags::CLOSE_CONNECTION);
        scope = Scope::Session;
        verdict = Verdict::Retry;
    } else if base.checks & LIMITS != 0 {
        verdict = limit_verdict(reply, ctx, &mut flags, scope, matching, verdict);
    } else {
        // A positive reply with a negative line (no row has both checks), told without a
        // branch: whether a reply is positive varies from one reply to the next.
        let retry = (base.checks & POSITIVE != 0) & reply.has_negative_line();
        verdict = if retry { Verdict::Retry } else { verdict };
    }
    if base.checks & NEEDS_RECIPIENTS != 0 && ctx.accepted_recipients == 0 {
        flags.insert(Flags::NO_RECIPIENTS);
    }

    Classification {
        verdict,
        scope,
        code,
        enhanced: EnhancedCode::from_word(enhanced),
        flags,
        batch_size: batch_size(verdict, ctx),
        lines: reply.line_count(),
        consumed: reply.consumed(),
        text: reply.text_range(),
    }
}

/// A batch limit's next transactions carry at most what this one got accepted (POLICY.md 6).
#[inline(always)]
fn batch_size(verdict: Verdict, ctx: &Context) -> u32 {
    if verdict == Verdict::BatchLimit {
        ctx.accepted_recipients
    } else {
        0
    }
}

/// The verdict on a 4xx or 5xx reply to RCPT or a message command (`own`: its first digit's;
/// `matching`: its enhanced code's word if the class matches the code, else 0).
#[inline(always)]
fn limit_verdict(
    reply: &Reply<'_>,
    ctx: &Context,
    flags: &mut Flags,
    scope: Scope,
    matching: u32,
    own: Verdict,
) -> Verdict {
    let code = reply.code();
    let accepted = ctx.accepted_recipients;
    // X.5.3 (RFC 3463).
    let too_many_recipients = matches!(EnhancedCode::parts_of_word(matching), [_, 5, 3]);
    if ctx.command == Command::Rcpt {
        if (code == 452 && matching == 0) || too_many_recipients {
            // RFC 5321 4.5.3.1.10. With nothing accepted, resending at once would loop.
            if accepted >= 1 {
                Verdict::BatchLimit
            } else {
                Verdict::Retry
            }
        } else if code == 552
            && matching == 0
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
    } else if accepted >= 1
        && ctx.limited_recipients >= 1
        && scope == Scope::Transaction
        && (matching == 0 || too_many_recipients)
    {
        // POLICY.md names the last BDAT; Exim answers whichever chunk follows the refused
        // RCPT, and a bounce there would lose every recipient of the transaction. Exim's
        // recipients_max_reject refuses the whole message at DATA: resend its recipients in
        // transactions of at most the accepted count.
        Verdict::BatchLimit
    } else {
        own
    }
}

/// The rule chain that `OUTCOMES` replaced, kept as the oracle the table is checked against:
/// each rule of docs/POLICY.md section 4 in turn, first match wins.
#[cfg(test)]
mod rule_chain {
    use super::*;

    pub(super) fn classify(reply: &Reply<'_>, ctx: &Context) -> Classification {
        let code = reply.code();
        let first_digit = code / 100;
        let mut flags = reply.flags();
        let command = bit(ctx.command);
        let mut scope = scope_of(command, ctx.options);
        let enhanced = reply.enhanced().filter(|_| first_digit != 3);
        let matching = enhanced.filter(|e| u16::from(e.class()) == first_digit);
        if enhanced.is_some() && matching.is_none() {
            flags.insert(Flags::CLASS_MISMATCH);
        }
        if !(2..=5).contains(&first_digit) || code - first_digit * 100 >= 60 {
            flags.insert(Flags::NONSTANDARD_CODE);
        }
        let too_many_recipients = matching.is_some_and(|e| matches!(e.parts(), (_, 5, 3)));
        let accepted = ctx.accepted_recipients;
        let verdict = if !(2..=5).contains(&first_digit) {
            flags.insert(Flags::PROTOCOL_ERROR | Flags::CLOSE_CONNECTION);
            scope = Scope::Session;
            Verdict::Retry
        } else if code == 421 {
            flags.insert(Flags::CLOSE_CONNECTION);
            scope = Scope::Session;
            Verdict::Retry
        } else if first_digit <= 3 && !expects_positive(command, first_digit) {
            flags.insert(Flags::UNEXPECTED_CODE);
            scope = Scope::Session;
            Verdict::Retry
        } else if first_digit <= 3 && reply.has_negative_line() {
            Verdict::Retry
        } else if first_digit <= 3 {
            verdict_of_first_digit(first_digit)
        } else {
            let own = verdict_of_first_digit(first_digit);
            match ctx.command {
                Command::Rcpt => {
                    if (code == 452 && matching.is_none()) || too_many_recipients {
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
                        flags.insert(Flags::LEGACY_552);
                        Verdict::BatchLimit
                    } else {
                        own
                    }
                }
                _ if command & MESSAGE != 0
                    && accepted >= 1
                    && ctx.limited_recipients >= 1
                    && scope == Scope::Transaction
                    && (matching.is_none() || too_many_recipients) =>
                {
                    Verdict::BatchLimit
                }
                _ => own,
            }
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
            batch_size: if verdict == Verdict::BatchLimit {
                accepted
            } else {
                0
            },
            lines: reply.line_count(),
            consumed: reply.consumed(),
            text: reply.text_range(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code, with and without enhanced codes (matching, mismatched, X.5.3), one line and
    /// after a negative line, for every command, option set and a few counts: the table and
    /// the rule chain agree.
    #[test]
    fn the_table_agrees_with_the_rule_chain() {
        let step = if cfg!(miri) { 97 } else { 1 };
        let enhanced = ["", "2.0.0 ", "4.5.3 ", "5.5.3 ", "5.2.2 "];
        let contexts: Vec<Context> = Command::ALL
            .iter()
            .flat_map(|&command| {
                (0..=Options::ALL.bits()).flat_map(move |bits| {
                    [(0, 0), (1, 0), (1, 1), (5, 2)].map(|(accepted, limited)| Context {
                        command,
                        accepted_recipients: accepted,
                        limited_recipients: limited,
                        options: Options::from_bits(bits).unwrap_or_default(),
                    })
                })
            })
            .collect();
        let mut checked = 0u64;
        for code in (0..1000u16).step_by(step) {
            for e in enhanced {
                for first in ["", "550-no\r\n", "250-ok\r\n"] {
                    let text = format!("{first}{code:03} {e}text\r\n");
                    let Ok(reply) = crate::parse(text.as_bytes(), Options::default()) else {
                        continue;
                    };
                    for ctx in &contexts {
                        assert_eq!(
                            classify(&reply, ctx),
                            rule_chain::classify(&reply, ctx),
                            "{text:?} {ctx:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1_000_000 || cfg!(miri), "{checked}");
    }

    #[test]
    fn the_rule_chain_on_the_policy_rows() {
        let rcpt = |accepted| Context {
            command: Command::Rcpt,
            accepted_recipients: accepted,
            ..Context::default()
        };
        let verdict = |text: &str, ctx: &Context| {
            let reply = crate::parse(text.as_bytes(), Options::default()).unwrap();
            let c = rule_chain::classify(&reply, ctx);
            (c.verdict, c.scope, c.flags.contains(Flags::LEGACY_552))
        };
        let r = Scope::Recipient;
        assert_eq!(
            verdict("452 x\r\n", &rcpt(1)),
            (Verdict::BatchLimit, r, false)
        );
        assert_eq!(verdict("452 x\r\n", &rcpt(0)), (Verdict::Retry, r, false));
        assert_eq!(
            verdict("552 x\r\n", &rcpt(1)),
            (Verdict::BatchLimit, r, true)
        );
        assert_eq!(
            verdict("552 x\r\n", &rcpt(0)),
            (Verdict::Permanent, r, false)
        );
        assert_eq!(
            verdict("552 5.2.2 x\r\n", &rcpt(3)),
            (Verdict::Permanent, r, false)
        );
        assert_eq!(
            verdict("451 4.5.3 x\r\n", &rcpt(3)),
            (Verdict::BatchLimit, r, false)
        );
        let s = Scope::Session;
        assert_eq!(verdict("421 bye\r\n", &rcpt(3)), (Verdict::Retry, s, false));
        assert_eq!(verdict("354 go\r\n", &rcpt(3)), (Verdict::Retry, s, false));
        assert_eq!(verdict("650 x\r\n", &rcpt(3)), (Verdict::Retry, s, false));
        let data = Context {
            command: Command::DataEnd,
            accepted_recipients: 2,
            limited_recipients: 1,
            ..Context::default()
        };
        let t = Scope::Transaction;
        assert_eq!(verdict("554 x\r\n", &data), (Verdict::BatchLimit, t, false));
        let mail = Context::new(Command::Mail);
        assert_eq!(
            verdict("452 4.5.3 x\r\n", &mail),
            (Verdict::Retry, t, false)
        );
    }
}
