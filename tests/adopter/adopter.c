/*
 * adopter.c: a small SMTP client written from include/smtp_verdict.h alone.
 *
 *   adopter HOST PORT RECIPIENT...
 *
 * Connects to HOST PORT, reads the greeting (classified by the library) and the EHLO reply
 * (classified, and its capabilities read by smtp_parse_ehlo; HELO when EHLO is refused with
 * 500/502), then delivers one short message to the recipients with the delivery planner
 * (smtp_plan_*), on one connection. It prints one line per recipient:
 *
 *   rcpt=<address> state=<state> code=<code> enhanced=<c.s.d|-> transaction=<n> attempts=<n> [possibly-delivered]
 *
 * then, if the plan wants another connection, `reconnect: <n> recipient(s) need another
 * connection`, and finally
 *
 *   delivered=D deferred=F bounced=B not_attempted=U transactions=T
 *
 * Exit status: 0 if every recipient was delivered, 1 otherwise, 2 on a usage or local error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include "smtp_verdict.h"

#define SENDER "adopter@example.org"
#define HELO_NAME "adopter.example.org"
#define IO_TIMEOUT_SECONDS 10

static const char MESSAGE[] =
    "From: <" SENDER ">\r\n"
    "Subject: smtp-verdict adopter test\r\n"
    "\r\n"
    "Hello from the adopter.\r\n"
    ".A line that starts with a dot, to be dot-stuffed.\r\n";

/* The input buffer: more than one whole reply (SMTP_MAX_REPLY_LEN) plus a read's worth. */
#define INBUF_SIZE (2 * SMTP_MAX_REPLY_LEN)
#define OUTBUF_SIZE 16384

struct conn {
    int fd;
    unsigned char in[INBUF_SIZE];
    size_t in_len;
    char out[OUTBUF_SIZE];
    size_t out_len;
    int broken; /* a read or write failed, or end of file */
};

static int verbose;

static void trace(const char *dir, const char *data, size_t len)
{
    size_t i, start = 0;
    if (!verbose)
        return;
    for (i = 0; i < len; i++) {
        if (data[i] == '\n' || i + 1 == len) {
            size_t end = i + 1;
            while (end > start && (data[end - 1] == '\n' || data[end - 1] == '\r'))
                end--;
            fprintf(stderr, "%s %.*s\n", dir, (int)(end - start), data + start);
            start = i + 1;
        }
    }
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1, rc;
    struct timeval tv;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "adopter: %s:%s: %s\n", host, port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "adopter: cannot connect to %s:%s: %s\n", host, port, strerror(errno));
        return -1;
    }
    tv.tv_sec = IO_TIMEOUT_SECONDS;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* Appends to the output buffer, flushing first when it is full. Returns 0, or -1 if broken. */
static int flush_out(struct conn *c);

static int queue_out(struct conn *c, const char *data, size_t len)
{
    while (len > 0) {
        size_t room = OUTBUF_SIZE - c->out_len, n;
        if (room == 0) {
            if (flush_out(c) != 0)
                return -1;
            continue;
        }
        n = len < room ? len : room;
        memcpy(c->out + c->out_len, data, n);
        c->out_len += n;
        data += n;
        len -= n;
    }
    return c->broken ? -1 : 0;
}

static int queue_str(struct conn *c, const char *s)
{
    return queue_out(c, s, strlen(s));
}

static int flush_out(struct conn *c)
{
    size_t off = 0;
    if (c->broken)
        return -1;
    trace("C:", c->out, c->out_len);
    while (off < c->out_len) {
        ssize_t n = send(c->fd, c->out + off, c->out_len - off, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "adopter: write: %s\n", n < 0 ? strerror(errno) : "nothing written");
            c->broken = 1;
            c->out_len = 0;
            return -1;
        }
        off += (size_t)n;
    }
    c->out_len = 0;
    return 0;
}

/* Reads more bytes at the end of the input buffer. Returns 0, or -1 (end of file, error,
 * timeout, buffer full). */
