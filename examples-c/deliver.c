/*
 * deliver: a small SMTP delivery client that makes every decision from smtp-verdict.
 *
 *   deliver [options] HOST PORT RECIPIENT...
 *
 * Delivers one message to every RECIPIENT through the server at HOST:PORT, on one
 * connection, and prints one line per recipient: delivered, deferred (try later) or bounced,
 * with the server reply that decided it.
 *
 * Options:
 *   -f SENDER          envelope sender (default sender@example.org)
 *   -m FILE            the message, headers and body (default: a short built-in message)
 *   -H NAME            the name given in EHLO/HELO (default client.example.org)
 *   -v                 show the SMTP dialogue on standard error
 *   --no-pipelining    one command at a time even when the server offers PIPELINING
 *   --first-digit      decide from the reply code's first digit alone (4xx defer, 5xx bounce),
 *                      as many mail agents do: shows what the library changes
 *
 * Exit status: 0 every recipient delivered, 1 some deferred (none bounced), 2 some bounced,
 * 3 bad usage or a local error.
 *
 * How it uses the library: each reply is read with smtp_classify_reply_incremental and a
 * smtp_scanner, so a server that sends a byte at a time costs no more than one that sends
 * whole replies; the smtp_context says which command the reply answers and how many
 * recipients the transaction has accepted and had batch-limited so far. Then:
 *   SUCCESS / INTERMEDIATE   go on (send the message after 354)
 *   RETRY / PERMANENT        defer / bounce what the scope covers: the recipient, the
 *                            transaction's accepted recipients, or everything left (session)
 *   BATCH_LIMIT recipient    the server's per-transaction recipient limit: send the recipient
 *                            again in a new transaction on this connection, right after
 *   BATCH_LIMIT transaction  the server refused the whole message for its recipient limit:
 *                            send all its recipients again, at most the accepted count at once
 *   SMTP_FLAG_CLOSE_CONNECTION (421, protocol errors): close the connection, defer the rest.
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

enum state { PENDING, ACCEPTED, LIMITED, DELIVERED, DEFERRED, BOUNCED };
static const char *const state_names[] = {"pending",   "accepted", "limited",
                                          "delivered", "deferred", "bounced"};

struct recipient {
    const char *address;
    enum state state;
    char reply[160]; /* the reply that decided, for the report */
};

/* One classified reply: the library's result and the final line, printable. */
struct reply {
    smtp_result r;
    char line[160];
    smtp_ehlo_capabilities caps; /* what an EHLO reply offers (zeroed for other replies) */
};

