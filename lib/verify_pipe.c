/* verify_pipe.c - a ring of slots between the consumer's thread and one verifying thread.
 * Counters only grow: the consumer pushes at head and releases at tail, the verifier
 * proves up to verified; slot i lives at i % DEPTH. Each slot decodes its body with a
 * decoder of its own, so DEPTH verified bodies can be alive at once. head and verified
 * are atomics (a mutex per message was a tenth of the consumer's thread); the mutex and
 * conditions serve only a side that sleeps: it raises its flag, then looks at the
 * counter again, and the other side signals when it sees the flag after moving the
 * counter (sequentially consistent, so one of the two sees the other). */
#include "verify_pipe.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "merkle.h"

#define DEPTH 128
/* Before sleeping, a side looks again this many times, pausing between looks (~10 us on
 * x86: a message takes ~3 us to verify): sleeping and waking through the kernel was ~6 %
 * of each thread when the two kept pace. */
#define SPINS 256
/* A full pipe is drained in bursts: the taker sleeps until this many of its oldest
 * messages are proven. Waiting for one at a time made the two threads hand over every
 * message, the taker spinning or sleeping and waking for each (verify_pipe_pop was ~6 %
 * of an aggregation's samples, CPU the broker and librdkafka wanted on two cores). */
#define BURST (DEPTH / 4)

static void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

struct verify_pipe {
    verifier_t *verifier;
    verify_release_fn *release;
    int flags;
    verify_slot_t slots[DEPTH];
    body_decoder_t *bodies[DEPTH];
    _Atomic uint64_t head, verified; /* pushed, proven */
    uint64_t tail;                   /* released (the consumer's thread only) */
    atomic_int stop;
    atomic_int worker_waits, taker_waits;   /* a side sleeps on work / proved */
    _Atomic uint64_t taker_target;          /* the taker sleeps until verified reaches it */
    pthread_mutex_t mu;
    pthread_cond_t work, proved;
    pthread_t thread;
    int started;
};

/* The verifying thread: proves slots verified..head as they come, in order. */
static void *verify_main(void *arg)
{
    verify_pipe_t *p = arg;
    for (;;) {
        uint64_t i = atomic_load(&p->verified);
        for (int spin = 0; spin < SPINS && i == atomic_load(&p->head); spin++)
            cpu_pause();
        if (i == atomic_load(&p->head)) {
            if (atomic_load(&p->stop))
                break;   /* stopping, and nothing is left */
            pthread_mutex_lock(&p->mu);
            atomic_store(&p->worker_waits, 1);
            while (atomic_load(&p->head) == i && !atomic_load(&p->stop))
                pthread_cond_wait(&p->work, &p->mu);
            atomic_store(&p->worker_waits, 0);
            pthread_mutex_unlock(&p->mu);
            continue;
        }
        verify_slot_t *s = &p->slots[i % DEPTH];
        s->rc = verifier_check_into(p->verifier, p->bodies[i % DEPTH], s->buf, s->len, &s->v,
                                    s->errstr, sizeof s->errstr);
        s->hash_rc = 0;
        if (!s->rc && (p->flags & VERIFY_PIPE_BODY_HASH))
            s->hash_rc = merkle_sha256(s->v.content.body, s->v.content.body_len, s->body_hash);
        atomic_store(&p->verified, i + 1);
        if (atomic_load(&p->taker_waits) && i + 1 >= atomic_load(&p->taker_target)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->proved);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

verify_pipe_t *verify_pipe_new(verifier_t *v, verify_release_fn *release, int flags)
{
    verify_pipe_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->verifier = v;
    p->release = release;
    p->flags = flags;
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
    return atomic_load_explicit(&p->head, memory_order_relaxed) - p->tail == DEPTH;
}

size_t verify_pipe_in_flight(const verify_pipe_t *p)
{
    return (size_t)(atomic_load_explicit(&p->head, memory_order_relaxed) - p->tail);
}

void verify_pipe_push(verify_pipe_t *p, const uint8_t *buf, size_t len, void *owner)
{
    uint64_t h = atomic_load_explicit(&p->head, memory_order_relaxed);
    verify_slot_t *s = &p->slots[h % DEPTH];
    s->owner = owner;
    s->buf = buf;
    s->len = len;
    atomic_store(&p->head, h + 1);
    if (atomic_load(&p->worker_waits)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->work);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Returns when at least target messages are proven (target <= head): spins a little,
 * then sleeps until the verifier reaches it. */
static void wait_verified(verify_pipe_t *p, uint64_t target)
{
    uint64_t v = atomic_load(&p->verified);
    if (v >= target)
        return;
    for (int spin = 0; spin < SPINS && target - v <= 2; spin++) {   /* nearly there */
        cpu_pause();
        if ((v = atomic_load(&p->verified)) >= target)
            return;
    }
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->taker_target, target);
    atomic_store(&p->taker_waits, 1);
    while (atomic_load(&p->verified) < target)
        pthread_cond_wait(&p->proved, &p->mu);
    atomic_store(&p->taker_waits, 0);
    pthread_mutex_unlock(&p->mu);
}

verify_slot_t *verify_pipe_pop(verify_pipe_t *p, int wait)
{
    if (p->tail == atomic_load_explicit(&p->head, memory_order_relaxed))
        return NULL;
    if (p->tail < atomic_load(&p->verified))
        return &p->slots[p->tail % DEPTH];
    if (!wait)
        return NULL;
    wait_verified(p, p->tail + 1);
    return &p->slots[p->tail % DEPTH];
}

void verify_pipe_done(verify_pipe_t *p)
{
    verify_slot_t *s = &p->slots[p->tail % DEPTH];
    p->release(s->owner);
    s->owner = NULL;
    p->tail++;
}

int verify_pipe_drain(verify_pipe_t *p, verify_drain_t how, verify_slot_fn *fn, void *opaque)
{
    verify_slot_t *s;
    int wait = how == VERIFY_DRAIN_ALL;
    if (how == VERIFY_DRAIN_BURST) {
        uint64_t in = atomic_load_explicit(&p->head, memory_order_relaxed) - p->tail;
        wait_verified(p, p->tail + (in < BURST ? in : BURST));
    }
    while ((s = verify_pipe_pop(p, wait)) != NULL) {
        int rc = fn(opaque, s);
        verify_pipe_done(p);
        if (rc)
            return rc;
    }
    return 0;
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
        atomic_store(&p->stop, 1);
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
