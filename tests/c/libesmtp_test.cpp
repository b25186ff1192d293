// tests/c/libesmtp_test.c compiled as C++.
#include "libesmtp_test.c"
