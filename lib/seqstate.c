/* seqstate.c - a producer's persisted chain position: last seq, last batch, last root. */
#include "seqstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "error.h"

#define SEQSTATE_MAGIC "docbus-seqstate-v1"

/* Format v2: two fixed slots of SLOT_LEN bytes, each the v1 line followed by
 * " gen=N crc=XXXXXXXX" and padding. A save overwrites the older slot in place and
 * fdatasyncs once (v1 needed a temp file, fsync, rename and a directory fsync: two
 * syncs per signed batch). A slot torn by a crash fails its CRC and the other, older
 * slot is the state: the batch of the torn save was never emitted. A v1 file is read
 * and rewritten as v2 at the first save. */
#define SLOT_LEN 512
#define SLOT_FMT "%s producer=%s last_seq=%lld last_batch_seq=%lld last_root=%s gen=%llu"

struct seqstate_file {
    char path[4096];
    char tmp[4200];
    int lock_fd;
    int fd;                 /* the v2 file open for in-place saves, or -1 */
    uint64_t gen;           /* generation of the newest slot on disk */
};

/* mkdir -p of the directory part of path. */
static int make_parent(const char *path)
{
    char d[4096];
    snprintf(d, sizeof d, "%s", path);
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(d, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

/* Sets *st from parsed fields; root is 64 hex digits. Returns 0, or -1 for bad hex. */
static int fill(seqstate_t *st, const char *prod, long long seq, long long bseq, const char *root)
{
    memset(st, 0, sizeof *st);
    snprintf(st->producer, sizeof st->producer, "%s", prod);
    st->last_seq = seq;
    st->last_batch_seq = bseq;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(root + 2 * i, "%2x", &v) != 1)
            return -1;
        st->last_root[i] = (uint8_t)v;
    }
    return 0;
}

static int parse(const char *path, const char *text, const char *producer, seqstate_t *st,
                 char *errstr, size_t errstr_size)
{
    char magic[32], prod[UNIT_CODE_MAX], root[65];
    long long seq, bseq;
    int n = 0;
    if (sscanf(text, "%31s producer=%63s last_seq=%lld last_batch_seq=%lld last_root=%64s%n",
               magic, prod, &seq, &bseq, root, &n) != 5 || strcmp(magic, SEQSTATE_MAGIC) ||
        strlen(root) != 64 || seq < 0 || bseq < 0) {
        snprintf(errstr, errstr_size, "%s: malformed producer state; refusing to guess the next seq "
                 "(restore it from backup, or from the last message this unit published)", path);
        return DB_ERR_CONFIG;
    }
    if (strcmp(prod, producer) != 0) {
        snprintf(errstr, errstr_size, "%s holds the state of producer %s, not %s", path, prod, producer);
        return DB_ERR_CONFIG;
    }
    if (fill(st, prod, seq, bseq, root) != 0) {
        snprintf(errstr, errstr_size, "%s: malformed last_root", path);
        return DB_ERR_CONFIG;
    }
    return 0;
}

/* The check of a slot: the first 8 bytes of SHA-256(text) in hex (out: 17 bytes). */
static int slot_check(const char *text, size_t len, char out[17])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1)
        return -1;
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* Parses one v2 slot (SLOT_LEN bytes at p). Returns 1 with *st and *gen when its check
 * holds, 0 when it is torn or empty. */
static int parse_slot(const char *p, seqstate_t *st, uint64_t *gen)
{
    char buf[SLOT_LEN + 1], chk[17], magic[32], prod[UNIT_CODE_MAX], root[65];
    long long seq, bseq;
    unsigned long long g;
    int n = 0;
    memcpy(buf, p, SLOT_LEN);
    buf[SLOT_LEN] = '\0';
    char *c = strstr(buf, " crc=");
    if (!c || strlen(c) < 5 + 16)
        return 0;
    *c = '\0';
    if (slot_check(buf, strlen(buf), chk) || strncmp(c + 5, chk, 16) != 0)
        return 0;
    if (sscanf(buf, "%31s producer=%63s last_seq=%lld last_batch_seq=%lld last_root=%64s gen=%llu%n",
               magic, prod, &seq, &bseq, root, &g, &n) != 6 || (size_t)n != strlen(buf) ||
        strcmp(magic, SEQSTATE_MAGIC) || strlen(root) != 64 || seq < 0 || bseq < 0)
        return 0;
    if (fill(st, prod, seq, bseq, root) != 0)
        return 0;
    *gen = g;
    return 1;
}

