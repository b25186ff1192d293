/*
 * smtp_verdict.h next to libESMTP's declarations (tests/c/libesmtp_standin.h) in one program,
 * in either order, as C and as C++: a program may use both libraries. Built by tests/c_api.rs
 * and tests/c_quality.sh; VERDICT_FIRST includes smtp_verdict.h first (C++ then defines
 * SMTP_VERDICT_NO_COMPAT_NAMES, as the header asks).
 */
#ifdef VERDICT_FIRST
#include "smtp_verdict.h"
#include "libesmtp_standin.h"
#else
#include "libesmtp_standin.h"
#include "smtp_verdict.h"
#endif

#include <stdio.h>
#include <string.h>

int main(void) {
    int failed = 0;
    /* libESMTP's names keep their meaning. */
    struct smtp_status theirs = {250, NULL, 2, 0, 0};
    smtp_status_t *also_theirs = &theirs;
    if (also_theirs->code != 250 || SMTP_ERR_INVAL != 7 || SMTP_ERR_CLIENT_ERROR != 20)
        failed++;
    /* And ours theirs. */
    static const char reply[] = "452 4.5.3 Error: too many recipients\r\n";
    smtp_context ctx = SMTP_CONTEXT_INIT;
    ctx.command = SMTP_CMD_RCPT;
    ctx.accepted_recipients = 3;
    smtp_result r = SMTP_RESULT_INIT;
    smtp_verdict_status status =
        smtp_classify_reply((const uint8_t *)reply, sizeof reply - 1, &ctx, &r);
    if (status != SMTP_STATUS_OK || r.verdict != SMTP_VERDICT_BATCH_LIMIT ||
        strcmp(smtp_status_name(status), "SMTP_STATUS_OK") != 0)
        failed++;
    if (smtp_classify_reply(NULL, 1, &ctx, &r) != SMTP_STATUS_NULL_ARGUMENT)
        failed++;
#if !defined(__cplusplus) && !defined(SMTP_VERDICT_NO_COMPAT_NAMES)
    /* In C the old names stay usable beside libESMTP's. */
    smtp_status old = SMTP_ERR_NULL_ARGUMENT;
    if (old != SMTP_STATUS_NULL_ARGUMENT || SMTP_OK != SMTP_STATUS_OK)
        failed++;
#endif
    printf("libesmtp_test: %d failed\n", failed);
    return failed != 0;
}
