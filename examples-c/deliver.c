/*
 * deliver: a small SMTP delivery client whose every decision comes from smtp-verdict.
 *
 *   deliver [options] HOST PORT RECIPIENT...
 *
 * Delivers one message to every RECIPIENT through the server at HOST:PORT and prints one
 * line per recipient: delivered, deferred (try later), bounced, or not-attempted (it needs
 * another connection: the server's MAILMAX was reached, it said 421, or the connection was
 * lost), with the server reply that decided it.
 *
 * Options:
 *   -f SENDER          envelope sender (default sender@example.org)
 *   -m FILE            the message, headers and body (default: a short built-in message)
 *   -H NAME            the name given in EHLO/HELO (default client.example.org)
 *   -c N               up to N connections, for recipients left not attempted (default 1)
 *   -n N               at most N recipients per transaction (default: as the server allows)
 *   -v                 show the SMTP dialogue on standard error
 *   --no-pipelining    one command at a time even when the server offers PIPELINING
 *   --chunking         send the message with BDAT when the server offers CHUNKING
 *   --no-learning      do not learn the server's recipient limit from its replies
 *   --lmtp             speak LMTP (LHLO, one reply per recipient after the message)
 *   --first-digit      no smtp-verdict: decide from the reply code's first digit (4xx defer,
 *                      5xx bounce), one transaction, as many mail agents do: shows what the
 *                      library changes
 *
 * Exit status: 0 every recipient delivered, 1 some deferred or not attempted (none bounced),
 * 2 some bounced, 3 bad usage or a local error.
 *
 * How it uses the library: the greeting and EHLO are classified with
 * smtp_classify_reply_incremental, and the EHLO reply read with smtp_parse_ehlo. Then a
 * smtp_plan does the rest: smtp_plan_next says what to send (the transactions, their size,
 * pipelining, RSET, QUIT) and smtp_plan_receive takes the server's bytes and keeps, in this
 * program's array of smtp_plan_recipient, what became of every recipient. This file keeps
 * only the socket, the addresses, the message and the report.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "smtp_verdict.h"

struct recipient {
    const char *address;
    char reply[160]; /* the reply that decided, for the report */
};

struct client {
    int fd;
    int verbose;
    const char *host, *port, *helo, *sender;
    int lmtp;
    const char *message; /* CRLF line ends, dot-stuffed, ending in CRLF.CRLF */
    const char *raw;     /* CRLF line ends, as BDAT sends it */
    size_t raw_len;
    char line[160];                      /* the last reply, printable */
    size_t len;                          /* bytes read and not yet consumed */
    uint8_t buf[SMTP_MAX_REPLY_LEN + 1]; /* more than any reply can need */
};

static void show(const char *who, const uint8_t *data, size_t len) {
    fputs(who, stderr);
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n' && i + 1 < len)
            fprintf(stderr, "\n%s", who);
        else if (data[i] >= 0x20 && data[i] < 0x7f)
            fputc(data[i], stderr);
    }
    fputc('\n', stderr);
}

static int send_all(struct client *c, const char *data, size_t len) {
    if (c->verbose)
        show("C: ", (const uint8_t *)data, len);
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int send_line(struct client *c, const char *format, const char *arg) {
    char line[1100];
    int n = snprintf(line, sizeof line, format, arg);
    return send_all(c, line, (size_t)n);
}

/* More bytes from the server; 0 when the connection is gone (closed, error, timeout). */
static int read_more(struct client *c) {
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n <= 0)
        return 0;
    c->len += (size_t)n;
    return 1;
}

/* Keeps a classified reply's final line, printable, in c->line, and drops the reply from the
 * buffer (the bytes after it, more pipelined replies, stay). */
