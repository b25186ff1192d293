/* A minimal assertion kit for the C tests: report every failure with its place, count them,
 * and let main() return the count, so one run shows all that is wrong. */
#ifndef SMTP_VERDICT_TEST_CHECK_H
#define SMTP_VERDICT_TEST_CHECK_H

#include <stdio.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        check_count++;                                                               \
        if (!(cond)) {                                                               \
            check_failures++;                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ(actual, expected)                                                      \
    do {                                                                                \
        unsigned long long check_a_ = (unsigned long long)(actual);                     \
        unsigned long long check_e_ = (unsigned long long)(expected);                   \
        check_count++;                                                                  \
        if (check_a_ != check_e_) {                                                     \
            check_failures++;                                                           \
            fprintf(stderr, "%s:%d: %s is %llu, expected %s (%llu)\n", __FILE__, __LINE__, \
                    #actual, check_a_, #expected, check_e_);                            \
        }                                                                               \
    } while (0)

static int check_report(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures == 0 ? 0 : 1;
}

#endif
