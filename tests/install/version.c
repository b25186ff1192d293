/* Checks that the header's version macros, the library's runtime version and the version
 * given on the command line (Cargo.toml's) agree. Usage: version EXPECTED-VERSION */
#include <stdio.h>
#include <string.h>

#include <smtp_verdict.h>

#define STR2(x) #x
#define STR(x) STR2(x)

int main(int argc, char **argv) {
    const char *header = STR(SMTP_VERDICT_VERSION_MAJOR) "." STR(SMTP_VERDICT_VERSION_MINOR) "." STR(
        SMTP_VERDICT_VERSION_PATCH);
    const char *runtime = smtp_verdict_version();
    int number = SMTP_VERDICT_VERSION_MAJOR * 10000 + SMTP_VERDICT_VERSION_MINOR * 100 +
                 SMTP_VERDICT_VERSION_PATCH;
    printf("header %s (%d), library %s\n", header, SMTP_VERDICT_VERSION_NUMBER, runtime);
    if (argc != 2 || strcmp(header, argv[1]) != 0 || strcmp(runtime, argv[1]) != 0 ||
        number != SMTP_VERDICT_VERSION_NUMBER) {
        fprintf(stderr, "version mismatch: expected %s\n", argc == 2 ? argv[1] : "?");
        return 1;
    }
    /* One real call through the installed library. */
    static const char reply[] = "452 4.5.3 Error: too many recipients\r\n";
    smtp_context ctx = {.struct_size = sizeof ctx, .command = SMTP_CMD_RCPT,
                        .accepted_recipients = 1};
    smtp_result r = {.struct_size = sizeof r};
    if (smtp_classify_reply((const uint8_t *)reply, sizeof reply - 1, &ctx, &r) != SMTP_STATUS_OK ||
        r.verdict != SMTP_VERDICT_BATCH_LIMIT) {
        fprintf(stderr, "classification through the installed library failed\n");
        return 1;
    }
    return 0;
}
