/*
 * classify: say what SMTP server replies mean.
 *
 *   classify [options] [REPLY...]      classify each REPLY argument (\r \n \t \\ escapes;
 *                                      a missing final line end is added)
 *   classify [options] < stream        classify every reply of a (pipelined) stream
 *
 * Options:
 *   -c CMD[,CMD...]  the command each reply answers, in order (the last one repeats):
 *                    GREETING EHLO HELO LHLO STARTTLS AUTH MAIL RCPT DATA DATA_END BDAT
 *                    BDAT_LAST RSET VRFY EXPN HELP NOOP QUIT ETRN BURL BURL_LAST UNKNOWN
 *                    (default UNKNOWN)
 *   -a N             recipients accepted so far in the transaction (default 0); RCPT
 *                    replies that succeed add one, MAIL starts again from 0
 *   -l N             recipients of the transaction that got a batch limit (default 0)
 *   -s               strict parsing        -p  552 to RCPT stays permanent
 *   -L               LMTP                  -v  each line of a reply too
 *   -h               this help
 *
 * One line per reply: verdict, scope, code, enhanced code and its registry title, flags,
 * batch size (on a batch limit), text; with -v, then each of its lines' code and text. Exit status: 0 if every reply was classified, 1 if one could not be, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtp_verdict.h"

static const char *const command_names[] = {
    "UNKNOWN", "GREETING", "EHLO", "HELO", "LHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA",
    "DATA_END", "BDAT", "BDAT_LAST", "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT",
    "ETRN", "BURL", "BURL_LAST",
};
#define COMMAND_COUNT (sizeof command_names / sizeof command_names[0])
#define MAX_COMMANDS 64

static const struct {
    uint32_t bit;
    const char *name;
} flag_names[] = {
    {SMTP_FLAG_MULTILINE, "multiline"},
    {SMTP_FLAG_BARE_LF, "bare-lf"},
    {SMTP_FLAG_CODE_MISMATCH, "code-mismatch"},
    {SMTP_FLAG_CLASS_MISMATCH, "class-mismatch"},
    {SMTP_FLAG_NONSTANDARD_CODE, "nonstandard-code"},
    {SMTP_FLAG_UNEXPECTED_CODE, "unexpected-code"},
    {SMTP_FLAG_PROTOCOL_ERROR, "protocol-error"},
    {SMTP_FLAG_CLOSE_CONNECTION, "close-connection"},
    {SMTP_FLAG_LEGACY_552, "legacy-552"},
    {SMTP_FLAG_NO_RECIPIENTS, "no-recipients"},
    {SMTP_FLAG_LONG_LINE, "long-line"},
};

struct session {
    uint32_t commands[MAX_COMMANDS];
    size_t command_count;
    size_t replies; /* replies classified so far: picks the command */
    smtp_context ctx;
    int verbose; /* -v: print each line of a reply */
};

static void usage(FILE *to) {
    fputs("usage: classify [-c CMD[,CMD...]] [-a N] [-l N] [-s] [-p] [-L] [-v] [REPLY...]\n"
          "       classify [options] < stream-of-replies\n",
          to);
}

static int parse_commands(char *list, struct session *s) {
    for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
        size_t i = 0;
        while (i < COMMAND_COUNT && strcmp(name, command_names[i]) != 0)
            i++;
        if (i == COMMAND_COUNT || s->command_count == MAX_COMMANDS) {
            fprintf(stderr, "classify: unknown command %s\n", name);
            return -1;
        }
        s->commands[s->command_count++] = (uint32_t)i;
    }
    return 0;
}

static void print_text(const uint8_t *text, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (text[i] >= 0x20 && text[i] != 0x7f)
            putchar(text[i]);
        else
            printf("\\x%02x", text[i]);
    }
}

/* Each line of the reply classified in *r, by the library's own line reader. */
static void print_lines(const smtp_result *r, const uint8_t *data) {
    smtp_reply_line line = SMTP_REPLY_LINE_INIT;
    for (size_t at = 0; at < r->consumed; at = line.next_offset) {
        if (smtp_reply_line_at(data, r->consumed, at, &line) != SMTP_STATUS_OK)
            break;
        printf("  %3u%c \"", (unsigned)line.code, line.last ? ' ' : '-');
        print_text(data + line.text_offset, line.text_len);
        printf("\"\n");
    }
}

static void print_result(const struct session *s, smtp_verdict_status status,
                         const smtp_result *r, const uint8_t *data) {
    printf("%-12s %-11s %3u", smtp_verdict_name(r->verdict), smtp_scope_name(r->scope),
           (unsigned)r->code);
    if (r->enhanced_class != 0) {
        const char *title =
            smtp_enhanced_code_text(r->enhanced_class, r->enhanced_subject, r->enhanced_detail);
        printf(" %u.%u.%u (%s)", (unsigned)r->enhanced_class, (unsigned)r->enhanced_subject,
               (unsigned)r->enhanced_detail, title ? title : "not registered");
    }
    printf(" flags=");
    int any = 0;
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (r->flags & flag_names[i].bit) {
            printf("%s%s", any ? "," : "", flag_names[i].name);
            any = 1;
        }
    }
    if (!any)
        putchar('-');
    if (r->verdict == SMTP_VERDICT_BATCH_LIMIT)
        printf(" batch=%u", (unsigned)r->batch_size);
    if (status != SMTP_STATUS_OK)
        printf(" error=%s", smtp_status_name(status));
    else {
        printf(" text=\"");
        print_text(data + r->text_offset, r->text_len);
        putchar('"');
    }
    putchar('\n');
    if (s->verbose && status == SMTP_STATUS_OK)
        print_lines(r, data);
}

