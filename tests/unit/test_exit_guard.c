/* test_exit_guard.c - a process that hangs after arming the guard exits with the given
 * code, about when asked, and says why on stderr; a disarmed guard never fires. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "exit_guard.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Forks a child that arms the guard (seconds, rc), re-arms it with rearm_to when that is
 * >= 0, then hangs for hang_s seconds and exits 99. Returns its wait status; its stderr
 * goes to err (up to size bytes), the time it lived to *took. */
static int run_child(int seconds, int rc, int rearm_to, int hang_s, char *err, size_t size,
                     double *took)
{
    int fd[2], status = 0;
    double t0 = now_s();
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], STDERR_FILENO);
        close(fd[0]);
        exit_guard_arm(seconds, rc);
        if (rearm_to >= 0)
            exit_guard_arm(rearm_to, rc);
        for (double end = now_s() + hang_s; now_s() < end;)
            sleep(1);   /* a blocked close: interrupted only by the guard */
        _exit(99);
    }
    close(fd[1]);
    ssize_t n, got = 0;
    while (got < (ssize_t)size - 1 && (n = read(fd[0], err + got, size - 1 - (size_t)got)) > 0)
        got += n;
    err[got] = 0;
    close(fd[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    *took = now_s() - t0;
    return status;
}

static void test_fires_with_the_code_and_says_why(void **state)
{
    (void)state;
    char err[512];
    double took;
    int status = run_child(1, 4, -1, 30, err, sizeof err, &took);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 4);
    assert_true(took >= 0.9 && took < 10);
    assert_non_null(strstr(err, "did not finish in time"));
}

static void test_disarmed_never_fires(void **state)
{
    (void)state;
    char err[512];
    double took;
    int status = run_child(1, 4, 0, 3, err, sizeof err, &took);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 99);   /* ran its 3 s to the end */
    assert_string_equal(err, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fires_with_the_code_and_says_why),
        cmocka_unit_test(test_disarmed_never_fires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
