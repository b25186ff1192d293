/*
 * bench: how fast the library classifies a pipelined stream of SMTP replies on this machine.
 *
 *   bench [REPLIES [ROUNDS]]     default: 1000000 replies, 5 rounds; the best round is shown
 *   bench --vectors DIR [ROUNDS] the vectors' replies against a glibc memchr line scan
 *                                (default 31 rounds; DIR is tests/vectors)
 *
 * The stream is built in memory from real replies (greetings, EHLO, RCPT limits, greylisting,
 * rejections) and read back to back with smtp_classify_reply, as a client reads what the
 * server sent after a pipelined batch of commands.
 *
 * Then a 64 KiB multiline reply is fed one byte at a time to smtp_classify_reply_incremental,
 * as a hostile server sending one byte per packet would make a client do, and its cost per
 * byte is set against classifying it whole.
 *
 * With --vectors, the real replies of the tests/vectors files (.tsv) whose status is OK (those written
 * with a repeat group, the length-limit vectors, are left out) are each classified by one
 * smtp_classify_reply call with its context and result set up for the call, as a C agent does
 * (README "Use from C"); the baseline finds every LF of the same replies with glibc's memchr.
 * The two take turns, round after round; the ratio printed is the median of the rounds'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>

#include "smtp_verdict.h"

static const char *const replies[] = {
    "220 mx.example.com ESMTP Postfix\r\n",
    "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 CHUNKING\r\n",
    "250 2.1.0 Ok\r\n",
    "250 2.1.5 Ok\r\n",
    "250 2.1.5 Ok\r\n",
    "452 4.5.3 Error: too many recipients\r\n",
    "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local "
    "recipient table\r\n",
    "451 4.7.1 Greylisting in action, please come back later\r\n",
    "354 End data with <CR><LF>.<CR><LF>\r\n",
    "250 2.0.0 Ok: queued as 3F1A2B4C5D\r\n",
    "421 4.7.0 Try again later, closing connection.\r\n",
    "221 2.0.0 Bye\r\n",
};
#define REPLY_KINDS (sizeof replies / sizeof replies[0])

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A 64 KiB EHLO reply arriving a byte per read: with a scanner, each call looks at the new
 * byte only. Returns 0, or 1 if a call did not give the expected answer. */
static int resume(int rounds) {
    enum { SIZE = SMTP_MAX_REPLY_LEN, WHOLE_REPEATS = 100 };
    static unsigned char reply[SIZE];
    size_t at = 0;
    for (unsigned line = 0; SIZE - at > 2 * 78; line++)
        at += (size_t)snprintf((char *)reply + at, SIZE - at,
                               "250-%06u 8BITMIME PIPELINING SIZE 52428800 "
                               "ENHANCEDSTATUSCODES DSN X\r\n",
                               line);
    memcpy(reply + at, "250 ", 4);
    memset(reply + at + 4, 'x', SIZE - at - 6);
    memcpy(reply + SIZE - 2, "\r\n", 2);

    smtp_context ctx = {.struct_size = sizeof ctx, .command = SMTP_CMD_EHLO};
    smtp_result out = {.struct_size = sizeof out};
    smtp_scanner scanner = {.struct_size = sizeof scanner};

    double best_whole = 0, best_bytes = 0;
    for (int r = 0; r < rounds; r++) {
        double start = now();
        for (int i = 0; i < WHOLE_REPEATS; i++)
            if (smtp_classify_reply(reply, SIZE, &ctx, &out) != SMTP_STATUS_OK || out.consumed != SIZE)
                return 1;
        double whole = (now() - start) / WHOLE_REPEATS;

        start = now();
        if (smtp_scanner_reset(&scanner) != SMTP_STATUS_OK)
            return 1;
        smtp_verdict_status status;
        size_t len = 0;
        do
            status = smtp_classify_reply_incremental(reply, ++len, &ctx, &scanner, &out);
        while (status == SMTP_STATUS_INCOMPLETE && len < SIZE);
        double bytes = now() - start;
        if (status != SMTP_STATUS_OK || len != SIZE || out.consumed != SIZE)
            return 1;
        if (r == 0 || whole < best_whole)
            best_whole = whole;
        if (r == 0 || bytes < best_bytes)
            best_bytes = bytes;
    }
    printf("a %d-byte reply fed one byte at a time: %.2f ns per byte, %.1f times its whole "
           "cost (%.1f us)\n",
           SIZE, best_bytes * 1e9 / SIZE, best_bytes / best_whole, best_whole * 1e6);
    return 0;
}


