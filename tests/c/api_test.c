/* The C ABI as a C caller sees it: the recipient-limit verdicts, pipelining, the incremental
 * scanner, argument checking, struct_size handling, the name functions, and classification
 * from several threads at once, and the delivery planner (smtp_plan_*). Built and run by
 * tests/c_api.rs. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_verdict.h"
#include "check.h"

static smtp_context context(uint32_t command, uint32_t accepted, uint32_t options) {
    smtp_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.struct_size = sizeof ctx;
    ctx.command = command;
    ctx.accepted_recipients = accepted;
    ctx.options = options;
    return ctx;
}

static smtp_result empty_result(void) {
    smtp_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    return r;
}

/* Classifies a NUL-terminated reply; the bytes are copied to a buffer of exactly their size,
 * so that sanitizers and valgrind see any read past `len`. */
static smtp_verdict_status classify(const char *reply, const smtp_context *ctx, smtp_result *out) {
    size_t len = strlen(reply);
    uint8_t *data = (uint8_t *)malloc(len ? len : 1);
    smtp_verdict_status status;
    memcpy(data, reply, len);
    *out = empty_result();
    status = smtp_classify_reply(data, len, ctx, out);
    free(data);
    return status;
}

static void recipient_limits(void) {
    smtp_result r;
    smtp_context rcpt = context(SMTP_CMD_RCPT, 2, 0);
    smtp_context first_rcpt = context(SMTP_CMD_RCPT, 0, 0);

    /* Postfix smtpd_recipient_limit: deliver to the two accepted, resend the rest at once. */
    CHECK_EQ(classify("452 4.5.3 Error: too many recipients\r\n", &rcpt, &r), SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_BATCH_LIMIT);
    CHECK_EQ(r.scope, SMTP_SCOPE_RECIPIENT);
    CHECK_EQ(r.code, 452);
    CHECK_EQ(r.enhanced_class, 4);
    CHECK_EQ(r.enhanced_subject, 5);
    CHECK_EQ(r.enhanced_detail, 3);
    CHECK_EQ(r.consumed, 38);
    CHECK_EQ(r.text_len, strlen("Error: too many recipients"));

    /* Exim recipients_max_reject: 552 in the style of RFC 821. */
    CHECK_EQ(classify("552 too many recipients\r\n", &rcpt, &r), SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_BATCH_LIMIT);
    CHECK(r.flags & SMTP_FLAG_LEGACY_552);
    CHECK_EQ(r.enhanced_class, 0);

    /* Nothing accepted yet: resending at once would loop. */
    CHECK_EQ(classify("452 4.5.3 Error: too many recipients\r\n", &first_rcpt, &r), SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(classify("552 too many recipients\r\n", &first_rcpt, &r), SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_PERMANENT);

    /* Postfix's reading of 552 on request. */
    rcpt.options = SMTP_OPT_552_PERMANENT;
    CHECK_EQ(classify("552 too many recipients\r\n", &rcpt, &r), SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_PERMANENT);

    /* A rate limit is not a recipient limit, whatever the text says. */
    rcpt.options = 0;
    CHECK_EQ(classify("450 4.7.1 Error: too many recipients from 192.0.2.1\r\n", &rcpt, &r),
             SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);

    /* Exim's 554 to DATA after a 552'd RCPT: the whole transaction is batch-limited. */
    {
        smtp_context data = context(SMTP_CMD_DATA, 2, 0);
        data.limited_recipients = 1;
        CHECK_EQ(classify("554 Too many recipients\r\n", &data, &r), SMTP_STATUS_OK);
        CHECK_EQ(r.verdict, SMTP_VERDICT_BATCH_LIMIT);
        CHECK_EQ(r.scope, SMTP_SCOPE_TRANSACTION);
    }
}

static void pipelined_stream(void) {
    static const char stream[] = "250 2.1.0 Ok\r\n"
                                 "250 2.1.5 Ok\r\n"
                                 "250-first\r\n250 2.1.5 second line\r\n"
                                 "452 4.5.3 Error: too many recipients\r\n"
                                 "354 End data with <CR><LF>.<CR><LF>\r\n";
    static const uint32_t commands[] = {SMTP_CMD_MAIL, SMTP_CMD_RCPT, SMTP_CMD_RCPT,
                                        SMTP_CMD_RCPT, SMTP_CMD_DATA};
    static const uint32_t verdicts[] = {SMTP_VERDICT_SUCCESS, SMTP_VERDICT_SUCCESS,
                                        SMTP_VERDICT_SUCCESS, SMTP_VERDICT_BATCH_LIMIT,
                                        SMTP_VERDICT_INTERMEDIATE};
    const uint8_t *data = (const uint8_t *)stream;
    size_t len = sizeof stream - 1, at = 0;
    uint32_t accepted = 0;
    unsigned i;

    for (i = 0; i < 5; i++) {
        smtp_context ctx = context(commands[i], accepted, 0);
        smtp_result r = empty_result();
        CHECK_EQ(smtp_classify_reply(data + at, len - at, &ctx, &r), SMTP_STATUS_OK);
        CHECK_EQ(r.verdict, verdicts[i]);
        CHECK(r.text_offset + r.text_len <= r.consumed);
        if (commands[i] == SMTP_CMD_RCPT && r.verdict == SMTP_VERDICT_SUCCESS)
            accepted++;
        if (i == 2) {
            CHECK_EQ(r.lines, 2);
            CHECK(r.flags & SMTP_FLAG_MULTILINE);
            CHECK(memcmp(data + at + r.text_offset, "second line", r.text_len) == 0);
        }
        at += r.consumed;
    }
    CHECK_EQ(at, len);
}

static void incremental_one_byte_at_a_time(void) {
    static const char reply[] = "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                                "250 ENHANCEDSTATUSCODES\r\n";
    size_t len = sizeof reply - 1, end;
    smtp_context ctx = context(SMTP_CMD_EHLO, 0, 0);
    smtp_scanner scanner;
    smtp_result whole = empty_result(), r = empty_result();

    CHECK_EQ(smtp_classify_reply((const uint8_t *)reply, len, &ctx, &whole), SMTP_STATUS_OK);
    memset(&scanner, 0, sizeof scanner);
    scanner.struct_size = sizeof scanner;
    CHECK_EQ(smtp_scanner_reset(&scanner), SMTP_STATUS_OK);
    for (end = 0; end < len; end++) {
        r = empty_result();
        CHECK_EQ(smtp_classify_reply_incremental((const uint8_t *)reply, end, &ctx, &scanner, &r),
                 SMTP_STATUS_INCOMPLETE);
        CHECK_EQ(r.consumed, 0);
    }
    CHECK_EQ(smtp_classify_reply_incremental((const uint8_t *)reply, len, &ctx, &scanner, &r),
             SMTP_STATUS_OK);
    CHECK(memcmp(&r, &whole, sizeof r) == 0);

    /* A state no call could have left is refused, not trusted. */
    memset(scanner.private_state, 0xff, sizeof scanner.private_state);
    CHECK_EQ(smtp_classify_reply_incremental((const uint8_t *)reply, len, &ctx, &scanner, &r),
             SMTP_STATUS_INVALID_ARGUMENT);
}

static void bad_arguments(void) {
    const uint8_t reply[] = "250 ok\r\n";
    smtp_context ctx = context(SMTP_CMD_NOOP, 0, 0);
    smtp_result r = empty_result();

    CHECK_EQ(smtp_classify_reply(reply, 8, &ctx, NULL), SMTP_STATUS_NULL_ARGUMENT);
    CHECK_EQ(smtp_classify_reply(NULL, 8, &ctx, &r), SMTP_STATUS_NULL_ARGUMENT);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(r.scope, SMTP_SCOPE_SESSION);
    CHECK_EQ(smtp_classify_reply(NULL, 0, &ctx, &r), SMTP_STATUS_INCOMPLETE);
    CHECK_EQ(smtp_classify_reply(reply, 0, &ctx, &r), SMTP_STATUS_INCOMPLETE);
    CHECK_EQ(smtp_classify_reply(reply, 8, NULL, &r), SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_SUCCESS);

    ctx.command = SMTP_CMD_BURL_LAST + 1;
    CHECK_EQ(smtp_classify_reply(reply, 8, &ctx, &r), SMTP_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    ctx.command = SMTP_CMD_NOOP;
    ctx.options = 8;
    CHECK_EQ(smtp_classify_reply(reply, 8, &ctx, &r), SMTP_STATUS_INVALID_ARGUMENT);
    ctx.options = 0;
    ctx.struct_size = 4;
    CHECK_EQ(smtp_classify_reply(reply, 8, &ctx, &r), SMTP_STATUS_INVALID_ARGUMENT);
    ctx.struct_size = sizeof ctx;
    r.struct_size = 4;
    CHECK_EQ(smtp_classify_reply(reply, 8, &ctx, &r), SMTP_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(smtp_scanner_reset(NULL), SMTP_STATUS_NULL_ARGUMENT);
    CHECK_EQ(smtp_classify_reply_incremental(reply, 8, &ctx, NULL, &r), SMTP_STATUS_NULL_ARGUMENT);
}

/* A newer caller's struct is larger: the library writes only the part it knows. */
static void larger_struct_is_written_only_as_far_as_known(void) {
    unsigned char buffer[sizeof(smtp_result) + 32];
    smtp_result known;
    uint32_t size = sizeof buffer;
    size_t i;
    smtp_context ctx = context(SMTP_CMD_RCPT, 1, 0);

    memset(buffer, 0xa5, sizeof buffer);
    memcpy(buffer, &size, sizeof size);
    CHECK_EQ(smtp_classify_reply((const uint8_t *)"452 too many recipients\r\n", 25, &ctx,
                                 (smtp_result *)(void *)buffer),
             SMTP_STATUS_OK);
    memcpy(&known, buffer, sizeof known);
    CHECK_EQ(known.verdict, SMTP_VERDICT_BATCH_LIMIT);
    for (i = sizeof(smtp_result); i < sizeof buffer; i++)
        CHECK_EQ(buffer[i], 0xa5);
}

static void safe_answer_on_bad_replies(void) {
    smtp_result r;
    smtp_context ctx = context(SMTP_CMD_RCPT, 3, 0);
    uint8_t *line = (uint8_t *)malloc(SMTP_MAX_REPLY_LEN + 10);

    CHECK_EQ(classify("hello there\r\n250 ok\r\n", &ctx, &r), SMTP_STATUS_MALFORMED);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(r.scope, SMTP_SCOPE_SESSION);
    CHECK(r.flags & SMTP_FLAG_PROTOCOL_ERROR);
    CHECK(r.flags & SMTP_FLAG_CLOSE_CONNECTION);
    CHECK_EQ(r.consumed, 13);

    memset(line, 'x', SMTP_MAX_REPLY_LEN + 10);
    memcpy(line, "250-", 4);
    r = empty_result();
    CHECK_EQ(smtp_classify_reply(line, SMTP_MAX_REPLY_LEN + 10, &ctx, &r), SMTP_STATUS_TOO_LONG);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(r.scope, SMTP_SCOPE_SESSION);
    free(line);

    /* 220- then 521 (RFC 7504 style) and a 421 are the session's end. */
    ctx.command = SMTP_CMD_GREETING;
    CHECK_EQ(classify("220-mx.example.com ESMTP\r\n521 5.3.2 no mail here\r\n", &ctx, &r),
             SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_PERMANENT);
    CHECK_EQ(r.scope, SMTP_SCOPE_SESSION);
    ctx.command = SMTP_CMD_RCPT;
    CHECK_EQ(classify("421 4.3.2 Service shutting down\r\n", &ctx, &r), SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(r.scope, SMTP_SCOPE_SESSION);
    CHECK(r.flags & SMTP_FLAG_CLOSE_CONNECTION);
}

static void names_and_registry(void) {
    char version[32];
    CHECK(strcmp(smtp_verdict_name(SMTP_VERDICT_BATCH_LIMIT), "batch-limit") == 0);
    CHECK(strcmp(smtp_verdict_name(99), "unknown") == 0);
    CHECK(strcmp(smtp_scope_name(SMTP_SCOPE_RECIPIENT), "recipient") == 0);
    CHECK(strcmp(smtp_status_name(SMTP_STATUS_TOO_LONG), "SMTP_STATUS_TOO_LONG") == 0);
    CHECK(strcmp(smtp_status_name(8), "unknown") == 0);
    CHECK(strcmp(smtp_enhanced_code_text(4, 5, 3), "Too many recipients") == 0);
    CHECK(smtp_enhanced_code_text(4, 9, 99) == NULL);
    snprintf(version, sizeof version, "%d.%d.%d", SMTP_VERDICT_VERSION_MAJOR,
             SMTP_VERDICT_VERSION_MINOR, SMTP_VERDICT_VERSION_PATCH);
    CHECK(strcmp(smtp_verdict_version(), version) == 0);
}

/* No global state: threads classifying at once get what one thread gets. */
#define THREADS 4
static void *classify_many(void *arg) {
    static const char reply[] = "250-a\r\n452 4.5.3 Error: too many recipients\r\n";
    smtp_context ctx = context(SMTP_CMD_RCPT, 1, 0);
    long wrong = 0, i;
    (void)arg;
    for (i = 0; i < 100000; i++) {
        smtp_result r = empty_result();
        if (smtp_classify_reply((const uint8_t *)reply, sizeof reply - 1, &ctx, &r) != SMTP_STATUS_OK ||
            r.verdict != SMTP_VERDICT_BATCH_LIMIT || r.consumed != sizeof reply - 1)
            wrong++;
    }
    return (void *)wrong;
}

static void threads(void) {
    pthread_t t[THREADS];
    int i;
    for (i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, classify_many, NULL), 0);
    for (i = 0; i < THREADS; i++) {
        void *wrong;
        CHECK_EQ(pthread_join(t[i], &wrong), 0);
        CHECK(wrong == NULL);
    }
}

/* The initializer macros set struct_size and zero the rest, so a call made with them is valid
 * without a memset. */
static void initializers(void) {
    static const char reply[] = "452 4.5.3 Error: too many recipients\r\n";
    smtp_context ctx = SMTP_CONTEXT_INIT;
    smtp_result out = SMTP_RESULT_INIT;
    smtp_scanner scanner = SMTP_SCANNER_INIT;
    smtp_context zero_ctx;
    memset(&zero_ctx, 0, sizeof zero_ctx);
    zero_ctx.struct_size = sizeof zero_ctx;
    CHECK_EQ(ctx.struct_size, sizeof(smtp_context));
    CHECK(memcmp(&ctx, &zero_ctx, sizeof ctx) == 0);
    CHECK_EQ(out.struct_size, sizeof(smtp_result));
    CHECK_EQ(out.verdict, 0);
    CHECK_EQ(out.text_len, 0);
    CHECK_EQ(scanner.struct_size, sizeof(smtp_scanner));
    ctx.command = SMTP_CMD_RCPT;
    ctx.accepted_recipients = 1;
    CHECK_EQ(smtp_classify_reply((const uint8_t *)reply, sizeof reply - 1, &ctx, &out), SMTP_STATUS_OK);
    CHECK_EQ(out.verdict, SMTP_VERDICT_BATCH_LIMIT);
    CHECK_EQ(smtp_scanner_reset(&scanner), SMTP_STATUS_OK);
    out = (smtp_result)SMTP_RESULT_INIT;
    CHECK_EQ(smtp_classify_reply_incremental((const uint8_t *)reply, sizeof reply - 1, &ctx,
                                             &scanner, &out),
             SMTP_STATUS_OK);
    CHECK_EQ(out.verdict, SMTP_VERDICT_BATCH_LIMIT);
}

/* An Exchange-style EHLO (AUTH= form, LIMITS) and a refusal, as a C agent reads them. */
static void ehlo_capabilities(void) {
    static const char ehlo[] = "250-mx.example.com Hello [192.0.2.1]\r\n"
                               "250-SIZE 36700160\r\n"
                               "250-PIPELINING\r\n"
                               "250-AUTH=LOGIN\r\n"
                               "250-auth PLAIN XUNKNOWN\r\n"
                               "250-LIMITS RCPTMAX=3 MAILMAX=x RCPTDOMAINMAX=2\r\n"
                               "250 STARTTLS  \r\n";
    static const char refused[] = "502 5.5.2 Error: command not recognized\r\n";
    smtp_ehlo_capabilities caps = SMTP_EHLO_CAPABILITIES_INIT;
    CHECK_EQ(smtp_parse_ehlo((const uint8_t *)ehlo, sizeof ehlo - 1, &caps), SMTP_STATUS_OK);
    CHECK_EQ(caps.code, 250);
    CHECK_EQ(caps.extensions, SMTP_EXT_PIPELINING | SMTP_EXT_STARTTLS);
    CHECK_EQ(caps.auth_mechanisms, SMTP_AUTH_LOGIN | SMTP_AUTH_PLAIN);
    CHECK_EQ(caps.auth_unknown, 1);
    CHECK_EQ(caps.size_advertised, 1);
    CHECK_EQ(caps.size_limit, 36700160);
    CHECK_EQ(caps.rcpt_max, 3);
    CHECK_EQ(caps.mail_max, 0);
    CHECK_EQ(caps.rcpt_domain_max, 2);
    CHECK_EQ(caps.consumed, sizeof ehlo - 1);
    CHECK_EQ(smtp_parse_ehlo((const uint8_t *)ehlo, 20, &caps), SMTP_STATUS_INCOMPLETE);
    CHECK_EQ(caps.extensions, 0);
    CHECK_EQ(smtp_parse_ehlo((const uint8_t *)refused, sizeof refused - 1, &caps),
             SMTP_STATUS_REFUSED);
    CHECK_EQ(caps.code, 502);
    CHECK_EQ(caps.consumed, sizeof refused - 1);
    CHECK(strcmp(smtp_status_name(SMTP_STATUS_REFUSED), "SMTP_STATUS_REFUSED") == 0);
}

/* A classified reply walked line by line, as an agent that logs a refusal's lines does; and the
 * batch size a whole-transaction limit leaves. */
static void reply_lines(void) {
    static const char reply[] = "250-mx.example.com\r\n250-SIZE 1000\n250 2.0.0\r\n";
    static const struct {
        uint32_t code, last, enhanced_class;
        const char *text;
    } want[] = {{250, 0, 0, "mx.example.com"}, {250, 0, 0, "SIZE 1000"}, {250, 1, 2, ""}};
    const uint8_t *data = (const uint8_t *)reply;
    smtp_context ctx = SMTP_CONTEXT_INIT;
    smtp_result r = SMTP_RESULT_INIT;
    smtp_reply_line line = SMTP_REPLY_LINE_INIT;
    size_t n = 0;
    CHECK_EQ(smtp_classify_reply(data, sizeof reply - 1, &ctx, &r), SMTP_STATUS_OK);
    for (size_t at = 0; at < r.consumed; at = line.next_offset, n++) {
        CHECK_EQ(smtp_reply_line_at(data, r.consumed, at, &line), SMTP_STATUS_OK);
        if (n >= 3)
            break;
        CHECK_EQ(line.code, want[n].code);
        CHECK_EQ(line.last, want[n].last);
        CHECK_EQ(line.enhanced_class, want[n].enhanced_class);
        CHECK_EQ(line.line_offset, at);
        CHECK_EQ(line.text_len, strlen(want[n].text));
        CHECK(memcmp(data + line.text_offset, want[n].text, line.text_len) == 0);
    }
    CHECK_EQ(n, 3);
    CHECK_EQ(r.lines, 3);
    CHECK_EQ(smtp_reply_line_at(data, 5, 0, &line), SMTP_STATUS_INCOMPLETE);
    CHECK_EQ(line.next_offset, 0);
    CHECK_EQ(smtp_reply_line_at(data, 2, 3, &line), SMTP_STATUS_INVALID_ARGUMENT);

    /* Exim's recipients_max_reject: DATA refused after a batch-limited RCPT, 3 accepted. */
    static const char data_refused[] = "554 Too many recipients\r\n";
    ctx.command = SMTP_CMD_DATA;
    ctx.accepted_recipients = 3;
    ctx.limited_recipients = 1;
    CHECK_EQ(smtp_classify_reply((const uint8_t *)data_refused, sizeof data_refused - 1, &ctx, &r),
             SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_BATCH_LIMIT);
    CHECK_EQ(r.scope, SMTP_SCOPE_TRANSACTION);
    CHECK_EQ(r.batch_size, 3);
    ctx.command = SMTP_CMD_BURL_LAST;
    CHECK_EQ(smtp_classify_reply((const uint8_t *)data_refused, sizeof data_refused - 1, &ctx, &r),
             SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_BATCH_LIMIT);
    ctx.limited_recipients = 0;
    CHECK_EQ(smtp_classify_reply((const uint8_t *)data_refused, sizeof data_refused - 1, &ctx, &r),
             SMTP_STATUS_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_PERMANENT);
    CHECK_EQ(r.batch_size, 0);
}

/* --- The delivery planner (smtp_plan_*) driven from C. --- */

#define EXPECT_STEP(plan, act, rcpt)                                 \
    do {                                                             \
        smtp_plan_step step_ = SMTP_PLAN_STEP_INIT;                  \
        CHECK_EQ(smtp_plan_next((plan), &step_), SMTP_STATUS_OK);           \
        if (step_.action != (uint32_t)(act))                         \
            fprintf(stderr, "  step %s, expected %s\n",              \
                    smtp_plan_action_name(step_.action),             \
                    smtp_plan_action_name((uint32_t)(act)));         \
        CHECK_EQ(step_.action, (act));                               \
        CHECK_EQ(step_.recipient, (rcpt));                           \
    } while (0)

/* Hands `replies` to the plan, a reply at a time, from a buffer of exactly their size; each
 * must be SMTP_STATUS_OK. Returns how many replies there were; their results and abouts go to the
 * arrays (up to `max`). */
static size_t plan_feed(smtp_plan *plan, const char *replies, smtp_result *results,
                        smtp_plan_reply *abouts, size_t max) {
    size_t len = strlen(replies), at = 0, n = 0;
    uint8_t *data = (uint8_t *)malloc(len ? len : 1);
    memcpy(data, replies, len);
    while (at < len) {
        smtp_result out = SMTP_RESULT_INIT;
        smtp_plan_reply about = SMTP_PLAN_REPLY_INIT;
        smtp_verdict_status status = smtp_plan_receive(plan, data + at, len - at, &out, &about);
        CHECK_EQ(status, SMTP_STATUS_OK);
        if (status != SMTP_STATUS_OK || out.consumed == 0)
            break;
        if (n < max) {
            results[n] = out;
            abouts[n] = about;
        }
        n++;
        at += out.consumed;
    }
    free(data);
    return n;
}

static const char *const plan_addresses[5] = {"a@one.example", "b@one.example", "c@Two.example",
                                              "d@two.example", "e@three.example"};

/* Five recipients, a server that takes three per transaction (452 4.5.3 to the 4th and 5th
 * RCPT), pipelined: two transactions, 0..4 then 3 and 4, everyone delivered. */
static void plan_session(void) {
    static const char ehlo[] = "250-mx.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
    smtp_ehlo_capabilities caps = SMTP_EHLO_CAPABILITIES_INIT;
    smtp_plan_options options = SMTP_PLAN_OPTIONS_INIT;
    smtp_plan plan = SMTP_PLAN_INIT;
    smtp_plan_recipient rcpts[5];
    smtp_result results[8];
    smtp_plan_reply abouts[8];
    uint32_t i, transactions = 0;

    memset(rcpts, 0xee, sizeof rcpts); /* init resets all but the domain */
    for (i = 0; i < 5; i++)
        rcpts[i].domain = smtp_domain_key(plan_addresses[i], strlen(plan_addresses[i]));
    CHECK_EQ(rcpts[2].domain, rcpts[3].domain); /* without case */
    CHECK(rcpts[0].domain != rcpts[2].domain);
    CHECK_EQ(smtp_parse_ehlo((const uint8_t *)ehlo, sizeof ehlo - 1, &caps), SMTP_STATUS_OK);
    CHECK_EQ(smtp_plan_init(&plan, rcpts, 5, &caps, &options), SMTP_STATUS_OK);
    CHECK(plan.recipients == rcpts);
    CHECK_EQ(plan.recipient_count, 5);
    for (i = 0; i < 5; i++) {
        CHECK_EQ(rcpts[i].state, SMTP_PLAN_PENDING);
        CHECK_EQ(rcpts[i].code, 0);
        CHECK_EQ(rcpts[i].attempts, 0);
        CHECK_EQ(rcpts[i].reserved[0] | rcpts[i].reserved[1], 0);
    }

    /* The first transaction, pipelined: MAIL, five RCPTs, DATA, then the replies. */
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_MAIL, SMTP_PLAN_NO_RECIPIENT);
    for (i = 0; i < 5; i++)
        EXPECT_STEP(&plan, SMTP_PLAN_SEND_RCPT, i);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_DATA, SMTP_PLAN_NO_RECIPIENT);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    for (i = 0; i < 5; i++)
        CHECK_EQ(rcpts[i].state, SMTP_PLAN_SENT);
    CHECK_EQ(plan_feed(&plan,
                       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
                       "452 4.5.3 Error: too many recipients\r\n"
                       "452 4.5.3 Error: too many recipients\r\n"
                       "354 End data with <CR><LF>.<CR><LF>\r\n",
                       results, abouts, 8),
             7);
    CHECK_EQ(abouts[0].command, SMTP_CMD_MAIL);
    CHECK_EQ(abouts[0].recipient, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(abouts[0].number, 1);
    for (i = 1; i <= 5; i++) {
        CHECK_EQ(abouts[i].command, SMTP_CMD_RCPT);
        CHECK_EQ(abouts[i].recipient, i - 1);
        CHECK_EQ(abouts[i].number, i + 1);
    }
    CHECK_EQ(results[3].verdict, SMTP_VERDICT_SUCCESS);
    CHECK_EQ(results[4].verdict, SMTP_VERDICT_BATCH_LIMIT);
    CHECK_EQ(results[4].scope, SMTP_SCOPE_RECIPIENT);
    CHECK_EQ(results[5].verdict, SMTP_VERDICT_BATCH_LIMIT);
    CHECK_EQ(abouts[6].command, SMTP_CMD_DATA);
    CHECK_EQ(results[6].verdict, SMTP_VERDICT_INTERMEDIATE);
    for (i = 0; i < 3; i++)
        CHECK_EQ(rcpts[i].state, SMTP_PLAN_ACCEPTED);
    for (i = 3; i < 5; i++) {
        CHECK_EQ(rcpts[i].state, SMTP_PLAN_PENDING);
        CHECK_EQ(rcpts[i].code, 452);
        CHECK_EQ(rcpts[i].enhanced_class, 4);
        CHECK_EQ(rcpts[i].enhanced_subject, 5);
        CHECK_EQ(rcpts[i].enhanced_detail, 3);
        CHECK_EQ(rcpts[i].reply, i + 2);
    }
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_MESSAGE, SMTP_PLAN_NO_RECIPIENT);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(plan_feed(&plan, "250 2.0.0 Ok: queued as 4Xyz\r\n", results, abouts, 8), 1);
    CHECK_EQ(abouts[0].command, SMTP_CMD_DATA_END);
    CHECK_EQ(abouts[0].number, 8);
    for (i = 0; i < 3; i++) {
        CHECK_EQ(rcpts[i].state, SMTP_PLAN_DELIVERED);
        CHECK_EQ(rcpts[i].code, 250);
        CHECK_EQ(rcpts[i].reply, 8);
    }

    /* The second: the two batch-limited recipients, first in their transaction. */
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_MAIL, SMTP_PLAN_NO_RECIPIENT);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_RCPT, 3);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_RCPT, 4);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_DATA, SMTP_PLAN_NO_RECIPIENT);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(plan_feed(&plan, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", results, abouts, 8), 4);
    CHECK_EQ(abouts[2].recipient, 4);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_MESSAGE, SMTP_PLAN_NO_RECIPIENT);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(plan_feed(&plan, "250 2.0.0 queued\r\n", results, abouts, 8), 1);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_QUIT, SMTP_PLAN_NO_RECIPIENT);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(plan_feed(&plan, "221 2.0.0 Bye\r\n", results, abouts, 8), 1);
    CHECK_EQ(abouts[0].command, SMTP_CMD_QUIT);
    EXPECT_STEP(&plan, SMTP_PLAN_DONE, SMTP_PLAN_NO_RECIPIENT);
    EXPECT_STEP(&plan, SMTP_PLAN_DONE, SMTP_PLAN_NO_RECIPIENT);
    {
        smtp_plan_step step = SMTP_PLAN_STEP_INIT;
        CHECK_EQ(smtp_plan_next(&plan, &step), SMTP_STATUS_OK);
        CHECK_EQ(step.transactions, 2); /* the step counts the plan's transactions */
    }

    for (i = 0; i < 5; i++) {
        CHECK_EQ(rcpts[i].state, SMTP_PLAN_DELIVERED);
        CHECK_EQ(rcpts[i].flags, 0);
        CHECK_EQ(rcpts[i].attempts, i < 3 ? 1 : 2);
        CHECK_EQ(rcpts[i].transaction, i < 3 ? 1 : 2);
        if (rcpts[i].transaction > transactions)
            transactions = rcpts[i].transaction;
    }
    CHECK_EQ(transactions, 2);
    CHECK_EQ(rcpts[4].domain, smtp_domain_key("e@THREE.example", 15));
    CHECK(strcmp(smtp_plan_recipient_state_name(rcpts[0].state), "delivered") == 0);
}

