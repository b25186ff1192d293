/* Every test vector through the C ABI, against the verdict its row expects: classified whole,
 * resumed one byte at a time through a scanner, and all complete replies pipelined into one
 * stream. The names in the file are the header's constants without their prefix, so the test
 * also checks that the header's values mean what the data says.
 *
 * Input (written by tests/c_api.rs from the files in tests/vectors), one row per line:
 *   id command accepted limited options status verdict scope code enhanced flags reply-hex
 * with "-" for an empty list or an absent value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_verdict.h"
#include "check.h"

struct name {
    const char *name;
    uint32_t value;
};

#define N(prefix, x) {#x, prefix##x}
static const struct name commands[] = {
    N(SMTP_CMD_, UNKNOWN), N(SMTP_CMD_, GREETING), N(SMTP_CMD_, EHLO),     N(SMTP_CMD_, HELO),
    N(SMTP_CMD_, LHLO),    N(SMTP_CMD_, STARTTLS), N(SMTP_CMD_, AUTH),     N(SMTP_CMD_, MAIL),
    N(SMTP_CMD_, RCPT),    N(SMTP_CMD_, DATA),     N(SMTP_CMD_, DATA_END), N(SMTP_CMD_, BDAT),
    N(SMTP_CMD_, BDAT_LAST), N(SMTP_CMD_, RSET),   N(SMTP_CMD_, VRFY),     N(SMTP_CMD_, EXPN),
    N(SMTP_CMD_, HELP),    N(SMTP_CMD_, NOOP),     N(SMTP_CMD_, QUIT),     N(SMTP_CMD_, ETRN),
    N(SMTP_CMD_, BURL),    N(SMTP_CMD_, BURL_LAST), {NULL, 0}};
static const struct name statuses[] = {{"OK", SMTP_STATUS_OK},
                                       {"INCOMPLETE", SMTP_STATUS_INCOMPLETE},
                                       {"MALFORMED", SMTP_STATUS_MALFORMED},
                                       {"TOO_LONG", SMTP_STATUS_TOO_LONG},
                                       {NULL, 0}};
static const struct name verdicts[] = {
    {"-", 0}, N(SMTP_VERDICT_, SUCCESS), N(SMTP_VERDICT_, INTERMEDIATE), N(SMTP_VERDICT_, RETRY),
    N(SMTP_VERDICT_, BATCH_LIMIT), N(SMTP_VERDICT_, PERMANENT), {NULL, 0}};
static const struct name scopes[] = {{"-", 0},
                                     N(SMTP_SCOPE_, RECIPIENT),
                                     N(SMTP_SCOPE_, TRANSACTION),
                                     N(SMTP_SCOPE_, SESSION),
                                     {NULL, 0}};
static const struct name options[] = {N(SMTP_OPT_, STRICT), N(SMTP_OPT_, 552_PERMANENT),
                                      N(SMTP_OPT_, LMTP), {NULL, 0}};
static const struct name flags[] = {
    N(SMTP_FLAG_, MULTILINE),        N(SMTP_FLAG_, BARE_LF),        N(SMTP_FLAG_, CODE_MISMATCH),
    N(SMTP_FLAG_, CLASS_MISMATCH),   N(SMTP_FLAG_, NONSTANDARD_CODE),
    N(SMTP_FLAG_, UNEXPECTED_CODE),  N(SMTP_FLAG_, PROTOCOL_ERROR),
    N(SMTP_FLAG_, CLOSE_CONNECTION), N(SMTP_FLAG_, LEGACY_552),     N(SMTP_FLAG_, NO_RECIPIENTS),
    N(SMTP_FLAG_, LONG_LINE),        {NULL, 0}};

static int lookup(const struct name *table, const char *name, uint32_t *value) {
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0) {
            *value = table->value;
            return 1;
        }
    fprintf(stderr, "unknown name %s\n", name);
    return 0;
}

/* "A,B" or "-" to bits. */
static int lookup_bits(const struct name *table, char *names, uint32_t *bits) {
    char *name, *save = NULL;
    *bits = 0;
    if (strcmp(names, "-") == 0)
        return 1;
    for (name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        uint32_t bit;
        if (!lookup(table, name, &bit))
            return 0;
        *bits |= bit;
    }
    return 1;
}

struct row {
    char id[128];
    smtp_context ctx;
    uint32_t status, verdict, scope, code, enhanced[3], flags;
    uint8_t *reply;
    size_t len;
};

