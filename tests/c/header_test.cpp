// The header as a C++ program uses it: compiled with -std=c++11 -Wall -Wextra -Wpedantic
// -Werror by tests/c_api.rs, linked against the library and run.
#include <cstdio>
#include <cstring>

#include "smtp_verdict.h"

static_assert(sizeof(smtp_status) == 4, "smtp_status is a 32-bit integer");
static_assert(SMTP_OK == 0, "SMTP_OK is 0");

int main() {
    const char reply[] = "452 4.5.3 Error: too many recipients\r\n";
    smtp_context ctx = SMTP_CONTEXT_INIT;
    ctx.command = SMTP_CMD_RCPT;
    ctx.accepted_recipients = 1;
    smtp_result out = SMTP_RESULT_INIT;
    smtp_status status = smtp_classify_reply(reinterpret_cast<const uint8_t *>(reply),
                                             sizeof reply - 1, &ctx, &out);
    bool ok = status == SMTP_OK && out.verdict == SMTP_VERDICT_BATCH_LIMIT &&
              out.scope == SMTP_SCOPE_RECIPIENT &&
              std::strcmp(smtp_verdict_name(out.verdict), "batch-limit") == 0;
    std::printf("header_test (C++): %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
