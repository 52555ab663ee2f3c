/* exit_guard.h - a bound on the shutdown of a command whose result is already out. */
#ifndef DOCBUS_EXIT_GUARD_H
#define DOCBUS_EXIT_GUARD_H

/* Bounds the shutdown that follows, once the command's result is printed: if the process
 * is still alive seconds from now (librdkafka 2.0.2 can block for ever closing a consumer
 * or destroying a handle, confluentinc/librdkafka#4519), it says so on stderr and exits
 * with rc. Uses SIGALRM; a later call re-arms it, seconds 0 disarms it. */
void exit_guard_arm(int seconds, int rc);

#endif