static int hex(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_row(char *line, struct row *row) {
    char *field[11], *save = NULL, *hexreply;
    size_t i;
    memset(row, 0, sizeof *row);
    for (i = 0; i < 11; i++)
        if (!(field[i] = strtok_r(i ? NULL : line, " \n", &save)))
            return 0;
    hexreply = strtok_r(NULL, " \n", &save);
    snprintf(row->id, sizeof row->id, "%s", field[0]);
    row->ctx.struct_size = sizeof row->ctx;
    row->ctx.accepted_recipients = (uint32_t)strtoul(field[2], NULL, 10);
    row->ctx.limited_recipients = (uint32_t)strtoul(field[3], NULL, 10);
    row->code = (uint32_t)strtoul(field[8], NULL, 10);
    if (strcmp(field[9], "-") != 0 &&
        sscanf(field[9], "%u.%u.%u", &row->enhanced[0], &row->enhanced[1], &row->enhanced[2]) != 3)
        return 0;
    if (!lookup(commands, field[1], &row->ctx.command) ||
        !lookup_bits(options, field[4], &row->ctx.options) ||
        !lookup(statuses, field[5], &row->status) || !lookup(verdicts, field[6], &row->verdict) ||
        !lookup(scopes, field[7], &row->scope) || !lookup_bits(flags, field[10], &row->flags))
        return 0;
    /* An exact-size copy: sanitizers and valgrind catch any read past the reply. */
    row->len = hexreply && strcmp(hexreply, "-") != 0 ? strlen(hexreply) / 2 : 0;
    row->reply = (uint8_t *)malloc(row->len ? row->len : 1);
    for (i = 0; i < row->len; i++) {
        int hi = hex(hexreply[2 * i]), lo = hex(hexreply[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        row->reply[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

static smtp_result empty_result(void) {
    smtp_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    return r;
}

static int check_row(const struct row *row, smtp_result *whole) {
    int before = check_failures;
    smtp_verdict_status status;
    smtp_scanner scanner;
    size_t end;

    *whole = empty_result();
    status = smtp_classify_reply(row->reply, row->len, &row->ctx, whole);
    CHECK_EQ(status, row->status);
    if (row->status == SMTP_STATUS_INCOMPLETE)
        goto done;
    CHECK_EQ(whole->verdict, row->verdict);
    CHECK_EQ(whole->scope, row->scope);
    CHECK_EQ(whole->code, row->code);
    CHECK_EQ(whole->enhanced_class, row->enhanced[0]);
    CHECK_EQ(whole->enhanced_subject, row->enhanced[1]);
    CHECK_EQ(whole->enhanced_detail, row->enhanced[2]);
    CHECK_EQ(whole->flags, row->flags);
    CHECK(whole->consumed <= row->len);
    CHECK(whole->text_offset + whole->text_len <= row->len);
    if (status == SMTP_STATUS_OK)
        CHECK(whole->consumed > 0 && row->reply[whole->consumed - 1] == '\n');

    /* The same reply read one byte at a time, resumed through a scanner. */
    memset(&scanner, 0, sizeof scanner);
    scanner.struct_size = sizeof scanner;
    CHECK_EQ(smtp_scanner_reset(&scanner), SMTP_STATUS_OK);
    for (end = 0; end <= row->len; end++) {
        smtp_result r = empty_result();
        smtp_verdict_status s = smtp_classify_reply_incremental(row->reply, end, &row->ctx, &scanner, &r);
        if (s == SMTP_STATUS_INCOMPLETE)
            continue;
        CHECK_EQ(s, status);
        CHECK(memcmp(&r, whole, sizeof r) == 0);
        break;
    }
done:
    if (check_failures != before)
        fprintf(stderr, "  in row %s\n", row->id);
    return check_failures == before;
}

int main(int argc, char **argv) {
    FILE *file;
    char *line = NULL;
    size_t cap = 0, rows = 0, stream_len = 0, at;
    struct row *all = NULL;
    uint8_t *stream;
    size_t i;

    if (argc != 2 || !(file = fopen(argv[1], "r"))) {
        fprintf(stderr, "usage: vectors_test FILE\n");
        return 2;
    }
    while (getline(&line, &cap, file) > 0) {
        all = (struct row *)realloc(all, (rows + 1) * sizeof *all);
        if (!parse_row(line, &all[rows])) {
            fprintf(stderr, "bad row %zu\n", rows + 1);
            return 2;
        }
        rows++;
    }
    free(line);
    fclose(file);

    /* Every reply alone; those that are complete and end where their row ends are then sent
     * as one pipelined stream, each in its own context. */
    {
        smtp_result *whole = (smtp_result *)calloc(rows ? rows : 1, sizeof *whole);
        char *in_stream = (char *)calloc(rows ? rows : 1, 1);
        for (i = 0; i < rows; i++) {
            check_row(&all[i], &whole[i]);
            if (all[i].status == SMTP_STATUS_OK && whole[i].consumed == all[i].len) {
                in_stream[i] = 1;
                stream_len += all[i].len;
            }
        }
        stream = (uint8_t *)malloc(stream_len ? stream_len : 1);
        for (at = 0, i = 0; i < rows; i++)
            if (in_stream[i]) {
                memcpy(stream + at, all[i].reply, all[i].len);
                at += all[i].len;
            }
        for (at = 0, i = 0; i < rows; i++) {
            smtp_result r = empty_result();
            if (!in_stream[i])
                continue;
            CHECK_EQ(smtp_classify_reply(stream + at, stream_len - at, &all[i].ctx, &r), SMTP_STATUS_OK);
            CHECK_EQ(r.verdict, whole[i].verdict);
            CHECK_EQ(r.consumed, whole[i].consumed);
            CHECK_EQ(r.flags, whole[i].flags);
            at += r.consumed;
        }
        CHECK_EQ(at, stream_len);
        CHECK(rows >= 150);
        printf("vectors_test: %zu rows, %zu bytes pipelined\n", rows, stream_len);
        free(stream);
        free(whole);
        free(in_stream);
    }
    for (i = 0; i < rows; i++)
        free(all[i].reply);
    free(all);
    return check_report("vectors_test");
}