/* Without pipelining each command waits for its reply; a reply split across reads; a
 * malformed reply ends the session and the rest go to another connection. */
static void plan_incomplete_malformed_reconnect(void) {
    smtp_plan plan = SMTP_PLAN_INIT;
    smtp_plan_recipient rcpts[2];
    smtp_plan_options options = SMTP_PLAN_OPTIONS_INIT;
    smtp_result out = SMTP_RESULT_INIT;
    smtp_plan_reply about = SMTP_PLAN_REPLY_INIT;
    static const char part[] = "250 2.1.0 O";
    static const char garbage[] = "hello there\r\n";
    smtp_result results[2];
    smtp_plan_reply abouts[2];

    memset(rcpts, 0, sizeof rcpts);
    CHECK_EQ(smtp_plan_init(&plan, rcpts, 2, NULL, &options), SMTP_STATUS_OK); /* HELO: no PIPELINING */
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_MAIL, SMTP_PLAN_NO_RECIPIENT);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(smtp_plan_receive(&plan, (const uint8_t *)part, sizeof part - 1, &out, &about),
             SMTP_STATUS_INCOMPLETE);
    CHECK_EQ(out.verdict, 0);
    CHECK_EQ(about.command, SMTP_CMD_MAIL);
    CHECK_EQ(about.number, 0);
    CHECK_EQ(plan_feed(&plan, "250 2.1.0 Ok\r\n", results, abouts, 2), 1);
    CHECK_EQ(abouts[0].number, 1);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_RCPT, 0);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(plan_feed(&plan, "550 5.1.1 No such user\r\n", results, abouts, 2), 1);
    CHECK_EQ(rcpts[0].state, SMTP_PLAN_BOUNCED);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_RCPT, 1);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    out = (smtp_result)SMTP_RESULT_INIT;
    CHECK_EQ(smtp_plan_receive(&plan, (const uint8_t *)garbage, sizeof garbage - 1, &out, &about),
             SMTP_STATUS_MALFORMED);
    CHECK_EQ(out.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(out.scope, SMTP_SCOPE_SESSION);
    CHECK(out.flags & SMTP_FLAG_CLOSE_CONNECTION);
    CHECK_EQ(about.command, SMTP_CMD_RCPT);
    CHECK_EQ(about.recipient, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(about.number, 3);
    CHECK_EQ(rcpts[0].state, SMTP_PLAN_BOUNCED);
    CHECK_EQ(rcpts[1].state, SMTP_PLAN_NOT_ATTEMPTED);
    EXPECT_STEP(&plan, SMTP_PLAN_RECONNECT, SMTP_PLAN_NO_RECIPIENT);

    /* A new connection: only recipient 1 again. */
    CHECK_EQ(smtp_plan_reconnect(&plan, NULL, NULL), SMTP_STATUS_OK);
    CHECK_EQ(rcpts[1].state, SMTP_PLAN_PENDING);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_MAIL, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(smtp_plan_reconnect(&plan, NULL, NULL), SMTP_STATUS_INVALID_ARGUMENT); /* not ended */
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(plan_feed(&plan, "250 ok\r\n", results, abouts, 2), 1);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_RCPT, 1);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(plan_feed(&plan, "250 ok\r\n", results, abouts, 2), 1);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_DATA, SMTP_PLAN_NO_RECIPIENT);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(plan_feed(&plan, "354 go\r\n", results, abouts, 2), 1);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_MESSAGE, SMTP_PLAN_NO_RECIPIENT);
    EXPECT_STEP(&plan, SMTP_PLAN_WAIT, SMTP_PLAN_NO_RECIPIENT);
    /* The connection drops before the reply to the final dot: possibly delivered. */
    CHECK_EQ(smtp_plan_connection_lost(&plan), SMTP_STATUS_OK);
    CHECK_EQ(rcpts[1].state, SMTP_PLAN_DEFERRED);
    CHECK_EQ(rcpts[1].flags, SMTP_PLAN_POSSIBLY_DELIVERED);
    CHECK_EQ(rcpts[1].attempts, 2);
    EXPECT_STEP(&plan, SMTP_PLAN_DONE, SMTP_PLAN_NO_RECIPIENT);
    CHECK_EQ(smtp_plan_connection_lost(&plan), SMTP_STATUS_OK);
    CHECK_EQ(rcpts[1].state, SMTP_PLAN_DEFERRED);
}