/* One reply of the vectors, with its context's values. */
struct vector {
    size_t offset, len;
    uint32_t command, accepted, limited;
};

static const char *const command_names[] = {
    "UNKNOWN", "GREETING", "EHLO", "HELO", "LHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA",
    "DATA_END", "BDAT", "BDAT_LAST", "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT",
};

/* Unescapes a reply column (\r \n \t \\ \xHH) into out; returns its length, or 0 for a
 * column with a repeat group or an unknown escape. */
static size_t unescape(const char *in, unsigned char *out) {
    size_t n = 0;
    while (*in) {
        if (*in != '\\') {
            out[n++] = (unsigned char)*in++;
            continue;
        }
        in++;
        switch (*in) {
        case 'r': out[n++] = '\r'; in++; break;
        case 'n': out[n++] = '\n'; in++; break;
        case 't': out[n++] = '\t'; in++; break;
        case '\\': out[n++] = '\\'; in++; break;
        case 'x': {
            unsigned v;
            if (sscanf(in + 1, "%2x", &v) != 1)
                return 0;
            out[n++] = (unsigned char)v;
            in += 3;
            break;
        }
        default: return 0;
        }
    }
    return n;
}

/* Reads the OK rows of the .tsv files of DIR into bytes (grown as needed) and vectors; returns the count. */
static size_t load_vectors(const char *dir, unsigned char **bytes, struct vector **vectors) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t count = 0, size = 0, cap_bytes = 0, cap_vectors = 0;
    static char line[1 << 16];
    static unsigned char reply[1 << 16];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t name_len = strlen(e->d_name);
        if (name_len < 5 || strcmp(e->d_name + name_len - 4, ".tsv") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        while (fgets(line, sizeof line, f) != NULL) {
            line[strcspn(line, "\n")] = 0;
            char *field[14];
            int fields = 0;
            for (char *p = line; fields < 14; fields++) {
                field[fields] = p;
                p = strchr(p, '\t');
                if (p == NULL) {
                    fields++;
                    break;
                }
                *p++ = 0;
            }
            if (fields != 14 || line[0] == '#' || strcmp(field[7], "OK") != 0)
                continue;
            size_t len = unescape(field[13], reply);
            uint32_t command = 0;
            for (uint32_t c = 0; c < sizeof command_names / sizeof command_names[0]; c++)
                if (strcmp(field[3], command_names[c]) == 0)
                    command = c;
            if (len == 0)
                continue;
            if (size + len > cap_bytes) {
                cap_bytes = 2 * (size + len);
                *bytes = realloc(*bytes, cap_bytes);
            }
            if (count == cap_vectors) {
                cap_vectors = 2 * count + 64;
                *vectors = realloc(*vectors, cap_vectors * sizeof **vectors);
            }
            if (*bytes == NULL || *vectors == NULL)
                exit(1);
            memcpy(*bytes + size, reply, len);
            (*vectors)[count++] = (struct vector){size, len, command,
                                                  (uint32_t)strtoul(field[4], NULL, 10),
                                                  (uint32_t)strtoul(field[5], NULL, 10)};
            size += len;
        }
        fclose(f);
    }
    closedir(d);
    return count;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { REPEATS = 1000 };

/* The two timed loops, each a function of its own that starts on a 64-byte boundary: inlined
 * into main, their alignment moved with the code the linker puts before main (the library's
 * cold functions), and the memchr scan's time with it, by 8% between two builds of one
 * bench.c. */
__attribute__((noinline, aligned(64))) static unsigned long
classify_all(const unsigned char *bytes, const struct vector *v, size_t count) {
    unsigned long sink = 0;
    for (int k = 0; k < REPEATS; k++)
        for (size_t i = 0; i < count; i++) {
            smtp_context ctx = {.struct_size = sizeof ctx,
                                .command = v[i].command,
                                .accepted_recipients = v[i].accepted,
                                .limited_recipients = v[i].limited};
            smtp_result out = {.struct_size = sizeof out};
            smtp_verdict_status status = smtp_classify_reply(bytes + v[i].offset, v[i].len, &ctx, &out);
            sink += status + out.verdict + out.consumed;
        }
    return sink;
}

__attribute__((noinline, aligned(64))) static unsigned long
scan_all(const unsigned char *bytes, const struct vector *v, size_t count) {
    unsigned long sink = 0;
    for (int k = 0; k < REPEATS; k++)
        for (size_t i = 0; i < count; i++) {
            const unsigned char *p = bytes + v[i].offset, *end = p + v[i].len, *lf;
            while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
                sink += (unsigned long)(lf - p);
                p = lf + 1;
            }
        }
    return sink;
}

