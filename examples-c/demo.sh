#!/bin/sh
# Runs the command-line classifier on a handful of real server replies, one per verdict,
# the recipient limits first. Usage: demo.sh PATH-TO-classify
set -e
classify=${1:-build/classify}

show() {
    printf '\n$ classify'
    for arg in "$@"; do printf " '%s'" "$arg"; done
    printf '\n'
    "$classify" "$@"
}

echo "== A recipient limit is not an error: deliver to the accepted recipients, resend the rest at once"
show -c RCPT -a 100 '452 4.5.3 Error: too many recipients'           # Postfix smtpd_recipient_limit
show -c RCPT -a 50 '552 too many recipients'                           # Exim recipients_max_reject, RFC 821 style
show -c RCPT -a 100 '451 4.5.3 Too many recipients: Too many recipients' # OpenSMTPD max-rcpt
show -c DATA -a 50 -l 1 '554 Too many recipients'                      # Exim refuses the whole message
echo
echo "== ... but only when it really is one"
show -c RCPT -a 0 '452 4.5.3 Error: too many recipients'              # nothing accepted: resending would loop
show -c RCPT -a 3 '552 5.2.2 <bob@example.org>: Recipient address rejected: Mailbox full'
show -c RCPT -a 3 '450 4.7.1 Error: too many recipients from 192.0.2.1' # a Postfix rate limit
show -c MAIL '452 4.5.3 Too many recipients: Too many messages sent'
echo
echo "== Every verdict, from a pipelined stream (MAIL, RCPT, RCPT, RCPT, DATA)"
printf '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table\r\n450 4.2.0 <later@example.org>: Recipient address rejected: Greylisted\r\n354 End data with <CR><LF>.<CR><LF>\r\n' \
    | { printf '\n$ printf ... | classify -c MAIL,RCPT,RCPT,RCPT,DATA\n'; "$classify" -c MAIL,RCPT,RCPT,RCPT,DATA; }
echo
echo "== Sessions"
show -c GREETING '220-mx.example.org ESMTP\r\n521 5.3.2 mx.example.org does not accept mail'
show -c RCPT -a 2 '421 4.4.2 mx.example.org Error: timeout exceeded'
show -c EHLO '250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME'