/* Loads a v2 file (both slots in text): the valid slot of the highest generation, and
 * opens the file for in-place saves. */
static int load_slots(seqstate_file_t *f, const char *text, const char *producer, seqstate_t *st,
                      char *errstr, size_t errstr_size)
{
    seqstate_t s[2];
    uint64_t g[2] = {0, 0};
    int ok0 = parse_slot(text, &s[0], &g[0]), ok1 = parse_slot(text + SLOT_LEN, &s[1], &g[1]);
    int pick = ok0 && ok1 ? (g[1] > g[0]) : ok1;
    if (!ok0 && !ok1) {
        snprintf(errstr, errstr_size, "%s: both state slots are damaged; refusing to guess the next "
                 "seq (restore it from backup, or from the last message this unit published)", f->path);
        return DB_ERR_CONFIG;
    }
    if (strcmp(s[pick].producer, producer) != 0) {
        snprintf(errstr, errstr_size, "%s holds the state of producer %s, not %s", f->path,
                 s[pick].producer, producer);
        return DB_ERR_CONFIG;
    }
    f->fd = open(f->path, O_RDWR | O_CLOEXEC);
    if (f->fd < 0) {
        snprintf(errstr, errstr_size, "cannot open %s: %s", f->path, strerror(errno));
        return DB_ERR_IO;
    }
    *st = s[pick];
    f->gen = g[pick];
    return 0;
}

/* Writes st as a slot of generation gen into out (SLOT_LEN bytes). */
static int format_slot(const seqstate_t *st, uint64_t gen, char out[SLOT_LEN])
{
    char root[65], chk[17];
    for (int i = 0; i < 32; i++)
        snprintf(root + 2 * i, 3, "%02x", st->last_root[i]);
    int len = snprintf(out, SLOT_LEN, SLOT_FMT, SEQSTATE_MAGIC, st->producer,
                       (long long)st->last_seq, (long long)st->last_batch_seq, root,
                       (unsigned long long)gen);
    if (len < 0 || len + 5 + 16 + 1 > SLOT_LEN || slot_check(out, (size_t)len, chk))
        return -1;
    len += snprintf(out + len, (size_t)(SLOT_LEN - len), " crc=%s", chk);
    memset(out + len, ' ', (size_t)(SLOT_LEN - len - 1));
    out[SLOT_LEN - 1] = '\n';
    return 0;
}

