// The header as a C++ program uses it: compiled with -std=c++11 -Wall -Wextra -Wpedantic
// -Werror by tests/c_api.rs, linked against the library and run.
#include <cstdio>
#include <cstring>

#include "smtp_verdict.h"

static_assert(sizeof(smtp_verdict_status) == 4, "smtp_verdict_status is a 32-bit integer");
static_assert(SMTP_STATUS_OK == 0, "SMTP_STATUS_OK is 0");
static_assert(sizeof(smtp_plan_recipient) == 48, "smtp_plan_recipient is 12 uint32_t");
static_assert(SMTP_PLAN_SEND_MAIL == 1 && SMTP_PLAN_RECONNECT == 11, "smtp_plan_action values");
static_assert(SMTP_PLAN_NOT_ATTEMPTED == 7, "smtp_plan_recipient_state values");

// The planner's initializer macros in C++, and a plan with no recipient: QUIT at once.
static bool plan_ok() {
    smtp_plan plan = SMTP_PLAN_INIT;
    smtp_plan_options options = SMTP_PLAN_OPTIONS_INIT;
    smtp_plan_step step = SMTP_PLAN_STEP_INIT;
    smtp_plan_reply about = SMTP_PLAN_REPLY_INIT;
    smtp_result out = SMTP_RESULT_INIT;
    smtp_plan_recipient rcpt = smtp_plan_recipient();
    const char bye[] = "221 2.0.0 Bye\r\n";
    rcpt.domain = smtp_domain_key("a@example.org", 13);
    bool ok = smtp_plan_init(&plan, &rcpt, 0, nullptr, &options) == SMTP_STATUS_OK &&
              smtp_plan_next(&plan, &step) == SMTP_STATUS_OK && step.action == SMTP_PLAN_SEND_QUIT &&
              smtp_plan_receive(&plan, reinterpret_cast<const uint8_t *>(bye), sizeof bye - 1,
                                &out, &about) == SMTP_STATUS_OK &&
              about.command == SMTP_CMD_QUIT && smtp_plan_next(&plan, &step) == SMTP_STATUS_OK &&
              step.action == SMTP_PLAN_DONE &&
              std::strcmp(smtp_plan_action_name(step.action), "done") == 0;
    return ok;
}

int main() {
    const char reply[] = "452 4.5.3 Error: too many recipients\r\n";
    smtp_context ctx = SMTP_CONTEXT_INIT;
    ctx.command = SMTP_CMD_RCPT;
    ctx.accepted_recipients = 1;
    smtp_result out = SMTP_RESULT_INIT;
    smtp_verdict_status status = smtp_classify_reply(reinterpret_cast<const uint8_t *>(reply),
                                             sizeof reply - 1, &ctx, &out);
    bool ok = status == SMTP_STATUS_OK && out.verdict == SMTP_VERDICT_BATCH_LIMIT &&
              out.scope == SMTP_SCOPE_RECIPIENT &&
              std::strcmp(smtp_verdict_name(out.verdict), "batch-limit") == 0 && plan_ok();
    std::printf("header_test (C++): %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