static void consume(struct client *c, smtp_status status, const smtp_result *r) {
    char *out = c->line;
    size_t size = sizeof c->line;
    if (status != SMTP_OK) {
        snprintf(out, size, "(%s)", smtp_status_name(status));
    } else {
        int n = snprintf(out, size, "%u", (unsigned)r->code);
        if (r->enhanced_class)
            n += snprintf(out + n, size - (size_t)n, " %u.%u.%u", (unsigned)r->enhanced_class,
                          (unsigned)r->enhanced_subject, (unsigned)r->enhanced_detail);
        size_t room = size - (size_t)n - 2, text = r->text_len < room ? r->text_len : room;
        out[n++] = ' ';
        for (size_t i = 0; i < text; i++) {
            uint8_t b = c->buf[r->text_offset + i];
            out[n++] = b >= 0x20 && b < 0x7f ? (char)b : '?';
        }
        out[n] = '\0';
    }
    size_t used = r->consumed ? r->consumed : c->len; /* too long: drop it all */
    if (c->verbose)
        show("S: ", c->buf, used);
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
}

/* The reply to a command sent outside the plan (the greeting, EHLO, HELO). With caps, the
 * reply is also read as EHLO capabilities. 0 when the server refused or the connection is
 * gone (c->line says why). */
static int greet_reply(struct client *c, uint32_t command, smtp_ehlo_capabilities *caps) {
    smtp_context ctx = SMTP_CONTEXT_INIT;
    smtp_scanner scanner = SMTP_SCANNER_INIT;
    smtp_result r = SMTP_RESULT_INIT;
    smtp_status status;
    ctx.command = command;
    smtp_scanner_reset(&scanner);
    while ((status = smtp_classify_reply_incremental(c->buf, c->len, &ctx, &scanner, &r)) ==
           SMTP_INCOMPLETE)
        if (!read_more(c)) {
            snprintf(c->line, sizeof c->line, "(connection lost)");
            return 0;
        }
    if (caps != NULL && status == SMTP_OK)
        (void)smtp_parse_ehlo(c->buf, r.consumed, caps);
    consume(c, status, &r);
    return status == SMTP_OK && r.verdict == SMTP_VERDICT_SUCCESS;
}

/* Connects, reads the greeting, says EHLO (LHLO), or HELO when EHLO is refused. caps is
 * zeroed (code 0) for a server that offers nothing. 0 on failure; *refused says the server refused
 * this client for good (a 5xx greeting or HELO). */
static int open_session(struct client *c, smtp_ehlo_capabilities *caps, int *refused) {
    struct addrinfo hints = {0}, *list;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    c->fd = -1;
    c->len = 0;
    *refused = 0;
    if (getaddrinfo(c->host, c->port, &hints, &list) != 0) {
        snprintf(c->line, sizeof c->line, "(cannot resolve %s)", c->host);
        return 0;
    }
    for (struct addrinfo *a = list; a && c->fd < 0; a = a->ai_next) {
        c->fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (c->fd >= 0 && connect(c->fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(c->fd);
            c->fd = -1;
        }
    }
    freeaddrinfo(list);
    if (c->fd < 0) {
        snprintf(c->line, sizeof c->line, "(cannot connect to %s:%s)", c->host, c->port);
        return 0;
    }
    struct timeval timeout = {.tv_sec = 60}; /* a silent server: give up on the session */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);

    *caps = (smtp_ehlo_capabilities)SMTP_EHLO_CAPABILITIES_INIT;
    if (!greet_reply(c, SMTP_CMD_GREETING, NULL)) {
        *refused = c->line[0] == '5';
        return 0;
    }
    if (send_line(c, c->lmtp ? "LHLO %s\r\n" : "EHLO %s\r\n", c->helo) != 0)
        return 0;
    if (greet_reply(c, c->lmtp ? SMTP_CMD_LHLO : SMTP_CMD_EHLO, caps))
        return 1;
    if (c->lmtp || (strncmp(c->line, "500", 3) != 0 && strncmp(c->line, "502", 3) != 0))
        return 0;
    *caps = (smtp_ehlo_capabilities)SMTP_EHLO_CAPABILITIES_INIT; /* an old server: HELO */
    if (send_line(c, "HELO %s\r\n", c->helo) == 0 && greet_reply(c, SMTP_CMD_HELO, NULL))
        return 1;
    *refused = c->line[0] == '5';
    return 0;
}

