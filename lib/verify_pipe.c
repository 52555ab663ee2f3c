/* verify_pipe.c - a ring of slots between the consumer's thread and one verifying thread.
 * Counters only grow: the consumer pushes at head and releases at tail, the verifier
 * proves up to verified; slot i lives at i % DEPTH. Each slot decodes its body with a
 * decoder of its own, so DEPTH verified bodies can be alive at once. */
#include "verify_pipe.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define DEPTH 128

struct verify_pipe {
    verifier_t *verifier;
    verify_release_fn *release;
    verify_slot_t slots[DEPTH];
    body_decoder_t *bodies[DEPTH];
    uint64_t head, verified, tail;   /* pushed, proven, released */
    int stop;
    int worker_waits, taker_waits;   /* a side sleeps on work / proved */
    pthread_mutex_t mu;
    pthread_cond_t work, proved;
    pthread_t thread;
    int started;
};

/* The verifying thread: proves slots verified..head as they come, in order. */
static void *verify_main(void *arg)
{
    verify_pipe_t *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->verified == p->head && !p->stop) {
            p->worker_waits = 1;
            pthread_cond_wait(&p->work, &p->mu);
            p->worker_waits = 0;
        }
        if (p->verified == p->head)
            break;   /* stopping, and nothing is left */
        uint64_t i = p->verified;
        pthread_mutex_unlock(&p->mu);
        verify_slot_t *s = &p->slots[i % DEPTH];
        s->rc = verifier_check_into(p->verifier, p->bodies[i % DEPTH], s->buf, s->len, &s->v,
                                    s->errstr, sizeof s->errstr);
        pthread_mutex_lock(&p->mu);
        p->verified = i + 1;
        if (p->taker_waits)
            pthread_cond_signal(&p->proved);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

verify_pipe_t *verify_pipe_new(verifier_t *v, verify_release_fn *release)
{
    verify_pipe_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->verifier = v;
    p->release = release;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->proved, NULL);
    for (int i = 0; i < DEPTH; i++)
        if (!(p->bodies[i] = body_decoder_new()))
            goto fail;
    if (pthread_create(&p->thread, NULL, verify_main, p))
        goto fail;
    p->started = 1;
    return p;
fail:
    verify_pipe_destroy(p);
    return NULL;
}

int verify_pipe_full(const verify_pipe_t *p)
{
    return p->head - p->tail == DEPTH;
}

size_t verify_pipe_in_flight(const verify_pipe_t *p)
{
    return (size_t)(p->head - p->tail);
}

void verify_pipe_push(verify_pipe_t *p, const uint8_t *buf, size_t len, void *owner)
{
    verify_slot_t *s = &p->slots[p->head % DEPTH];
    s->owner = owner;
    s->buf = buf;
    s->len = len;
    pthread_mutex_lock(&p->mu);
    p->head++;
    if (p->worker_waits)
        pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

verify_slot_t *verify_pipe_pop(verify_pipe_t *p, int wait)
{
    verify_slot_t *s = NULL;
    if (p->tail == p->head)
        return NULL;
    pthread_mutex_lock(&p->mu);
    while (p->tail == p->verified && wait) {
        p->taker_waits = 1;
        pthread_cond_wait(&p->proved, &p->mu);
        p->taker_waits = 0;
    }
    if (p->tail < p->verified)
        s = &p->slots[p->tail % DEPTH];
    pthread_mutex_unlock(&p->mu);
    return s;
}

void verify_pipe_done(verify_pipe_t *p)
{
    verify_slot_t *s = &p->slots[p->tail % DEPTH];
    p->release(s->owner);
    s->owner = NULL;
    p->tail++;
}

void verify_pipe_discard(verify_pipe_t *p)
{
    while (p && verify_pipe_pop(p, 1))
        verify_pipe_done(p);
}

void verify_pipe_destroy(verify_pipe_t *p)
{
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_signal(&p->work);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
        verify_pipe_discard(p);
    }
    for (int i = 0; i < DEPTH; i++)
        body_decoder_destroy(p->bodies[i]);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->proved);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