/* The vectors' replies through smtp_classify_reply against a memchr line scan. */
static int vectors_vs_memchr(const char *dir, int rounds) {
    unsigned char *bytes = NULL;
    struct vector *v = NULL;
    size_t count = load_vectors(dir, &bytes, &v);
    if (count == 0) {
        fprintf(stderr, "bench: no vectors in %s\n", dir);
        return 1;
    }
    double *ratios = malloc((size_t)rounds * sizeof *ratios);
    double best_classify = 0, best_memchr = 0;
    size_t total = 0;
    unsigned long sink = 0;
    for (size_t i = 0; i < count; i++)
        total += v[i].len;
    for (int r = 0; r < rounds; r++) {
        double start = now();
        sink += classify_all(bytes, v, count);
        double classify = now() - start;
        start = now();
        sink += scan_all(bytes, v, count);
        double scan = now() - start;
        ratios[r] = classify / scan;
        if (r == 0 || classify < best_classify)
            best_classify = classify;
        if (r == 0 || scan < best_memchr)
            best_memchr = scan;
    }
    qsort(ratios, (size_t)rounds, sizeof *ratios, compare_doubles);
    printf("%zu vector replies (%zu bytes): smtp_classify_reply %.1f ns per reply, memchr line "
           "scan %.1f ns (best rounds)\n",
           count, total, best_classify * 1e9 / REPEATS / (double)count,
           best_memchr * 1e9 / REPEATS / (double)count);
    printf("smtp_classify_reply / memchr: %.2fx (median of %d rounds, %.2f to %.2f) [%lu]\n",
           ratios[rounds / 2], rounds, ratios[0], ratios[rounds - 1], sink % 10);
    free(ratios);
    free(bytes);
    free(v);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 2 && strcmp(argv[1], "--vectors") == 0)
        return vectors_vs_memchr(argv[2], argc > 3 ? atoi(argv[3]) : 31);
    long count = argc > 1 ? atol(argv[1]) : 1000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (count <= 0 || rounds <= 0) {
        fputs("usage: bench [REPLIES [ROUNDS]]\n", stderr);
        return 2;
    }

    size_t size = 0;
    for (long i = 0; i < count; i++)
        size += strlen(replies[i % REPLY_KINDS]);
    unsigned char *stream = malloc(size);
    if (stream == NULL) {
        fputs("bench: out of memory\n", stderr);
        return 1;
    }
    size_t at = 0;
    for (long i = 0; i < count; i++) {
        size_t len = strlen(replies[i % REPLY_KINDS]);
        memcpy(stream + at, replies[i % REPLY_KINDS], len);
        at += len;
    }

    smtp_context ctx = {
        .struct_size = sizeof ctx, .command = SMTP_CMD_RCPT, .accepted_recipients = 1};
    smtp_result out = {.struct_size = sizeof out};

    double best = 0;
    unsigned long verdicts[8] = {0};
    for (int r = 0; r < rounds; r++) {
        long classified = 0;
        double start = now();
        for (size_t pos = 0; pos < size; pos += out.consumed) {
            smtp_verdict_status status = smtp_classify_reply(stream + pos, size - pos, &ctx, &out);
            if (status != SMTP_STATUS_OK) {
                fprintf(stderr, "bench: %s at byte %zu\n", smtp_status_name(status), pos);
                free(stream);
                return 1;
            }
            verdicts[out.verdict & 7]++;
            classified++;
        }
        double seconds = now() - start;
        if (classified != count) {
            fprintf(stderr, "bench: %ld replies classified, %ld expected\n", classified, count);
            free(stream);
            return 1;
        }
        if (r == 0 || seconds < best)
            best = seconds;
    }

    printf("smtp_verdict %s: %ld replies, %.1f MB, best of %d rounds: %.3f ms\n",
           smtp_verdict_version(), count, (double)size / 1e6, rounds, best * 1e3);
    printf("%.0f replies/s, %.1f MB/s, %.1f ns per reply (retry verdicts seen: %lu)\n",
           (double)count / best, (double)size / 1e6 / best, best * 1e9 / (double)count,
           verdicts[SMTP_VERDICT_RETRY]);
    free(stream);
    if (resume(rounds) != 0) {
        fputs("bench: the byte-at-a-time reply did not classify as it does whole\n", stderr);
        return 1;
    }
    return 0;
}
