//! Planner sessions that a review found wrong (recipients made not attempted, and so sent again
//! at once, although the server may have the message: RFC 1047), and what they give now.

use smtp_verdict::{Action, Error, PlanOptions, Planner, Recipient, RecipientState, parse_ehlo};

/// Hands the plan every reply in `input`; stops at the first error.
fn feed(plan: &mut Planner, mut input: &[u8]) -> Result<(), Error> {
    while !input.is_empty() {
        let reply = plan.receive(input)?;
        input = &input[reply.classification.consumed..];
    }
    Ok(())
}

/// The actions up to the next wait.
fn until_wait(plan: &mut Planner) -> Vec<Action> {
    let mut sent = Vec::new();
    loop {
        match plan.next_action() {
            Action::Wait => return sent,
            action => sent.push(action),
        }
    }
}

fn possibly_delivered(r: &Recipient) -> bool {
    r.state() == Some(RecipientState::Deferred) && r.possibly_delivered()
}

/// Pipelined BDAT LAST sends the whole message before any RCPT reply: a connection lost after
/// the MAIL and first RCPT replies may have delivered to both recipients.
#[test]
fn connection_lost_after_an_early_bdat_last() {
    let caps = parse_ehlo(b"250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n").unwrap();
    let mut records = [Recipient::new(0); 2];
    let options = PlanOptions {
        chunking: true,
        ..PlanOptions::default()
    };
    let mut plan = Planner::new(&mut records, &caps, &options);
    assert_eq!(
        until_wait(&mut plan),
        [
            Action::Mail,
            Action::Rcpt(0),
            Action::Rcpt(1),
            Action::BdatLast
        ]
    );
    feed(&mut plan, b"250 ok\r\n250 ok\r\n").unwrap();
    plan.connection_lost();
    assert_eq!(plan.next_action(), Action::Done);
    assert!(records.iter().all(possibly_delivered), "{records:?}");
}

/// The session to the message's reply, without pipelining, for one recipient.
fn after_the_message(records: &mut [Recipient]) -> Planner<'_> {
    let caps = parse_ehlo(b"250 mx\r\n").unwrap();
    let mut plan = Planner::new(records, &caps, &PlanOptions::default());
    for (action, reply) in [
        (Action::Mail, &b"250 ok\r\n"[..]),
        (Action::Rcpt(0), b"250 ok\r\n"),
        (Action::Data, b"354 go\r\n"),
    ] {
        assert_eq!(plan.next_action(), action);
        feed(&mut plan, reply).unwrap();
    }
    assert_eq!(plan.next_action(), Action::Message);
    assert_eq!(plan.next_action(), Action::Wait);
    plan
}

/// A garbled reply to the message: the server had all of it.
#[test]
fn malformed_reply_after_the_final_dot() {
    let mut records = [Recipient::new(0)];
    let mut plan = after_the_message(&mut records);
    assert!(matches!(
        feed(&mut plan, b"250ok queued as 12345\r\n"),
        Err(Error::Malformed { .. })
    ));
    assert_eq!(plan.next_action(), Action::Done);
    assert!(possibly_delivered(&records[0]), "{records:?}");
}

/// A reply of a class the final dot never gets (a desynchronised server).
#[test]
fn unexpected_reply_after_the_final_dot() {
    let mut records = [Recipient::new(0)];
    let mut plan = after_the_message(&mut records);
    feed(&mut plan, b"354 again?\r\n").unwrap();
    assert_eq!(plan.next_action(), Action::Done);
    assert!(possibly_delivered(&records[0]), "{records:?}");
}

/// A 421 to the message says it was not taken: not attempted, for another connection.
#[test]
fn shutdown_reply_after_the_final_dot() {
    let mut records = [Recipient::new(0)];
    let mut plan = after_the_message(&mut records);
    feed(&mut plan, b"421 4.3.2 shutting down\r\n").unwrap();
    assert_eq!(plan.next_action(), Action::Reconnect);
    assert_eq!(records[0].state(), Some(RecipientState::NotAttempted));
    assert_eq!(records[0].code(), 421);
}

/// A temporary refusal of a later MAIL (a per-connection limit not advertised): this
/// transaction's recipients are deferred, the others want another connection.
#[test]
fn temporary_mail_refusal_after_a_transaction() {
    let caps = parse_ehlo(b"250-mx\r\n250 PIPELINING\r\n").unwrap();
    let mut records = [Recipient::new(0); 5];
    let options = PlanOptions {
        max_recipients: 2,
        ..PlanOptions::default()
    };
    let mut plan = Planner::new(&mut records, &caps, &options);
    assert_eq!(
        until_wait(&mut plan),
        [Action::Mail, Action::Rcpt(0), Action::Rcpt(1), Action::Data]
    );
    feed(&mut plan, b"250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n").unwrap();
    assert_eq!(plan.next_action(), Action::Message);
    feed(&mut plan, b"250 queued\r\n").unwrap();
    assert_eq!(
        until_wait(&mut plan),
        [Action::Mail, Action::Rcpt(2), Action::Rcpt(3), Action::Data]
    );
    let refused = b"451 4.3.2 too many transactions\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n";
    feed(&mut plan, refused).unwrap();
    assert_eq!(plan.next_action(), Action::Quit);
    feed(&mut plan, b"221 bye\r\n").unwrap();
    assert_eq!(plan.next_action(), Action::Reconnect);
    let states: Vec<_> = records.iter().map(|r| r.state().unwrap()).collect();
    use RecipientState::*;
    assert_eq!(
        states,
        [Delivered, Delivered, Deferred, Deferred, NotAttempted]
    );
}
