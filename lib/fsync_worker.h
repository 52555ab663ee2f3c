/* fsync_worker.h - fdatasync on a background thread, so a producer keeps working while
 * the disk makes its seq state durable. */
#ifndef DOCBUS_FSYNC_WORKER_H
#define DOCBUS_FSYNC_WORKER_H

#include <pthread.h>

/* One request: filled by fsync_submit, finished by the worker. Owned by the caller, who
 * must not free or resubmit it before fsync_wait has returned for it. */
typedef struct fsync_job {
    int fd;
    int state;                 /* 0 idle, 1 queued or running, 2 finished */
    int err;                   /* errno of fdatasync when finished, 0 on success */
    struct fsync_job *next;
} fsync_job_t;

/* Queues an fdatasync of fd (the worker thread starts on first use). 0, or an errno
 * when the thread cannot start: then nothing is queued and the caller syncs itself. */
int fsync_submit(fsync_job_t *job, int fd);

/* 1 when job has finished (never blocks). */
int fsync_done(fsync_job_t *job);

/* Waits until job has finished; returns its errno (0: the data is on disk). A job that
 * was never submitted returns 0 at once. */
int fsync_wait(fsync_job_t *job);

#endif
