/* prep_pool.c - JSON Lines prepared by worker threads into a ring, taken in input order.
 *
 * A worker reads a chunk of consecutive lines under the input lock and claims as many
 * ring slots under the ring lock before it lets the input go (so lines keep their
 * order), prepares them outside both, and marks each slot ready. The taker (the signing
 * thread) takes slots strictly in order: a slot that is ready is taken without a lock,
 * and neither it nor prep_pool_stop ever waits behind a read. Each side sleeps only
 * when it must, and announces it in an atomic flag that the other side reads after
 * publishing its own progress (both sequentially consistent, so one of them always sees
 * the other). */
#include "prep_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "error.h"

#define RING 2048              /* prepared lines between the workers and the taker */
#define CHUNK 32               /* lines a worker claims at once from a regular file */
#define KEEP_BUFFER (64 * 1024) /* a line buffer grown past this is freed after use */

struct slot {
    prep_slot_t s;
    atomic_int ready;          /* set by its worker when prepared, cleared on release */
};

struct worker {
    prep_pool_t *pool;
    pthread_t th;
    submit_prep_t *prep;
    char *line[CHUNK];         /* the chunk's lines, buffers reused */
    size_t cap[CHUNK], len[CHUNK];
    uint64_t lineno[CHUNK];
};

struct prep_pool {
    pthread_mutex_t in_mu;     /* the input: in, chunk, lineno, read_errno, in_done */
    FILE *in;
    int chunk;                 /* lines per claim: CHUNK, or 1 from a pipe or terminal */
    uint64_t lineno;           /* lines read */
    int read_errno;
    int in_done;               /* the input is exhausted */
    pthread_mutex_t mu;        /* the ring: head, eof, stop, and the two conditions */
    pthread_cond_t filled, freed;
    struct slot *ring;
    uint64_t head;             /* slots claimed by workers */
    atomic_uint_fast64_t tail; /* slots released by the taker (only it writes) */
    int eof, stop;             /* every line is claimed / workers must stop */
    atomic_int taker_waits, putters_waiting;
    atomic_uint_fast64_t bytes;
    int nworkers;
    struct worker w[PREP_POOL_MAX_WORKERS];
};

/* Reads up to n lines into w's chunk (p->in_mu held); returns how many, setting
 * p->in_done at the end of the input. Blank lines are counted and skipped. */
static int read_chunk(prep_pool_t *p, struct worker *w, int n)
{
    int k = 0;
    while (k < n) {
        ssize_t len;
        errno = 0;
        len = getline(&w->line[k], &w->cap[k], p->in);
        if (len == -1) {
            p->read_errno = ferror(p->in) ? (errno ? errno : EIO) : 0;
            p->in_done = 1;
            break;
        }
        p->lineno++;
        atomic_fetch_add(&p->bytes, (uint64_t)len);
        while (len > 0 && (w->line[k][len - 1] == '\n' || w->line[k][len - 1] == '\r'))
            w->line[k][--len] = '\0';
        if (len == 0)
            continue;
        w->len[k] = (size_t)len;
        w->lineno[k] = p->lineno;
        k++;
    }
    return k;
}

/* Prepares one line into slot sl. */
static void prepare(struct worker *w, prep_slot_t *sl, uint64_t lineno, const char *line,
                    size_t len)
{
    sl->line = lineno;
    sl->errstr[0] = '\0';
    if (len > PREP_POOL_LINE_CAP) {
        snprintf(sl->errstr, sizeof sl->errstr, "line is %zu bytes, over the %d byte cap", len,
                 PREP_POOL_LINE_CAP);
        sl->rc = DB_ERR_INVALID;
        len = 200;
    } else {
        sl->rc = submit_prepare_line(w->prep, line, len, &sl->item, sl->errstr,
                                     sizeof sl->errstr);
    }
    free(sl->text);
    sl->text = NULL;
    if (sl->rc == DB_ERR_INVALID && (sl->text = malloc(len + 1))) {
        memcpy(sl->text, line, len);
        sl->text[len] = '\0';
        sl->text_len = len;
    }
}

/* Free slots a worker may claim. */
static uint64_t room(prep_pool_t *p)
{
    return RING - (p->head - atomic_load(&p->tail));
}