int seqstate_open(const char *path, const char *producer, seqstate_file_t **out, seqstate_t *st,
                  char *errstr, size_t errstr_size)
{
    seqstate_file_t *f = calloc(1, sizeof *f);
    char lockp[4200], text[2 * SLOT_LEN + 1];
    FILE *fp = NULL;
    int rc = 0;
    *out = NULL;
    if (!f)
        return DB_ERR_NOMEM;
    f->lock_fd = -1;
    f->fd = -1;
    if (strlen(path) >= sizeof f->path - 32) {
        snprintf(errstr, errstr_size, "state path too long: %s", path);
        rc = DB_ERR_CONFIG;
        goto out;
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->tmp, sizeof f->tmp, "%s.tmp", path);
    snprintf(lockp, sizeof lockp, "%s.lock", path);
    if (make_parent(path) != 0) {
        snprintf(errstr, errstr_size, "cannot create the directory of %s: %s", path, strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    f->lock_fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f->lock_fd < 0) {
        snprintf(errstr, errstr_size, "cannot open %s: %s", lockp, strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    if (flock(f->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(errstr, errstr_size, "%s is locked: another process is producing as %s "
                 "(two would reuse seq numbers)", lockp, producer);
        rc = DB_ERR_INVALID;
        goto out;
    }
    memset(st, 0, sizeof *st);
    snprintf(st->producer, sizeof st->producer, "%s", producer);
    fp = fopen(path, "r");
    if (!fp) {
        if (errno != ENOENT) {
            snprintf(errstr, errstr_size, "cannot read %s: %s", path, strerror(errno));
            rc = DB_ERR_IO;
        }
        goto out;
    }
    size_t got = fread(text, 1, sizeof text - 1, fp);
    text[got] = '\0';
    if (got == 2 * SLOT_LEN && !memchr(text, '\0', got)) {
        rc = load_slots(f, text, producer, st, errstr, errstr_size);
    } else {
        rc = parse(path, text, producer, st, errstr, errstr_size);
    }
out:
    if (fp)
        fclose(fp);
    if (rc)
        seqstate_close(f);
    else
        *out = f;
    return rc;
}

/* First save of a fresh or v1 state: the whole v2 file (both slots) through a temp
 * file, fsync, rename and a directory fsync; then the file stays open for in-place
 * saves. */
static int save_whole(seqstate_file_t *f, const char *image, char *errstr, size_t errstr_size)
{
    char dir[4096], *slash;
    int fd, rc = 0;
    fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, image, 2 * SLOT_LEN) != 2 * SLOT_LEN || fsync(fd) != 0) {
        snprintf(errstr, errstr_size, "cannot write %s: %s", f->tmp, strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(f->tmp, f->path) != 0) {
        snprintf(errstr, errstr_size, "cannot rename %s to %s: %s", f->tmp, f->path, strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    /* The rename is durable only once the directory entry is. */
    snprintf(dir, sizeof dir, "%s", f->path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        snprintf(errstr, errstr_size, "cannot fsync directory %s: %s", dir, strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    close(fd);
    fd = -1;
    f->fd = open(f->path, O_RDWR | O_CLOEXEC);
    if (f->fd < 0) {
        snprintf(errstr, errstr_size, "cannot open %s: %s", f->path, strerror(errno));
        rc = DB_ERR_IO;
    }
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

int seqstate_write(seqstate_file_t *f, const seqstate_t *st, int *durable, char *errstr,
                   size_t errstr_size)
{
    char image[2 * SLOT_LEN];
    uint64_t gen = f->gen + 1;
    int rc = 0;
    *durable = 0;
    if (format_slot(st, gen, image) != 0) {
        snprintf(errstr, errstr_size, "cannot format the state of %s", st->producer);
        return DB_ERR_IO;
    }
    if (f->fd < 0) {
        memcpy(image + SLOT_LEN, image, SLOT_LEN);
        rc = save_whole(f, image, errstr, errstr_size);
        *durable = rc == 0;
    } else if (pwrite(f->fd, image, SLOT_LEN, (off_t)(gen % 2) * SLOT_LEN) != SLOT_LEN) {
        snprintf(errstr, errstr_size, "cannot write %s: %s", f->path, strerror(errno));
        rc = DB_ERR_IO;
    }
    if (rc == 0)
        f->gen = gen;
    return rc;
}

int seqstate_fd(const seqstate_file_t *f)
{
    return f->fd;
}

int seqstate_sync(seqstate_file_t *f, char *errstr, size_t errstr_size)
{
    if (fdatasync(f->fd) == 0)
        return 0;
    snprintf(errstr, errstr_size, "cannot write %s: %s", f->path, strerror(errno));
    seqstate_take_back(f);   /* the slot may not be on disk: the next write goes to it */
    return DB_ERR_IO;
}

void seqstate_take_back(seqstate_file_t *f)
{
    f->gen--;
}

int seqstate_save(seqstate_file_t *f, const seqstate_t *st, char *errstr, size_t errstr_size)
{
    int durable, rc = seqstate_write(f, st, &durable, errstr, errstr_size);
    if (rc == 0 && !durable)
        rc = seqstate_sync(f, errstr, errstr_size);
    return rc;
}

void seqstate_close(seqstate_file_t *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    if (f->lock_fd >= 0)
        close(f->lock_fd);
    free(f);
}
