// The benchmark's replies by category, shared by benches/parsers.rs and
// examples/instructions.rs (included with `include!`, so each keeps its own `Command` import).

const SHORT: &[(&str, Command)] = &[
    ("220 mx.example.com ESMTP Postfix\r\n", Command::Greeting),
    ("250 OK\r\n", Command::Mail),
    ("250 Accepted\r\n", Command::Rcpt),
    ("354 End data with <CR><LF>.<CR><LF>\r\n", Command::Data),
    ("250 Ok: queued as 4BFD41C0A2\r\n", Command::DataEnd),
    ("452 Too many recipients\r\n", Command::Rcpt),
    ("550 No such user here\r\n", Command::Rcpt),
    (
        "421 Service not available, closing transmission channel\r\n",
        Command::Mail,
    ),
    ("221 Bye\r\n", Command::Quit),
    ("334 VXNlcm5hbWU6\r\n", Command::Auth),
];

const ENHANCED: &[(&str, Command)] = &[
    ("250 2.1.0 Ok\r\n", Command::Mail),
    ("250 2.1.5 Ok\r\n", Command::Rcpt),
    ("452 4.5.3 Error: too many recipients\r\n", Command::Rcpt),
    (
        "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table\r\n",
        Command::Rcpt,
    ),
    (
        "451 4.7.1 Greylisting in action, please come back later\r\n",
        Command::Rcpt,
    ),
    (
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org\r\n",
        Command::Rcpt,
    ),
    ("250 2.0.0 Ok: queued as 3F1A2B4C5D\r\n", Command::DataEnd),
    (
        "421 4.7.0 Try again later, closing connection.\r\n",
        Command::Mail,
    ),
    (
        "550 5.7.26 Unauthenticated email is not accepted from this domain\r\n",
        Command::DataEnd,
    ),
    ("221 2.0.0 Bye\r\n", Command::Quit),
];

const EHLO: &[&str] = &[
    // Postfix
    "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n\
     250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n\
     250 CHUNKING\r\n",
    // Gmail
    "250-mx.google.com at your service, [192.0.2.10]\r\n250-SIZE 157286400\r\n250-8BITMIME\r\n\
     250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n\
     250 SMTPUTF8\r\n",
    // Exchange Online
    "250-AM0PR01MB1234.eurprd01.prod.exchangelabs.com Hello [192.0.2.10]\r\n\
     250-SIZE 157286400\r\n250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n\
     250-STARTTLS\r\n250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n",
    // Exim
    "250-mx.example.org Hello client.example.net [192.0.2.10]\r\n250-SIZE 52428800\r\n\
     250-8BITMIME\r\n250-PIPELINING\r\n250-PIPECONNECT\r\n250-AUTH PLAIN LOGIN\r\n\
     250-CHUNKING\r\n250-STARTTLS\r\n250-PRDR\r\n250 HELP\r\n",
];