static void plan_bad_arguments(void) {
    smtp_plan plan = SMTP_PLAN_INIT, saved;
    smtp_plan_recipient rcpts[3];
    smtp_plan_options options = SMTP_PLAN_OPTIONS_INIT;
    smtp_ehlo_capabilities caps = SMTP_EHLO_CAPABILITIES_INIT;
    smtp_plan_step step = SMTP_PLAN_STEP_INIT;
    smtp_result out = SMTP_RESULT_INIT;
    smtp_plan_reply about = SMTP_PLAN_REPLY_INIT;
    const uint8_t reply[] = "250 ok\r\n";

    memset(rcpts, 0, sizeof rcpts);
    CHECK_EQ(smtp_plan_init(NULL, rcpts, 3, NULL, NULL), SMTP_STATUS_NULL_ARGUMENT);
    CHECK_EQ(smtp_plan_init(&plan, NULL, 3, NULL, NULL), SMTP_STATUS_NULL_ARGUMENT);
    if (SIZE_MAX > UINT32_MAX)
        CHECK_EQ(smtp_plan_init(&plan, rcpts, (size_t)UINT32_MAX + 1, NULL, NULL),
                 SMTP_STATUS_INVALID_ARGUMENT);
    plan.struct_size = sizeof plan - 4;
    CHECK_EQ(smtp_plan_init(&plan, rcpts, 3, NULL, NULL), SMTP_STATUS_INVALID_ARGUMENT);
    plan.struct_size = sizeof plan;
    options.struct_size = 4;
    CHECK_EQ(smtp_plan_init(&plan, rcpts, 3, NULL, &options), SMTP_STATUS_INVALID_ARGUMENT);
    options.struct_size = sizeof options;
    options.flags = 16;
    CHECK_EQ(smtp_plan_init(&plan, rcpts, 3, NULL, &options), SMTP_STATUS_INVALID_ARGUMENT);
    options.flags = SMTP_PLAN_PIPELINING;
    options.classify_options = SMTP_OPT_LMTP; /* LMTP is SMTP_PLAN_LMTP */
    CHECK_EQ(smtp_plan_init(&plan, rcpts, 3, NULL, &options), SMTP_STATUS_INVALID_ARGUMENT);
    options.classify_options = SMTP_OPT_STRICT | SMTP_OPT_552_PERMANENT;
    CHECK_EQ(smtp_plan_init(&plan, rcpts, 3, &caps, &options), SMTP_STATUS_INVALID_ARGUMENT); /* code 0 */
    caps.code = 250;
    caps.struct_size = 8;
    CHECK_EQ(smtp_plan_init(&plan, rcpts, 3, &caps, &options), SMTP_STATUS_INVALID_ARGUMENT);
    caps.struct_size = sizeof caps;
    caps.extensions = 1u << 20;
    CHECK_EQ(smtp_plan_init(&plan, rcpts, 3, &caps, &options), SMTP_STATUS_INVALID_ARGUMENT);
    caps.extensions = SMTP_EXT_PIPELINING;
    CHECK_EQ(plan.recipients, NULL); /* nothing written by a failed init */
    CHECK_EQ(smtp_plan_init(&plan, rcpts, 3, &caps, &options), SMTP_STATUS_OK);

    CHECK_EQ(smtp_plan_next(NULL, &step), SMTP_STATUS_NULL_ARGUMENT);
    CHECK_EQ(smtp_plan_next(&plan, NULL), SMTP_STATUS_NULL_ARGUMENT);
    step.struct_size = 4;
    CHECK_EQ(smtp_plan_next(&plan, &step), SMTP_STATUS_INVALID_ARGUMENT);
    step.struct_size = sizeof step;
    plan.struct_size = 4;
    CHECK_EQ(smtp_plan_next(&plan, &step), SMTP_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(step.action, 0);
    plan.struct_size = sizeof plan;
    CHECK_EQ(smtp_plan_connection_lost(NULL), SMTP_STATUS_NULL_ARGUMENT);
    CHECK_EQ(smtp_plan_reconnect(NULL, NULL, NULL), SMTP_STATUS_NULL_ARGUMENT);
    CHECK_EQ(smtp_plan_reconnect(&plan, NULL, NULL), SMTP_STATUS_INVALID_ARGUMENT); /* not ended */
    CHECK_EQ(smtp_plan_receive(&plan, reply, 8, NULL, &about), SMTP_STATUS_NULL_ARGUMENT);
    CHECK_EQ(smtp_plan_receive(NULL, reply, 8, &out, &about), SMTP_STATUS_NULL_ARGUMENT);
    CHECK_EQ(out.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(out.scope, SMTP_SCOPE_SESSION);
    CHECK_EQ(smtp_plan_receive(&plan, NULL, 8, &out, &about), SMTP_STATUS_NULL_ARGUMENT);
    about.struct_size = 4;
    CHECK_EQ(smtp_plan_receive(&plan, reply, 8, &out, &about), SMTP_STATUS_INVALID_ARGUMENT);
    about.struct_size = sizeof about;
    out.struct_size = 4;
    CHECK_EQ(smtp_plan_receive(&plan, reply, 8, &out, &about), SMTP_STATUS_INVALID_ARGUMENT);
    out.struct_size = sizeof out;
    /* A plan with recipients but no array. */
    saved = plan;
    plan.recipients = NULL;
    CHECK_EQ(smtp_plan_next(&plan, &step), SMTP_STATUS_NULL_ARGUMENT);
    plan = saved;

    /* Corrupted private state: refused, and the plan is left as it was. */
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_MAIL, SMTP_PLAN_NO_RECIPIENT);
    saved = plan;
    plan.private_state[46] = 1; /* a spare word */
    CHECK_EQ(smtp_plan_next(&plan, &step), SMTP_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(smtp_plan_receive(&plan, reply, 8, &out, &about), SMTP_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(out.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(smtp_plan_connection_lost(&plan), SMTP_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(smtp_plan_reconnect(&plan, NULL, NULL), SMTP_STATUS_INVALID_ARGUMENT);
    memset(plan.private_state, 0xff, sizeof plan.private_state);
    CHECK_EQ(smtp_plan_next(&plan, &step), SMTP_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(rcpts[0].state, SMTP_PLAN_QUEUED);
    plan = saved;
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_RCPT, 0);

    /* No recipient at all: QUIT at once. */
    CHECK_EQ(smtp_plan_init(&plan, NULL, 0, NULL, NULL), SMTP_STATUS_OK);
    EXPECT_STEP(&plan, SMTP_PLAN_SEND_QUIT, SMTP_PLAN_NO_RECIPIENT);

    CHECK(strcmp(smtp_plan_action_name(SMTP_PLAN_SEND_RCPT), "send-rcpt") == 0);
    CHECK(strcmp(smtp_plan_action_name(SMTP_PLAN_RECONNECT), "reconnect") == 0);
    CHECK(strcmp(smtp_plan_action_name(0), "unknown") == 0);
    CHECK(strcmp(smtp_plan_action_name(12), "unknown") == 0);
    CHECK(strcmp(smtp_plan_recipient_state_name(SMTP_PLAN_NOT_ATTEMPTED), "not-attempted") == 0);
    CHECK(strcmp(smtp_plan_recipient_state_name(8), "unknown") == 0);
    CHECK_EQ(smtp_domain_key(NULL, 0), smtp_domain_key("nobody", 6));
}

int main(void) {
    initializers();
    ehlo_capabilities();
    reply_lines();
    recipient_limits();
    pipelined_stream();
    incremental_one_byte_at_a_time();
    bad_arguments();
    larger_struct_is_written_only_as_far_as_known();
    safe_answer_on_bad_replies();
    names_and_registry();
    plan_session();
    plan_incomplete_malformed_reconnect();
    plan_bad_arguments();
    threads();
    return check_report("api_test");
}