struct session {
    int fd;
    int verbose, first_digit, pipelining;
    const char *sender;
    const char *message; /* CRLF line ends, dot-stuffed, ending in CRLF.CRLF */
    struct reply rep;    /* the last reply */
    int need_rset;       /* a transaction was left unfinished */
    smtp_scanner scanner;
    size_t len;                          /* bytes read and not yet classified */
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

/* What a failed read or write looks like to the rest of the program: a 421. */
static void connection_lost(struct session *s, const char *why) {
    memset(&s->rep, 0, sizeof s->rep);
    s->rep.r.struct_size = sizeof s->rep.r;
    s->rep.r.verdict = SMTP_VERDICT_RETRY;
    s->rep.r.scope = SMTP_SCOPE_SESSION;
    s->rep.r.flags = SMTP_FLAG_CLOSE_CONNECTION;
    snprintf(s->rep.line, sizeof s->rep.line, "(%s)", why);
}

static int send_all(struct session *s, const char *data, size_t len) {
    if (s->verbose)
        show("C: ", (const uint8_t *)data, len);
    while (len > 0) {
        ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);
        if (n <= 0) {
            connection_lost(s, "write error");
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The verdict a first-digit agent reaches: 2 go on, 3 send the data, 4 defer, 5 bounce. */
static void first_digit_verdict(smtp_result *r, uint32_t command) {
    static const uint32_t by_digit[] = {SMTP_VERDICT_RETRY,   SMTP_VERDICT_RETRY,
                                        SMTP_VERDICT_SUCCESS, SMTP_VERDICT_INTERMEDIATE,
                                        SMTP_VERDICT_RETRY,   SMTP_VERDICT_PERMANENT};
    r->verdict = r->code / 100 < 6 ? by_digit[r->code / 100] : SMTP_VERDICT_RETRY;
    if (command == SMTP_CMD_RCPT)
        r->scope = SMTP_SCOPE_RECIPIENT;
    else if (command == SMTP_CMD_MAIL || command == SMTP_CMD_DATA || command == SMTP_CMD_DATA_END)
        r->scope = SMTP_SCOPE_TRANSACTION;
    else
        r->scope = SMTP_SCOPE_SESSION;
}

/* Keeps the final line of the reply at the start of the buffer, printable, for the report. */
static void keep_line(struct session *s, smtp_status status) {
    char *out = s->rep.line;
    size_t size = sizeof s->rep.line;
    if (status != SMTP_OK) {
        snprintf(out, size, "(%s)", smtp_status_name(status));
        return;
    }
    int n = snprintf(out, size, "%u", (unsigned)s->rep.r.code);
    if (s->rep.r.enhanced_class)
        n += snprintf(out + n, size - (size_t)n, " %u.%u.%u", (unsigned)s->rep.r.enhanced_class,
                      (unsigned)s->rep.r.enhanced_subject, (unsigned)s->rep.r.enhanced_detail);
    size_t room = size - (size_t)n - 2;
    size_t text = s->rep.r.text_len < room ? s->rep.r.text_len : room;
    out[n++] = ' ';
    for (size_t i = 0; i < text; i++) {
        uint8_t b = s->buf[s->rep.r.text_offset + i];
        out[n++] = b >= 0x20 && b < 0x7f ? (char)b : '?';
    }
    out[n] = '\0';
}

/* Reads and classifies the next reply into s->rep; ctx says what it answers. The bytes after
 * it (more pipelined replies) stay in the buffer for the next call. */
static void read_reply(struct session *s, const smtp_context *ctx) {
    smtp_status status;
    s->rep.r.struct_size = sizeof s->rep.r;
    while ((status = smtp_classify_reply_incremental(s->buf, s->len, ctx, &s->scanner,
                                                     &s->rep.r)) == SMTP_INCOMPLETE) {
        /* The library stops with SMTP_ERR_TOO_LONG before the buffer is full. */
        ssize_t n = recv(s->fd, s->buf + s->len, sizeof s->buf - s->len, 0);
        if (n <= 0) {
            connection_lost(s, n == 0 ? "connection closed" : "read error or timeout");
            return;
        }
        s->len += (size_t)n;
    }
    /* SMTP_ERR_MALFORMED and SMTP_ERR_TOO_LONG come with the safe answer: retry, session,
     * close. Anything else is a bug in this program. */
    if (status != SMTP_OK && status != SMTP_ERR_MALFORMED && status != SMTP_ERR_TOO_LONG) {
        fprintf(stderr, "deliver: %s\n", smtp_status_name(status));
        abort();
    }
    if (s->verbose)
        show("S: ", s->buf, s->rep.r.consumed);
    keep_line(s, status);
    s->rep.caps = (smtp_ehlo_capabilities)SMTP_EHLO_CAPABILITIES_INIT;
    if (ctx->command == SMTP_CMD_EHLO && status == SMTP_OK)
        (void)smtp_parse_ehlo(s->buf, s->rep.r.consumed, &s->rep.caps);
    if (s->first_digit && status == SMTP_OK)
        first_digit_verdict(&s->rep.r, ctx->command);
    memmove(s->buf, s->buf + s->rep.r.consumed, s->len - s->rep.r.consumed);
    s->len -= s->rep.r.consumed;
}

/* Sends a command (cmd, the line) and reads its reply. */
static void command(struct session *s, smtp_context *ctx, uint32_t cmd, const char *line) {
    ctx->command = cmd;
    if (send_all(s, line, strlen(line)) == 0)
        read_reply(s, ctx);
}

/* Must the session end here? On 421 and protocol errors, and whenever a verdict covers the
 * whole session (a refused greeting, a desynchronised server). */
static int session_over(const struct session *s) {
    return (s->rep.r.flags & SMTP_FLAG_CLOSE_CONNECTION) ||
           (s->rep.r.scope == SMTP_SCOPE_SESSION && s->rep.r.verdict != SMTP_VERDICT_SUCCESS);
}

static void settle(struct recipient *rcpt, enum state state, const char *reply) {
    rcpt->state = state;
    snprintf(rcpt->reply, sizeof rcpt->reply, "%s", reply);
}

/* A retry or permanent verdict, for one recipient. */
static void fail(struct recipient *rcpt, const struct reply *rep) {
    settle(rcpt, rep->r.verdict == SMTP_VERDICT_PERMANENT ? BOUNCED : DEFERRED, rep->line);
}

/* With PIPELINING (RFC 2920): MAIL, every RCPT and DATA in one write. */
static int send_pipelined(struct session *s, struct recipient **tx, size_t n) {
    size_t size = strlen(s->sender) + 24;
    for (size_t i = 0; i < n; i++)
        size += strlen(tx[i]->address) + 12;
    char *batch = malloc(size);
    if (batch == NULL) {
        connection_lost(s, "out of memory");
        return -1;
    }
    size_t at = (size_t)sprintf(batch, "MAIL FROM:<%s>\r\n", s->sender);
    for (size_t i = 0; i < n; i++)
        at += (size_t)sprintf(batch + at, "RCPT TO:<%s>\r\n", tx[i]->address);
    at += (size_t)sprintf(batch + at, "DATA\r\n");
    int result = send_all(s, batch, at);
    free(batch);
    return result;
}

/*
 * One transaction: MAIL, a RCPT for each of the n recipients tx[], DATA and the message.
 * Settles each recipient (DELIVERED, DEFERRED, BOUNCED) or leaves it LIMITED (refused for the
 * server's recipient limit: the caller sends it again), or ACCEPTED when the server refused
 * the whole message for its limit. Returns -1 when the session is over, 0 when the
 * transaction is done, or, after a whole-transaction limit, the most recipients to send in
 * one transaction from now on.
 */
static long transaction(struct session *s, struct recipient **tx, size_t n) {
    smtp_context ctx = {.struct_size = sizeof ctx};
    char line[1100];
    int pipelined = s->pipelining; /* the RCPTs and DATA are already sent */

    s->need_rset = 1;
    if (pipelined) {
        if (send_pipelined(s, tx, n) != 0)
            return -1;
        ctx.command = SMTP_CMD_MAIL;
        read_reply(s, &ctx);
    } else {
        snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", s->sender);
        command(s, &ctx, SMTP_CMD_MAIL, line);
    }
    if (session_over(s))
        return -1;
    int mail_ok = s->rep.r.verdict == SMTP_VERDICT_SUCCESS;
    for (size_t i = 0; i < n && !mail_ok; i++) /* a refused MAIL fails every recipient */
        fail(tx[i], &s->rep);

    for (size_t i = 0; i < n && (mail_ok || pipelined); i++) {
        if (pipelined) {
            ctx.command = SMTP_CMD_RCPT;
            read_reply(s, &ctx);
        } else {
            snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", tx[i]->address);
            command(s, &ctx, SMTP_CMD_RCPT, line);
        }
        if (session_over(s))
            return -1;
        if (!mail_ok) /* the replies to a refused MAIL's RCPTs say nothing new */
            continue;
        if (s->rep.r.verdict == SMTP_VERDICT_SUCCESS) {
            tx[i]->state = ACCEPTED;
            ctx.accepted_recipients++;
        } else if (s->rep.r.verdict == SMTP_VERDICT_BATCH_LIMIT) {
            settle(tx[i], LIMITED, s->rep.line);
            ctx.limited_recipients++;
        } else {
            fail(tx[i], &s->rep);
        }
    }

    /* DATA: already sent when pipelining, otherwise only worth sending to a recipient. */
    if (pipelined) {
        ctx.command = SMTP_CMD_DATA;
        read_reply(s, &ctx);
    } else if (ctx.accepted_recipients > 0) {
        command(s, &ctx, SMTP_CMD_DATA, "DATA\r\n");
    } else {
        return 0;
    }
    if (session_over(s))
        return -1;
    if (s->rep.r.verdict == SMTP_VERDICT_INTERMEDIATE) {
        /* 354: the message; with no recipient (pipelining) an empty one, to be refused. */
        command(s, &ctx, SMTP_CMD_DATA_END, ctx.accepted_recipients ? s->message : ".\r\n");
        if (session_over(s))
            return -1;
        s->need_rset = s->rep.r.verdict != SMTP_VERDICT_SUCCESS;
    }
    if (s->rep.r.flags & SMTP_FLAG_NO_RECIPIENTS) /* it says nothing about any recipient */
        return 0;
    if (s->rep.r.verdict == SMTP_VERDICT_BATCH_LIMIT) /* all of them again, fewer at once */
        return (long)ctx.accepted_recipients;
    for (size_t i = 0; i < n; i++) {
        if (tx[i]->state != ACCEPTED)
            continue;
        if (s->rep.r.verdict == SMTP_VERDICT_SUCCESS)
            settle(tx[i], DELIVERED, s->rep.line);
        else
            fail(tx[i], &s->rep);
    }
    return 0;
}

/* The session: greeting, EHLO (or HELO), transactions until every recipient is settled.
 * queue holds the recipients still to do, in order; tx has room for as many. */
static void deliver(struct session *s, const char *helo, struct recipient *rcpts, size_t count,
                    struct recipient **queue, struct recipient **tx) {
    smtp_context ctx = {.struct_size = sizeof ctx, .command = SMTP_CMD_GREETING};
    char line[600];
    size_t queued = count, batch = count;
    int greeted = 0;
    for (size_t i = 0; i < count; i++)
        queue[i] = &rcpts[i];

    read_reply(s, &ctx);
    if (session_over(s))
        goto over;
    snprintf(line, sizeof line, "EHLO %s\r\n", helo);
    command(s, &ctx, SMTP_CMD_EHLO, line);
    s->pipelining = s->pipelining && (s->rep.caps.extensions & SMTP_EXT_PIPELINING);
    /* RFC 9422 LIMITS RCPTMAX: no transaction larger than the server says it takes. */
    if (s->rep.caps.rcpt_max > 0 && s->rep.caps.rcpt_max < batch)
        batch = s->rep.caps.rcpt_max;
    if (s->rep.r.verdict == SMTP_VERDICT_PERMANENT &&
        !(s->rep.r.flags & SMTP_FLAG_CLOSE_CONNECTION)) { /* an old server: no extensions */
        snprintf(line, sizeof line, "HELO %s\r\n", helo);
        command(s, &ctx, SMTP_CMD_HELO, line);
    }
    if (session_over(s))
        goto over;
    greeted = 1;

    while (queued > 0) {
        if (s->need_rset) {
            command(s, &ctx, SMTP_CMD_RSET, "RSET\r\n");
            if (session_over(s) || s->rep.r.verdict != SMTP_VERDICT_SUCCESS)
                goto over;
        }
        size_t n = queued < batch ? queued : batch;
        memcpy(tx, queue, n * sizeof *tx);
        memmove(queue, queue + n, (queued - n) * sizeof *queue);
        queued -= n;
        long limit = transaction(s, tx, n);
        if (limit < 0)
            goto over;
        /* Back to the front of the queue, in their order: the batch-limited recipients, and
         * after a whole-transaction limit every recipient the server had accepted too. */
        size_t back = 0;
        for (size_t i = 0; i < n; i++)
            if (tx[i]->state == LIMITED || (limit > 0 && tx[i]->state == ACCEPTED))
                tx[back++] = tx[i];
        memmove(queue + back, queue, queued * sizeof *queue);
        memcpy(queue, tx, back * sizeof *queue);
        queued += back;
        for (size_t i = 0; i < back; i++)
            queue[i]->state = PENDING;
        if (limit > 0)
            batch = (size_t)limit;
    }
    command(s, &ctx, SMTP_CMD_QUIT, "QUIT\r\n");
    return;

over: /* the session ended early: what is not settled yet is deferred, or bounced when the
       * server refused the session itself for good (a 554 or 521 greeting, HELO refused) */
    if (!(s->rep.r.flags & SMTP_FLAG_CLOSE_CONNECTION))
        (void)send_all(s, "QUIT\r\n", 6);
    if (greeted)
        s->rep.r.verdict = SMTP_VERDICT_RETRY;
    for (size_t i = 0; i < count; i++)
        if (rcpts[i].state == PENDING || rcpts[i].state == ACCEPTED || rcpts[i].state == LIMITED)
            fail(&rcpts[i], &s->rep);
}

/* The message as sent after DATA: CRLF line ends, a leading dot doubled, CRLF.CRLF at the
 * end. Returns NULL when out of memory. */
static char *prepare_message(const char *text, size_t len) {
    char *out = malloc(2 * len + 8), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if ((i == 0 || text[i - 1] == '\n') && text[i] == '.')
            *o++ = '.';
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            *o++ = '\r';
        *o++ = text[i];
    }
    if (len > 0 && text[len - 1] != '\n')
        o += sprintf(o, "\r\n");
    strcpy(o, ".\r\n");
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

static int connect_to(const char *host, const char *port) {
    struct addrinfo hints, *list;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int error = getaddrinfo(host, port, &hints, &list);
    if (error != 0) {
        fprintf(stderr, "deliver: %s:%s: %s\n", host, port, gai_strerror(error));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = list; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd < 0) {
        fprintf(stderr, "deliver: cannot connect to %s:%s\n", host, port);
        return -1;
    }
    struct timeval timeout = {.tv_sec = 60}; /* a silent server: give up on the session */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    return fd;
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
    fputs("usage: deliver [-f SENDER] [-m FILE] [-H NAME] [-v] [--no-pipelining] "
          "[--first-digit] HOST PORT RECIPIENT...\n",
          stderr);
    return 3;
}

int main(int argc, char **argv) {
    static struct session s; /* static: the reply buffer is large */
    const char *message_file = NULL, *helo = "client.example.org";
    s.sender = "sender@example.org";
    s.pipelining = 1;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--first-digit") == 0)
            s.first_digit = 1;
        else if (strcmp(argv[i], "--no-pipelining") == 0)
            s.pipelining = 0;
        else if (strcmp(argv[i], "-v") == 0)
            s.verbose = 1;
        else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
            s.sender = argv[++i];
        else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
            message_file = argv[++i];
        else if (strcmp(argv[i], "-H") == 0 && i + 1 < argc)
            helo = argv[++i];
        else
            return usage();
    }
    if (argc - i < 3)
        return usage();
    const char *host = argv[i], *port = argv[i + 1];
    size_t count = (size_t)(argc - i - 2);
    if (bad_address(s.sender))
        return 3;
    for (int j = i + 2; j < argc; j++)
        if (bad_address(argv[j]))
            return 3;
    size_t len = sizeof builtin_message - 1;
    char *text = message_file ? read_file(message_file, &len) : NULL;
    if (message_file && text == NULL) {
        perror(message_file);
        return 3;
    }
    char *message = prepare_message(text ? text : builtin_message, len);
    free(text);
    struct recipient *rcpts = calloc(count, sizeof *rcpts);
    struct recipient **queue = malloc(count * sizeof *queue), **tx = malloc(count * sizeof *tx);
    if (message == NULL || rcpts == NULL || queue == NULL || tx == NULL) {
        fputs("deliver: out of memory\n", stderr);
        return 3;
    }
    for (size_t j = 0; j < count; j++)
        rcpts[j].address = argv[i + 2 + (int)j];
    s.message = message;
    s.scanner.struct_size = sizeof s.scanner;
    smtp_scanner_reset(&s.scanner);

    s.fd = connect_to(host, port);
    if (s.fd >= 0) {
        deliver(&s, helo, rcpts, count, queue, tx);
        close(s.fd);
    } else {
        connection_lost(&s, "cannot connect");
        for (size_t j = 0; j < count; j++)
            fail(&rcpts[j], &s.rep);
    }

    size_t tally[6] = {0};
    for (size_t j = 0; j < count; j++) {
        printf("%-9s %s: %s\n", state_names[rcpts[j].state], rcpts[j].address, rcpts[j].reply);
        tally[rcpts[j].state]++;
    }
    free(rcpts);
    free(queue);
    free(tx);
    free(message);
    return tally[BOUNCED] ? 2 : tally[DEFERRED] ? 1 : 0;
}