/* Classifies the reply at the start of data; returns the status and fills *r. Keeps the
 * transaction's recipient counts as the replies go by. */
static smtp_verdict_status classify_one(struct session *s, const uint8_t *data, size_t len,
                                smtp_scanner *scanner, smtp_result *r) {
    size_t pick = s->replies < s->command_count ? s->replies : s->command_count - 1;
    s->ctx.command = s->command_count ? s->commands[pick] : SMTP_CMD_UNKNOWN;
    smtp_verdict_status status = smtp_classify_reply_incremental(data, len, &s->ctx, scanner, r);
    if (status == SMTP_STATUS_INCOMPLETE)
        return status;
    s->replies++;
    if (status != SMTP_STATUS_OK)
        return status;
    if (s->ctx.command == SMTP_CMD_MAIL) {
        s->ctx.accepted_recipients = 0;
        s->ctx.limited_recipients = 0;
    } else if (s->ctx.command == SMTP_CMD_RCPT && r->verdict == SMTP_VERDICT_SUCCESS) {
        s->ctx.accepted_recipients++;
    } else if (s->ctx.command == SMTP_CMD_RCPT && r->verdict == SMTP_VERDICT_BATCH_LIMIT) {
        s->ctx.limited_recipients++;
    }
    return status;
}

/* Turns the escapes of an argument into bytes, in place; returns the length. */
static size_t unescape(char *s) {
    size_t out = 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (c == '\\' && s[i + 1]) {
            switch (s[++i]) {
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            default: c = s[i]; break;
            }
        }
        s[out++] = c;
    }
    return out;
}

static int classify_arguments(struct session *s, char **args, int count) {
    static uint8_t buf[SMTP_MAX_REPLY_LEN + 2];
    int failed = 0;
    for (int i = 0; i < count; i++) {
        size_t len = unescape(args[i]);
        if (len > SMTP_MAX_REPLY_LEN)
            len = SMTP_MAX_REPLY_LEN;
        memcpy(buf, args[i], len);
        if (len == 0 || buf[len - 1] != '\n') {
            buf[len++] = '\r';
            buf[len++] = '\n';
        }
        smtp_scanner scanner = {.struct_size = sizeof scanner};
        smtp_scanner_reset(&scanner);
        smtp_result r = {.struct_size = sizeof r};
        size_t at = 0;
        while (at < len) { /* an argument may hold several pipelined replies */
            smtp_verdict_status status = classify_one(s, buf + at, len - at, &scanner, &r);
            if (status == SMTP_STATUS_INCOMPLETE || (status != SMTP_STATUS_OK && r.consumed == 0)) {
                printf("error: %s\n", smtp_status_name(status));
                failed = 1;
                break;
            }
            print_result(s, status, &r, buf + at);
            failed |= status != SMTP_STATUS_OK;
            at += r.consumed;
        }
    }
    return failed;
}

static int classify_stream(struct session *s, int fd) {
    static uint8_t buf[2 * SMTP_MAX_REPLY_LEN];
    size_t len = 0;
    int failed = 0, eof = 0;
    smtp_scanner scanner = {.struct_size = sizeof scanner};
    smtp_scanner_reset(&scanner);
    smtp_result r = {.struct_size = sizeof r};
    while (!eof || len > 0) {
        smtp_verdict_status status = len ? classify_one(s, buf, len, &scanner, &r) : SMTP_STATUS_INCOMPLETE;
        if (status == SMTP_STATUS_INCOMPLETE) {
            if (eof) {
                printf("error: the input ends inside a reply\n");
                return 1;
            }
            ssize_t n = read(fd, buf + len, sizeof buf - len);
            if (n < 0) {
                perror("classify: read");
                return 1;
            }
            eof = n == 0;
            len += (size_t)n;
            continue;
        }
        print_result(s, status, &r, buf);
        failed |= status != SMTP_STATUS_OK;
        if (r.consumed == 0) /* a line too long to ever end: stop, as a client would */
            return 1;
        memmove(buf, buf + r.consumed, len - r.consumed);
        len -= r.consumed;
    }
    return failed;
}

int main(int argc, char **argv) {
    struct session s;
    memset(&s, 0, sizeof s);
    s.ctx.struct_size = sizeof s.ctx;
    int opt;
    while ((opt = getopt(argc, argv, "c:a:l:spLvh")) != -1) {
        switch (opt) {
        case 'c':
            if (parse_commands(optarg, &s) != 0)
                return 2;
            break;
        case 'a': s.ctx.accepted_recipients = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'l': s.ctx.limited_recipients = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 's': s.ctx.options |= SMTP_OPT_STRICT; break;
        case 'p': s.ctx.options |= SMTP_OPT_552_PERMANENT; break;
        case 'L': s.ctx.options |= SMTP_OPT_LMTP; break;
        case 'v': s.verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc)
        return classify_arguments(&s, argv + optind, argc - optind);
    return classify_stream(&s, STDIN_FILENO);
}
