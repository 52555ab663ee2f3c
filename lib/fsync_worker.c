/* fsync_worker.c - one process-wide thread that fdatasyncs queued files in order. */
#include "fsync_worker.h"

#include <errno.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queued = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static fsync_job_t *head, *tail;
static int start_err;

/* The worker: takes jobs in order, syncs each, marks it finished. Runs until exit. */
static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        fsync_job_t *j;
        while (!head)
            pthread_cond_wait(&queued, &mu);
        j = head;
        head = j->next;
        if (!head)
            tail = NULL;
        pthread_mutex_unlock(&mu);
        int err = fdatasync(j->fd) == 0 ? 0 : errno;
        pthread_mutex_lock(&mu);
        j->err = err;
        __atomic_store_n(&j->state, 2, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&finished);
    }
    return NULL;
}

/* Starts the worker, detached: it holds no resource worth releasing at exit. */
static void start(void)
{
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    start_err = pthread_create(&th, &attr, worker, NULL);
    pthread_attr_destroy(&attr);
}

int fsync_submit(fsync_job_t *job, int fd)
{
    pthread_once(&once, start);
    if (start_err)
        return start_err;
    pthread_mutex_lock(&mu);
    job->fd = fd;
    job->err = 0;
    job->next = NULL;
    __atomic_store_n(&job->state, 1, __ATOMIC_RELAXED);
    if (tail)
        tail->next = job;
    else
        head = job;
    tail = job;
    pthread_cond_signal(&queued);
    pthread_mutex_unlock(&mu);
    return 0;
}

int fsync_done(fsync_job_t *job)
{
    return __atomic_load_n(&job->state, __ATOMIC_ACQUIRE) != 1;
}

int fsync_wait(fsync_job_t *job)
{
    int err;
    if (fsync_done(job))
        return job->state == 2 ? job->err : 0;
    pthread_mutex_lock(&mu);
    while (job->state != 2)
        pthread_cond_wait(&finished, &mu);
    err = job->err;
    pthread_mutex_unlock(&mu);
    return err;
}
