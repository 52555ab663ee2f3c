/* it_check.h - the assertion of the C integration tests: on failure, print where and
 * why, and exit 1 (the runner counts the test as failed). */
#ifndef DOCBUS_IT_CHECK_H
#define DOCBUS_IT_CHECK_H
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                         \
    do {                                                         \
        if (!(cond)) {                                           \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fputc('\n', stderr);                                 \
            exit(1);                                             \
        }                                                        \
    } while (0)

#endif
