/* The C ABI as a C caller sees it: the recipient-limit verdicts, pipelining, the incremental
 * scanner, argument checking, struct_size handling, the name functions, and classification
 * from several threads at once. Built and run by tests/c_api.rs. */
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
static smtp_status classify(const char *reply, const smtp_context *ctx, smtp_result *out) {
    size_t len = strlen(reply);
    uint8_t *data = (uint8_t *)malloc(len ? len : 1);
    smtp_status status;
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
    CHECK_EQ(classify("452 4.5.3 Error: too many recipients\r\n", &rcpt, &r), SMTP_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_BATCH_LIMIT);
    CHECK_EQ(r.scope, SMTP_SCOPE_RECIPIENT);
    CHECK_EQ(r.code, 452);
    CHECK_EQ(r.enhanced_class, 4);
    CHECK_EQ(r.enhanced_subject, 5);
    CHECK_EQ(r.enhanced_detail, 3);
    CHECK_EQ(r.consumed, 38);
    CHECK_EQ(r.text_len, strlen("Error: too many recipients"));

    /* Exim recipients_max_reject: 552 in the style of RFC 821. */
    CHECK_EQ(classify("552 too many recipients\r\n", &rcpt, &r), SMTP_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_BATCH_LIMIT);
    CHECK(r.flags & SMTP_FLAG_LEGACY_552);
    CHECK_EQ(r.enhanced_class, 0);

    /* Nothing accepted yet: resending at once would loop. */
    CHECK_EQ(classify("452 4.5.3 Error: too many recipients\r\n", &first_rcpt, &r), SMTP_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(classify("552 too many recipients\r\n", &first_rcpt, &r), SMTP_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_PERMANENT);

    /* Postfix's reading of 552 on request. */
    rcpt.options = SMTP_OPT_552_PERMANENT;
    CHECK_EQ(classify("552 too many recipients\r\n", &rcpt, &r), SMTP_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_PERMANENT);

    /* A rate limit is not a recipient limit, whatever the text says. */
    rcpt.options = 0;
    CHECK_EQ(classify("450 4.7.1 Error: too many recipients from 192.0.2.1\r\n", &rcpt, &r),
             SMTP_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);

    /* Exim's 554 to DATA after a 552'd RCPT: the whole transaction is batch-limited. */
    {
        smtp_context data = context(SMTP_CMD_DATA, 2, 0);
        data.limited_recipients = 1;
        CHECK_EQ(classify("554 Too many recipients\r\n", &data, &r), SMTP_OK);
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
        CHECK_EQ(smtp_classify_reply(data + at, len - at, &ctx, &r), SMTP_OK);
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

    CHECK_EQ(smtp_classify_reply((const uint8_t *)reply, len, &ctx, &whole), SMTP_OK);
    memset(&scanner, 0, sizeof scanner);
    scanner.struct_size = sizeof scanner;
    CHECK_EQ(smtp_scanner_reset(&scanner), SMTP_OK);
    for (end = 0; end < len; end++) {
        r = empty_result();
        CHECK_EQ(smtp_classify_reply_incremental((const uint8_t *)reply, end, &ctx, &scanner, &r),
                 SMTP_INCOMPLETE);
        CHECK_EQ(r.consumed, 0);
    }
    CHECK_EQ(smtp_classify_reply_incremental((const uint8_t *)reply, len, &ctx, &scanner, &r),
             SMTP_OK);
    CHECK(memcmp(&r, &whole, sizeof r) == 0);

    /* A state no call could have left is refused, not trusted. */
    memset(scanner.private_state, 0xff, sizeof scanner.private_state);
    CHECK_EQ(smtp_classify_reply_incremental((const uint8_t *)reply, len, &ctx, &scanner, &r),
             SMTP_ERR_INVALID_ARGUMENT);
}

static void bad_arguments(void) {
    const uint8_t reply[] = "250 ok\r\n";
    smtp_context ctx = context(SMTP_CMD_NOOP, 0, 0);
    smtp_result r = empty_result();

    CHECK_EQ(smtp_classify_reply(reply, 8, &ctx, NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_EQ(smtp_classify_reply(NULL, 8, &ctx, &r), SMTP_ERR_NULL_ARGUMENT);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(r.scope, SMTP_SCOPE_SESSION);
    CHECK_EQ(smtp_classify_reply(NULL, 0, &ctx, &r), SMTP_INCOMPLETE);
    CHECK_EQ(smtp_classify_reply(reply, 0, &ctx, &r), SMTP_INCOMPLETE);
    CHECK_EQ(smtp_classify_reply(reply, 8, NULL, &r), SMTP_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_SUCCESS);

    ctx.command = 19;
    CHECK_EQ(smtp_classify_reply(reply, 8, &ctx, &r), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    ctx.command = SMTP_CMD_NOOP;
    ctx.options = 8;
    CHECK_EQ(smtp_classify_reply(reply, 8, &ctx, &r), SMTP_ERR_INVALID_ARGUMENT);
    ctx.options = 0;
    ctx.struct_size = 4;
    CHECK_EQ(smtp_classify_reply(reply, 8, &ctx, &r), SMTP_ERR_INVALID_ARGUMENT);
    ctx.struct_size = sizeof ctx;
    r.struct_size = 4;
    CHECK_EQ(smtp_classify_reply(reply, 8, &ctx, &r), SMTP_ERR_INVALID_ARGUMENT);
    CHECK_EQ(smtp_scanner_reset(NULL), SMTP_ERR_NULL_ARGUMENT);
    CHECK_EQ(smtp_classify_reply_incremental(reply, 8, &ctx, NULL, &r), SMTP_ERR_NULL_ARGUMENT);
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
             SMTP_OK);
    memcpy(&known, buffer, sizeof known);
    CHECK_EQ(known.verdict, SMTP_VERDICT_BATCH_LIMIT);
    for (i = sizeof(smtp_result); i < sizeof buffer; i++)
        CHECK_EQ(buffer[i], 0xa5);
}

static void safe_answer_on_bad_replies(void) {
    smtp_result r;
    smtp_context ctx = context(SMTP_CMD_RCPT, 3, 0);
    uint8_t *line = (uint8_t *)malloc(SMTP_MAX_REPLY_LEN + 10);

    CHECK_EQ(classify("hello there\r\n250 ok\r\n", &ctx, &r), SMTP_ERR_MALFORMED);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(r.scope, SMTP_SCOPE_SESSION);
    CHECK(r.flags & SMTP_FLAG_PROTOCOL_ERROR);
    CHECK(r.flags & SMTP_FLAG_CLOSE_CONNECTION);
    CHECK_EQ(r.consumed, 13);

    memset(line, 'x', SMTP_MAX_REPLY_LEN + 10);
    memcpy(line, "250-", 4);
    r = empty_result();
    CHECK_EQ(smtp_classify_reply(line, SMTP_MAX_REPLY_LEN + 10, &ctx, &r), SMTP_ERR_TOO_LONG);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(r.scope, SMTP_SCOPE_SESSION);
    free(line);

    /* 220- then 521 (RFC 7504 style) and a 421 are the session's end. */
    ctx.command = SMTP_CMD_GREETING;
    CHECK_EQ(classify("220-mx.example.com ESMTP\r\n521 5.3.2 no mail here\r\n", &ctx, &r),
             SMTP_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_PERMANENT);
    CHECK_EQ(r.scope, SMTP_SCOPE_SESSION);
    ctx.command = SMTP_CMD_RCPT;
    CHECK_EQ(classify("421 4.3.2 Service shutting down\r\n", &ctx, &r), SMTP_OK);
    CHECK_EQ(r.verdict, SMTP_VERDICT_RETRY);
    CHECK_EQ(r.scope, SMTP_SCOPE_SESSION);
    CHECK(r.flags & SMTP_FLAG_CLOSE_CONNECTION);
}

static void names_and_registry(void) {
    char version[32];
    CHECK(strcmp(smtp_verdict_name(SMTP_VERDICT_BATCH_LIMIT), "batch-limit") == 0);
    CHECK(strcmp(smtp_verdict_name(99), "unknown") == 0);
    CHECK(strcmp(smtp_scope_name(SMTP_SCOPE_RECIPIENT), "recipient") == 0);
    CHECK(strcmp(smtp_status_name(SMTP_ERR_TOO_LONG), "SMTP_ERR_TOO_LONG") == 0);
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
        if (smtp_classify_reply((const uint8_t *)reply, sizeof reply - 1, &ctx, &r) != SMTP_OK ||
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
    CHECK_EQ(smtp_classify_reply((const uint8_t *)reply, sizeof reply - 1, &ctx, &out), SMTP_OK);
    CHECK_EQ(out.verdict, SMTP_VERDICT_BATCH_LIMIT);
    CHECK_EQ(smtp_scanner_reset(&scanner), SMTP_OK);
    out = (smtp_result)SMTP_RESULT_INIT;
    CHECK_EQ(smtp_classify_reply_incremental((const uint8_t *)reply, sizeof reply - 1, &ctx,
                                             &scanner, &out),
             SMTP_OK);
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
    CHECK_EQ(smtp_parse_ehlo((const uint8_t *)ehlo, sizeof ehlo - 1, &caps), SMTP_OK);
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
    CHECK_EQ(smtp_parse_ehlo((const uint8_t *)ehlo, 20, &caps), SMTP_INCOMPLETE);
    CHECK_EQ(caps.extensions, 0);
    CHECK_EQ(smtp_parse_ehlo((const uint8_t *)refused, sizeof refused - 1, &caps),
             SMTP_ERR_REFUSED);
    CHECK_EQ(caps.code, 502);
    CHECK_EQ(caps.consumed, sizeof refused - 1);
    CHECK(strcmp(smtp_status_name(SMTP_ERR_REFUSED), "SMTP_ERR_REFUSED") == 0);
}

int main(void) {
    initializers();
    ehlo_capabilities();
    recipient_limits();
    pipelined_stream();
    incremental_one_byte_at_a_time();
    bad_arguments();
    larger_struct_is_written_only_as_far_as_known();
    safe_answer_on_bad_replies();
    names_and_registry();
    threads();
    return check_report("api_test");
}