/* A worker: claims chunks of lines and slots until the input ends or the pool stops. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    prep_pool_t *p = w->pool;
    for (;;) {
        uint64_t first;
        int k, ended;
        pthread_mutex_lock(&p->in_mu);
        pthread_mutex_lock(&p->mu);
        while (!p->stop && !p->eof && room(p) < CHUNK) {
            atomic_fetch_add(&p->putters_waiting, 1);
            if (room(p) < CHUNK)   /* re-read after announcing: see the file comment */
                pthread_cond_wait(&p->freed, &p->mu);
            atomic_fetch_sub(&p->putters_waiting, 1);
        }
        if (p->stop || p->eof) {
            pthread_mutex_unlock(&p->mu);
            pthread_mutex_unlock(&p->in_mu);
            break;
        }
        pthread_mutex_unlock(&p->mu);
        k = read_chunk(p, w, p->chunk);
        pthread_mutex_lock(&p->mu);
        first = p->head;
        p->head += (uint64_t)k;
        p->eof = p->in_done;
        ended = p->eof;
        pthread_mutex_unlock(&p->mu);
        pthread_mutex_unlock(&p->in_mu);
        for (int i = 0; i < k; i++) {
            struct slot *sl = &p->ring[(first + (uint64_t)i) % RING];
            prepare(w, &sl->s, w->lineno[i], w->line[i], w->len[i]);
            atomic_store(&sl->ready, 1);
            if (w->cap[i] > KEEP_BUFFER) {   /* one huge line must not pin memory */
                free(w->line[i]);
                w->line[i] = NULL;
                w->cap[i] = 0;
            }
        }
        if (ended || atomic_load(&p->taker_waits)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_broadcast(&p->filled);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

prep_pool_t *prep_pool_start(FILE *in, const units_t *units, int workers, char *errstr,
                             size_t errstr_size)
{
    prep_pool_t *p = calloc(1, sizeof *p);
    if (!p || !(p->ring = calloc(RING, sizeof *p->ring))) {
        free(p);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->in = in;
    {
        /* from a pipe or a terminal a line is handed out as soon as it is read */
        struct stat sb;
        p->chunk = fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode) ? CHUNK : 1;
    }
    pthread_mutex_init(&p->in_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->filled, NULL);
    pthread_cond_init(&p->freed, NULL);
    if (workers < 1)
        workers = 1;
    if (workers > PREP_POOL_MAX_WORKERS)
        workers = PREP_POOL_MAX_WORKERS;
    for (int i = 0; i < workers; i++) {
        struct worker *w = &p->w[i];
        int err;
        w->pool = p;
        if (!(w->prep = submit_prep_new(units, errstr, errstr_size))) {
            prep_pool_stop(p);
            return NULL;
        }
        if ((err = pthread_create(&w->th, NULL, worker_main, w)) != 0) {
            submit_prep_destroy(w->prep);
            w->prep = NULL;
            snprintf(errstr, errstr_size, "cannot start a reader thread: %s", strerror(err));
            prep_pool_stop(p);
            return NULL;
        }
        p->nworkers = i + 1;
    }
    return p;
}

prep_slot_t *prep_pool_take(prep_pool_t *p)
{
    uint64_t t = atomic_load(&p->tail);
    struct slot *sl = &p->ring[t % RING];
    if (atomic_load(&sl->ready))
        return &sl->s;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (atomic_load(&sl->ready))
            break;
        if ((p->eof || p->stop) && t == p->head) {
            sl = NULL;
            break;
        }
        /* a worker signals after each chunk it prepared while the taker waits; the
         * timeout only bounds the wait should a signal ever be missed */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 20 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        atomic_store(&p->taker_waits, 1);
        if (!atomic_load(&sl->ready))
            pthread_cond_timedwait(&p->filled, &p->mu, &until);
        atomic_store(&p->taker_waits, 0);
    }
    pthread_mutex_unlock(&p->mu);
    return sl ? &sl->s : NULL;
}

void prep_pool_release(prep_pool_t *p)
{
    uint64_t t = atomic_load(&p->tail);
    atomic_store(&p->ring[t % RING].ready, 0);
    atomic_store(&p->tail, t + 1);
    if (atomic_load(&p->putters_waiting)) {
        pthread_mutex_lock(&p->mu);
        if (room(p) >= CHUNK)
            pthread_cond_broadcast(&p->freed);
        pthread_mutex_unlock(&p->mu);
    }
}

uint64_t prep_pool_bytes(prep_pool_t *p)
{
    return atomic_load(&p->bytes);
}

uint64_t prep_pool_lines(const prep_pool_t *p)
{
    return p->lineno;
}

int prep_pool_read_errno(const prep_pool_t *p)
{
    return p->read_errno;
}

void prep_pool_stop(prep_pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->freed);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->w[i].th, NULL);
    for (int i = 0; i < PREP_POOL_MAX_WORKERS; i++) {
        submit_prep_destroy(p->w[i].prep);
        for (int j = 0; j < CHUNK; j++)
            free(p->w[i].line[j]);
    }
    for (int i = 0; i < RING; i++) {
        free(p->ring[i].s.text);
        submit_item_clear(&p->ring[i].s.item);
    }
    free(p->ring);
    pthread_mutex_destroy(&p->in_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->filled);
    pthread_cond_destroy(&p->freed);
    free(p);
}
