/*
 * bench: how fast the library classifies a pipelined stream of SMTP replies on this machine.
 *
 *   bench [REPLIES [ROUNDS]]     default: 1000000 replies, 5 rounds; the best round is shown
 *
 * The stream is built in memory from real replies (greetings, EHLO, RCPT limits, greylisting,
 * rejections) and read back to back with smtp_classify_reply, as a client reads what the
 * server sent after a pipelined batch of commands.
 *
 * Then a 64 KiB multiline reply is fed one byte at a time to smtp_classify_reply_incremental,
 * as a hostile server sending one byte per packet would make a client do, and its cost per
 * byte is set against classifying it whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
            if (smtp_classify_reply(reply, SIZE, &ctx, &out) != SMTP_OK || out.consumed != SIZE)
                return 1;
        double whole = (now() - start) / WHOLE_REPEATS;

        start = now();
        if (smtp_scanner_reset(&scanner) != SMTP_OK)
            return 1;
        smtp_status status;
        size_t len = 0;
        do
            status = smtp_classify_reply_incremental(reply, ++len, &ctx, &scanner, &out);
        while (status == SMTP_INCOMPLETE && len < SIZE);
        double bytes = now() - start;
        if (status != SMTP_OK || len != SIZE || out.consumed != SIZE)
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

int main(int argc, char **argv) {
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
            smtp_status status = smtp_classify_reply(stream + pos, size - pos, &ctx, &out);
            if (status != SMTP_OK) {
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