/* Sends what the plan says; the replies are read at SMTP_PLAN_WAIT. 0 when the write fails. */
static int send_step(struct client *c, const smtp_plan_step *step, const struct recipient *rcpts) {
    char bdat[64];
    switch (step->action) {
    case SMTP_PLAN_SEND_MAIL:
        return send_line(c, "MAIL FROM:<%s>\r\n", c->sender) == 0;
    case SMTP_PLAN_SEND_RCPT:
        return send_line(c, "RCPT TO:<%s>\r\n", rcpts[step->recipient].address) == 0;
    case SMTP_PLAN_SEND_DATA:
        return send_all(c, "DATA\r\n", 6) == 0;
    case SMTP_PLAN_SEND_MESSAGE:
        return send_all(c, c->message, strlen(c->message)) == 0;
    case SMTP_PLAN_SEND_EMPTY_MESSAGE:
        return send_all(c, ".\r\n", 3) == 0;
    case SMTP_PLAN_SEND_BDAT_LAST:
        snprintf(bdat, sizeof bdat, "BDAT %zu LAST\r\n", c->raw_len);
        return send_all(c, bdat, strlen(bdat)) == 0 && send_all(c, c->raw, c->raw_len) == 0;
    case SMTP_PLAN_SEND_RSET:
        return send_all(c, "RSET\r\n", 6) == 0;
    default: /* SMTP_PLAN_SEND_QUIT */
        return send_all(c, "QUIT\r\n", 6) == 0;
    }
}

/* Hands the server's bytes to the plan until it has a complete reply, and files that reply's
 * line with the recipients it decided. 0 when the connection is gone. */
static int receive(struct client *c, smtp_plan *plan, struct recipient *rcpts) {
    smtp_result r = SMTP_RESULT_INIT;
    smtp_plan_reply about = SMTP_PLAN_REPLY_INIT;
    smtp_status status;
    while ((status = smtp_plan_receive(plan, c->buf, c->len, &r, &about)) == SMTP_INCOMPLETE)
        if (!read_more(c))
            return 0;
    consume(c, status, &r);
    for (size_t i = 0; i < plan->recipient_count; i++)
        if (plan->recipients[i].reply == about.number)
            snprintf(rcpts[i].reply, sizeof rcpts[i].reply, "%s", c->line);
    return 1;
}

/* One connection of the plan, until it says what comes after this connection. */
static uint32_t run_plan(struct client *c, smtp_plan *plan, struct recipient *rcpts) {
    smtp_plan_step step = SMTP_PLAN_STEP_INIT;
    for (;;) {
        if (smtp_plan_next(plan, &step) != SMTP_OK) {
            fprintf(stderr, "deliver: the plan refused a call: a bug in this program\n");
            abort();
        }
        if (step.action == SMTP_PLAN_DONE || step.action == SMTP_PLAN_RECONNECT)
            return step.action;
        if (step.action == SMTP_PLAN_WAIT ? !receive(c, plan, rcpts)
                                          : !send_step(c, &step, rcpts))
            smtp_plan_connection_lost(plan);
    }
}

/* The message as sent after DATA (stuff): CRLF line ends, a leading dot doubled, CRLF.CRLF
 * at the end; or as BDAT sends it: CRLF line ends only. NULL when out of memory. */
static char *prepare_message(const char *text, size_t len, int stuff, size_t *out_len) {
    char *out = malloc(2 * len + 8), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (stuff && (i == 0 || text[i - 1] == '\n') && text[i] == '.')
            *o++ = '.';
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            *o++ = '\r';
        *o++ = text[i];
    }
    if (len > 0 && text[len - 1] != '\n')
        o += sprintf(o, "\r\n");
    if (stuff)
        o += sprintf(o, ".\r\n");
    *o = '\0';
    *out_len = (size_t)(o - out);
    return out;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t size = 0, n;
    char chunk[4096];
    if (f == NULL)
        return NULL;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        char *grown = realloc(data, size + n + 1);
        if (grown == NULL) {
            free(data);
            fclose(f);
            return NULL;
        }
        data = grown;
        memcpy(data + size, chunk, n);
        size += n;
    }
    fclose(f);
    *len = size;
    return data ? data : calloc(1, 1);
}