static int read_more(struct conn *c)
{
    ssize_t n;
    if (c->broken)
        return -1;
    if (c->in_len >= INBUF_SIZE) {
        fprintf(stderr, "adopter: input buffer full\n");
        c->broken = 1;
        return -1;
    }
    do {
        n = recv(c->fd, c->in + c->in_len, INBUF_SIZE - c->in_len, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        if (n == 0)
            fprintf(stderr, "adopter: connection closed by the server\n");
        else
            fprintf(stderr, "adopter: read: %s\n", strerror(errno));
        c->broken = 1;
        return -1;
    }
    trace("S:", (const char *)c->in + c->in_len, (size_t)n);
    c->in_len += (size_t)n;
    return 0;
}

static void drop_in(struct conn *c, size_t n)
{
    if (n > c->in_len)
        n = c->in_len;
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

/*
 * Reads one reply to `command` and classifies it with the incremental classifier. Returns the
 * status of the last call (SMTP_OK, SMTP_ERR_*), or SMTP_INCOMPLETE when the connection ended
 * before the reply did. The reply's bytes are dropped from the buffer unless the status says
 * the end of the reply is not known.
 */
static smtp_status read_reply(struct conn *c, uint32_t command, smtp_result *out)
{
    smtp_context ctx = SMTP_CONTEXT_INIT;
    smtp_scanner scanner = SMTP_SCANNER_INIT;
    smtp_status st;

    ctx.command = command;
    st = smtp_scanner_reset(&scanner);
    if (st != SMTP_OK) {
        fprintf(stderr, "adopter: smtp_scanner_reset: %s\n", smtp_status_name(st));
        return st;
    }
    for (;;) {
        st = smtp_classify_reply_incremental(c->in, c->in_len, &ctx, &scanner, out);
        switch (st) {
        case SMTP_INCOMPLETE:
            if (read_more(c) != 0)
                return SMTP_INCOMPLETE;
            continue;
        case SMTP_OK:
        case SMTP_ERR_MALFORMED:
            drop_in(c, out->consumed);
            return st;
        case SMTP_ERR_TOO_LONG:
            /* consumed is 0: the end of the reply is not known; the caller closes. */
            return st;
        case SMTP_ERR_NULL_ARGUMENT:
        case SMTP_ERR_INVALID_ARGUMENT:
        case SMTP_ERR_PANIC:
        default:
            fprintf(stderr, "adopter: smtp_classify_reply_incremental: %s\n",
                    smtp_status_name(st));
            return st;
        }
    }
}

/*
 * Reads the EHLO reply: its capabilities with smtp_parse_ehlo, its verdict with
 * smtp_classify_reply. Returns the smtp_parse_ehlo status (SMTP_INCOMPLETE: the connection
 * ended first). `res` holds the verdict when the status is SMTP_OK or SMTP_ERR_REFUSED.
 */
static smtp_status read_ehlo(struct conn *c, smtp_ehlo_capabilities *caps, smtp_result *res)
{
    smtp_context ctx = SMTP_CONTEXT_INIT;
    smtp_status st, cst;

    ctx.command = SMTP_CMD_EHLO;
    for (;;) {
        st = smtp_parse_ehlo(c->in, c->in_len, caps);
        if (st != SMTP_INCOMPLETE)
            break;
        if (read_more(c) != 0)
            return SMTP_INCOMPLETE;
    }
    switch (st) {
    case SMTP_OK:
    case SMTP_ERR_REFUSED:
        cst = smtp_classify_reply(c->in, c->in_len, &ctx, res);
        if (cst != SMTP_OK) {
            fprintf(stderr, "adopter: smtp_classify_reply (EHLO): %s\n", smtp_status_name(cst));
            /* res holds the safe answer (retry, session scope) whenever it is usable. */
        } else if (res->consumed != caps->consumed) {
            fprintf(stderr, "adopter: EHLO reply: classified %zu bytes, parsed %zu\n",
                    res->consumed, caps->consumed);
        }
        drop_in(c, caps->consumed);
        return st;
    case SMTP_ERR_MALFORMED:
    case SMTP_ERR_TOO_LONG:
        fprintf(stderr, "adopter: EHLO reply: %s\n", smtp_status_name(st));
        return st;
    case SMTP_ERR_NULL_ARGUMENT:
    case SMTP_ERR_INVALID_ARGUMENT:
    case SMTP_ERR_PANIC:
    default:
        fprintf(stderr, "adopter: smtp_parse_ehlo: %s\n", smtp_status_name(st));
        return st;
    }
}

/* Queues the message, dot-stuffed, and the final dot line. */
static int queue_message(struct conn *c)
{
    const char *p = MESSAGE;
    while (*p != '\0') {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        if (*p == '.' && queue_str(c, ".") != 0)
            return -1;
        if (queue_out(c, p, len) != 0 || queue_str(c, "\r\n") != 0)
            return -1;
        p += len;
        if (*p != '\0')
            p += 2;
    }
    return queue_str(c, ".\r\n");
}

static void print_result(const char *what, const smtp_result *r)
{
    fprintf(stderr, "adopter: %s: %u %s (%s scope)\n", what, (unsigned)r->code,
            smtp_verdict_name(r->verdict), smtp_scope_name(r->scope));
}

/*
 * Hands the buffered bytes to the plan until a reply is complete and no bytes remain.
 * Returns 0 to go on with smtp_plan_next, -1 when the session is over (the plan has been told
 * when that was the caller's doing).
 */
static int feed_plan(struct conn *c, smtp_plan *plan)
{
    for (;;) {
        smtp_result res = SMTP_RESULT_INIT;
        smtp_plan_reply about = SMTP_PLAN_REPLY_INIT;
        smtp_status st;

        if (c->in_len == 0 && read_more(c) != 0)
            goto lost;
        st = smtp_plan_receive(plan, c->in, c->in_len, &res, &about);
        switch (st) {
        case SMTP_OK:
            if (verbose)
                fprintf(stderr, "   reply #%u to %u (recipient %ld): %u %s/%s\n",
                        (unsigned)about.number, (unsigned)about.command,
                        about.recipient == SMTP_PLAN_NO_RECIPIENT ? -1L : (long)about.recipient,
                        (unsigned)res.code, smtp_verdict_name(res.verdict),
                        smtp_scope_name(res.scope));
            drop_in(c, res.consumed);
            if (c->in_len == 0)
                return 0;
            continue; /* pipelined replies came together */
        case SMTP_INCOMPLETE:
            if (read_more(c) != 0)
                goto lost;
            continue;
        case SMTP_ERR_MALFORMED:
        case SMTP_ERR_TOO_LONG:
            /* The plan has ended the session itself. */
            print_result(smtp_status_name(st), &res);
            c->in_len = 0;
            return -1;
        case SMTP_ERR_NULL_ARGUMENT:
        case SMTP_ERR_INVALID_ARGUMENT:
        default:
            /* The plan is unchanged: end it ourselves. */
            fprintf(stderr, "adopter: smtp_plan_receive: %s\n", smtp_status_name(st));
            goto lost;
        }
    }
lost:
    {
        smtp_status st = smtp_plan_connection_lost(plan);
        if (st != SMTP_OK)
            fprintf(stderr, "adopter: smtp_plan_connection_lost: %s\n", smtp_status_name(st));
    }
    return -1;
}

/* Runs the plan on the connection until its end. Returns the last action, or 0 on an error
 * that left the plan unusable; counts the transactions (MAIL commands) in *transactions. */
static uint32_t run_plan(struct conn *c, smtp_plan *plan, const char *const *rcpts,
                         unsigned *transactions)
{
    for (;;) {
        smtp_plan_step step = SMTP_PLAN_STEP_INIT;
        smtp_status st = smtp_plan_next(plan, &step);
        int werr = 0;

        if (st != SMTP_OK) {
            fprintf(stderr, "adopter: smtp_plan_next: %s\n", smtp_status_name(st));
            st = smtp_plan_connection_lost(plan);
            if (st != SMTP_OK) {
                fprintf(stderr, "adopter: smtp_plan_connection_lost: %s\n",
                        smtp_status_name(st));
                return 0;
            }
            continue;
        }
        switch (step.action) {
        case SMTP_PLAN_SEND_MAIL:
            ++*transactions;
            werr = queue_str(c, "MAIL FROM:<" SENDER ">\r\n");
            break;
        case SMTP_PLAN_SEND_RCPT:
            if (step.recipient >= plan->recipient_count) {
                fprintf(stderr, "adopter: recipient index %u out of range\n",
                        (unsigned)step.recipient);
                werr = -1;
                break;
            }
            werr = queue_str(c, "RCPT TO:<") || queue_str(c, rcpts[step.recipient]) ||
                   queue_str(c, ">\r\n");
            break;
        case SMTP_PLAN_SEND_DATA:
            werr = queue_str(c, "DATA\r\n");
            break;
        case SMTP_PLAN_SEND_MESSAGE:
            werr = queue_message(c);
            break;
        case SMTP_PLAN_SEND_EMPTY_MESSAGE:
            werr = queue_str(c, ".\r\n");
            break;
        case SMTP_PLAN_SEND_BDAT_LAST: {
            char cmd[64];
            snprintf(cmd, sizeof cmd, "BDAT %zu LAST\r\n", sizeof MESSAGE - 1);
            werr = queue_str(c, cmd) || queue_out(c, MESSAGE, sizeof MESSAGE - 1);
            break;
        }
        case SMTP_PLAN_SEND_RSET:
            werr = queue_str(c, "RSET\r\n");
            break;
        case SMTP_PLAN_SEND_QUIT:
            werr = queue_str(c, "QUIT\r\n");
            break;
        case SMTP_PLAN_WAIT:
            if (flush_out(c) != 0) {
                werr = -1;
                break;
            }
            feed_plan(c, plan); /* -1: the plan's next step is its end */
            break;
        case SMTP_PLAN_DONE:
        case SMTP_PLAN_RECONNECT:
            flush_out(c); /* nothing should be left; a failure changes nothing now */
            return step.action;
        default:
            fprintf(stderr, "adopter: unknown plan action %u (%s)\n", (unsigned)step.action,
                    smtp_plan_action_name(step.action));
            werr = -1;
            break;
        }
        if (werr != 0) {
            st = smtp_plan_connection_lost(plan);
            if (st != SMTP_OK) {
                fprintf(stderr, "adopter: smtp_plan_connection_lost: %s\n",
                        smtp_status_name(st));
                return 0;
            }
        }
    }
}

/* Sends QUIT and reads its reply, best effort, outside the plan (before it started). */
static void quit_outside_plan(struct conn *c)
{
    smtp_result res = SMTP_RESULT_INIT;
    if (c->broken)
        return;
    if (queue_str(c, "QUIT\r\n") == 0 && flush_out(c) == 0)
        (void)read_reply(c, SMTP_CMD_QUIT, &res);
}

int main(int argc, char **argv)
{
    static struct conn conn;
    struct conn *c = &conn;
    smtp_plan plan = SMTP_PLAN_INIT;
    smtp_plan_options opts = SMTP_PLAN_OPTIONS_INIT;
    smtp_ehlo_capabilities caps = SMTP_EHLO_CAPABILITIES_INIT;
    const smtp_ehlo_capabilities *capsp = &caps;
    smtp_plan_recipient *recs;
    const char *const *rcpts;
    size_t count, i;
    smtp_status st;
    smtp_result res = SMTP_RESULT_INIT;
    int session_ok = 0;
    uint32_t end = 0;
    unsigned transactions = 0, delivered = 0, deferred = 0, bounced = 0, not_attempted = 0;
    unsigned want_reconnect = 0;
    int argi = 1;

    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = 1;
        argi++;
    }
    if (argc - argi < 3) {
        fprintf(stderr, "usage: adopter [-v] HOST PORT RECIPIENT...\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    rcpts = (const char *const *)(argv + argi + 2);
    count = (size_t)(argc - argi - 2);
    recs = calloc(count, sizeof *recs);
    if (recs == NULL) {
        fprintf(stderr, "adopter: out of memory\n");
        return 2;
    }
    for (i = 0; i < count; i++)
        recs[i].domain = smtp_domain_key(rcpts[i], strlen(rcpts[i]));

    c->fd = connect_to(argv[argi], argv[argi + 1]);
    if (c->fd < 0)
        c->broken = 1;

    /* The greeting. */
    if (!c->broken) {
        st = read_reply(c, SMTP_CMD_GREETING, &res);
        if (st == SMTP_OK) {
            if (verbose)
                print_result("greeting", &res);
            if (res.verdict == SMTP_VERDICT_SUCCESS)
                session_ok = 1;
            else {
                print_result("greeting refused", &res);
                if (!(res.flags & SMTP_FLAG_CLOSE_CONNECTION))
                    quit_outside_plan(c);
            }
        } else if (st == SMTP_INCOMPLETE) {
            fprintf(stderr, "adopter: connection ended during the greeting\n");
        } else {
            fprintf(stderr, "adopter: greeting: %s\n", smtp_status_name(st));
        }
    }

    /* EHLO, or HELO when EHLO is not known here. */
    if (session_ok) {
        session_ok = 0;
        if (queue_str(c, "EHLO " HELO_NAME "\r\n") == 0 && flush_out(c) == 0) {
            st = read_ehlo(c, &caps, &res);
            switch (st) {
            case SMTP_OK:
                if (res.verdict == SMTP_VERDICT_SUCCESS) {
                    session_ok = 1;
                    if (verbose)
                        fprintf(stderr,
                                "adopter: EHLO %u: extensions 0x%x, RCPTMAX %u, MAILMAX %u, "
                                "RCPTDOMAINMAX %u, pipelining %s\n",
                                (unsigned)caps.code, (unsigned)caps.extensions,
                                (unsigned)caps.rcpt_max, (unsigned)caps.mail_max,
                                (unsigned)caps.rcpt_domain_max,
                                (caps.extensions & SMTP_EXT_PIPELINING) ? "yes" : "no");
                } else {
                    print_result("EHLO", &res);
                }
                break;
            case SMTP_ERR_REFUSED:
                print_result("EHLO refused", &res);
                if (caps.code == 500 || caps.code == 502) {
                    capsp = NULL; /* a HELO server: no extension, no limit */
                    if (queue_str(c, "HELO " HELO_NAME "\r\n") == 0 && flush_out(c) == 0 &&
                        read_reply(c, SMTP_CMD_HELO, &res) == SMTP_OK) {
                        if (res.verdict == SMTP_VERDICT_SUCCESS)
                            session_ok = 1;
                        else
                            print_result("HELO", &res);
                    }
                }
                break;
            case SMTP_INCOMPLETE:
                fprintf(stderr, "adopter: connection ended during the EHLO reply\n");
                break;
            default: /* SMTP_ERR_MALFORMED, SMTP_ERR_TOO_LONG, argument errors, panic */
                break;
            }
            if (!session_ok && !c->broken && !(res.flags & SMTP_FLAG_CLOSE_CONNECTION) &&
                st != SMTP_ERR_MALFORMED && st != SMTP_ERR_TOO_LONG)
                quit_outside_plan(c);
        }
    }

    /* The plan. Without a session it is started and ended at once: every recipient is
     * then not attempted on this connection. */
    st = smtp_plan_init(&plan, recs, count, session_ok ? capsp : NULL, &opts);
    if (st != SMTP_OK) {
        fprintf(stderr, "adopter: smtp_plan_init: %s\n", smtp_status_name(st));
        free(recs);
        if (c->fd >= 0)
            close(c->fd);
        return 2;
    }
    if (!session_ok) {
        st = smtp_plan_connection_lost(&plan);
        if (st != SMTP_OK)
            fprintf(stderr, "adopter: smtp_plan_connection_lost: %s\n", smtp_status_name(st));
    }
    end = run_plan(c, &plan, rcpts, &transactions);
    if (c->fd >= 0)
        close(c->fd);

    for (i = 0; i < count; i++) {
        const smtp_plan_recipient *r = &recs[i];
        char enh[48] = "-";
        if (r->enhanced_class != 0)
            snprintf(enh, sizeof enh, "%u.%u.%u", (unsigned)r->enhanced_class,
                     (unsigned)r->enhanced_subject, (unsigned)r->enhanced_detail);
        printf("rcpt=%s state=%s code=%u enhanced=%s transaction=%u attempts=%u%s\n", rcpts[i],
               smtp_plan_recipient_state_name(r->state), (unsigned)r->code, enh,
               (unsigned)r->transaction, (unsigned)r->attempts,
               (r->flags & SMTP_PLAN_POSSIBLY_DELIVERED) ? " possibly-delivered" : "");
        switch (r->state) {
        case SMTP_PLAN_DELIVERED:
            delivered++;
            break;
        case SMTP_PLAN_DEFERRED:
            deferred++;
            break;
        case SMTP_PLAN_BOUNCED:
            bounced++;
            break;
        case SMTP_PLAN_NOT_ATTEMPTED:
            not_attempted++;
            want_reconnect++;
            break;
        default: /* not final: cannot happen once the plan has ended; count as not attempted */
            not_attempted++;
            break;
        }
    }
    if (end == SMTP_PLAN_RECONNECT)
        printf("reconnect: %u recipient(s) need another connection\n", want_reconnect);
    printf("delivered=%u deferred=%u bounced=%u not_attempted=%u transactions=%u\n", delivered,
           deferred, bounced, not_attempted, transactions);
    free(recs);
    return delivered == count ? 0 : 1;
}