/* --first-digit: the agent as many are written, without the library's verdicts. One
 * transaction, one command at a time: 2xx go on, 4xx defer, 5xx bounce. */
static int first_digit_reply(struct client *c) {
    smtp_result r = SMTP_RESULT_INIT;
    smtp_status status;
    while ((status = smtp_classify_reply(c->buf, c->len, NULL, &r)) == SMTP_INCOMPLETE)
        if (!read_more(c)) {
            snprintf(c->line, sizeof c->line, "(connection lost)");
            return 4;
        }
    consume(c, status, &r);
    return status == SMTP_OK ? (int)r.code / 100 : 4;
}

static void first_digit(struct client *c, struct recipient *rcpts, size_t count, int *states) {
    int digit = 4, accepted = 0;
    if (send_line(c, "MAIL FROM:<%s>\r\n", c->sender) == 0)
        digit = first_digit_reply(c);
    for (size_t i = 0; i < count; i++) {
        if (digit == 2 && send_line(c, "RCPT TO:<%s>\r\n", rcpts[i].address) == 0) {
            states[i] = first_digit_reply(c);
            accepted += states[i] == 2;
        } else {
            states[i] = digit == 2 ? 4 : digit;
        }
        snprintf(rcpts[i].reply, sizeof rcpts[i].reply, "%s", c->line);
    }
    int end = 4;
    if (accepted && send_all(c, "DATA\r\n", 6) == 0 && first_digit_reply(c) == 3 &&
        send_all(c, c->message, strlen(c->message)) == 0)
        end = first_digit_reply(c);
    for (size_t i = 0; i < count; i++)
        if (states[i] == 2) {
            states[i] = end;
            snprintf(rcpts[i].reply, sizeof rcpts[i].reply, "%s", c->line);
        }
    (void)send_all(c, "QUIT\r\n", 6);
}

static const char builtin_message[] = "From: <sender@example.org>\n"
                                      "To: undisclosed-recipients:;\n"
                                      "Subject: a message from deliver\n"
                                      "\n"
                                      "Sent by the smtp-verdict example client.\n";

/* An address that cannot go between < and > on a command line. */
static int bad_address(const char *address) {
    if (strlen(address) <= 1000 && strpbrk(address, "\r\n<>") == NULL)
        return 0;
    fprintf(stderr, "deliver: bad address %s\n", address);
    return 1;
}

static int usage(void) {
    fputs("usage: deliver [-f SENDER] [-m FILE] [-H NAME] [-c N] [-n N] [-v] [--no-pipelining]\n"
          "               [--chunking] [--no-learning] [--lmtp] [--first-digit]\n"
          "               HOST PORT RECIPIENT...\n",
          stderr);
    return 3;
}

int main(int argc, char **argv) {
    static struct client c; /* static: the reply buffer is large */
    smtp_plan_options options = SMTP_PLAN_OPTIONS_INIT;
    const char *message_file = NULL;
    int connections = 1, use_first_digit = 0, i = 1;
    c.helo = "client.example.org";
    c.sender = "sender@example.org";
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--first-digit") == 0)
            use_first_digit = 1;
        else if (strcmp(argv[i], "--no-pipelining") == 0)
            options.flags &= ~(uint32_t)SMTP_PLAN_PIPELINING;
        else if (strcmp(argv[i], "--chunking") == 0)
            options.flags |= SMTP_PLAN_CHUNKING;
        else if (strcmp(argv[i], "--no-learning") == 0)
            options.flags |= SMTP_PLAN_NO_LEARNING;
        else if (strcmp(argv[i], "--lmtp") == 0)
            c.lmtp = 1, options.flags |= SMTP_PLAN_LMTP;
        else if (strcmp(argv[i], "-v") == 0)
            c.verbose = 1;
        else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
            c.sender = argv[++i];
        else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
            message_file = argv[++i];
        else if (strcmp(argv[i], "-H") == 0 && i + 1 < argc)
            c.helo = argv[++i];
        else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            connections = atoi(argv[++i]);
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            options.max_recipients = (uint32_t)atoi(argv[++i]);
        else
            return usage();
    }
    if (argc - i < 3 || connections < 1)
        return usage();
    c.host = argv[i];
    c.port = argv[i + 1];
    size_t count = (size_t)(argc - i - 2), len = sizeof builtin_message - 1, stuffed_len;
    if (bad_address(c.sender))
        return 3;
    for (int j = i + 2; j < argc; j++)
        if (bad_address(argv[j]))
            return 3;
    char *text = message_file ? read_file(message_file, &len) : NULL;
    if (message_file && text == NULL) {
        perror(message_file);
        return 3;
    }
    char *message = prepare_message(text ? text : builtin_message, len, 1, &stuffed_len);
    char *raw = prepare_message(text ? text : builtin_message, len, 0, &c.raw_len);
    free(text);
    struct recipient *rcpts = calloc(count, sizeof *rcpts);
    smtp_plan_recipient *records = calloc(count, sizeof *records);
    int *states = calloc(count, sizeof *states);
    if (message == NULL || raw == NULL || rcpts == NULL || records == NULL || states == NULL) {
        fputs("deliver: out of memory\n", stderr);
        return 3;
    }
    c.message = message;
    c.raw = raw;
    for (size_t j = 0; j < count; j++) {
        rcpts[j].address = argv[i + 2 + (int)j];
        records[j].domain = smtp_domain_key(rcpts[j].address, strlen(rcpts[j].address));
    }

    smtp_plan plan = SMTP_PLAN_INIT;
    smtp_ehlo_capabilities caps;
    int refused = 0, opened = open_session(&c, &caps, &refused);
    if (opened && use_first_digit) {
        first_digit(&c, rcpts, count, states);
    } else if (opened) {
        if (smtp_plan_init(&plan, records, count, caps.code ? &caps : NULL, &options) != SMTP_OK) {
            fputs("deliver: too many recipients\n", stderr);
            return 3;
        }
        while (run_plan(&c, &plan, rcpts) == SMTP_PLAN_RECONNECT && --connections > 0) {
            close(c.fd);
            if (!open_session(&c, &caps, &refused))
                break;
            smtp_plan_reconnect(&plan, caps.code ? &caps : NULL, &options);
        }
    }
    if (c.fd >= 0)
        close(c.fd);

    int bounced = 0, delivered = 0;
    for (size_t j = 0; j < count; j++) {
        const char *state, *reply = rcpts[j].reply;
        if (use_first_digit && opened) {
            state = states[j] == 2 ? "delivered" : states[j] == 5 ? "bounced" : "deferred";
        } else if (!opened) { /* no session: the greeting or HELO decided for everyone */
            state = refused ? "bounced" : "deferred";
            reply = c.line;
        } else {
            state = smtp_plan_recipient_state_name(records[j].state);
            if (records[j].flags & SMTP_PLAN_POSSIBLY_DELIVERED)
                reply = "(no clear answer to the whole message: possibly delivered)";
            else if (records[j].reply == 0)
                reply = "(needs another connection)";
        }
        printf("%-13s %s: %s\n", state, rcpts[j].address, reply);
        bounced += strcmp(state, "bounced") == 0;
        delivered += strcmp(state, "delivered") == 0;
    }
    free(rcpts);
    free(records);
    free(states);
    free(message);
    free(raw);
    return bounced ? 2 : (size_t)delivered < count ? 1 : 0;
}
