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

#include "error.h"

#define SEQSTATE_MAGIC "docbus-seqstate-v1"

struct seqstate_file {
    char path[4096];
    char tmp[4200];
    int lock_fd;
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
    memset(st, 0, sizeof *st);
    snprintf(st->producer, sizeof st->producer, "%s", prod);
    st->last_seq = seq;
    st->last_batch_seq = bseq;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(root + 2 * i, "%2x", &v) != 1) {
            snprintf(errstr, errstr_size, "%s: malformed last_root", path);
            return DB_ERR_CONFIG;
        }
        st->last_root[i] = (uint8_t)v;
    }
    return 0;
}

int seqstate_open(const char *path, const char *producer, seqstate_file_t **out, seqstate_t *st,
                  char *errstr, size_t errstr_size)
{
    seqstate_file_t *f = calloc(1, sizeof *f);
    char lockp[4200], text[512];
    FILE *fp = NULL;
    int rc = 0;
    *out = NULL;
    if (!f)
        return DB_ERR_NOMEM;
    f->lock_fd = -1;
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
    text[fread(text, 1, sizeof text - 1, fp)] = '\0';
    rc = parse(path, text, producer, st, errstr, errstr_size);
out:
    if (fp)
        fclose(fp);
    if (rc)
        seqstate_close(f);
    else
        *out = f;
    return rc;
}

int seqstate_save(seqstate_file_t *f, const seqstate_t *st, char *errstr, size_t errstr_size)
{
    char text[512], root[65], dir[4096], *slash;
    int fd = -1, rc = 0, len;
    for (int i = 0; i < 32; i++)
        snprintf(root + 2 * i, 3, "%02x", st->last_root[i]);
    len = snprintf(text, sizeof text, "%s producer=%s last_seq=%lld last_batch_seq=%lld last_root=%s\n",
                   SEQSTATE_MAGIC, st->producer, (long long)st->last_seq,
                   (long long)st->last_batch_seq, root);
    fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, (size_t)len) != len || fsync(fd) != 0) {
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
    }
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

void seqstate_close(seqstate_file_t *f)
{
    if (!f)
        return;
    if (f->lock_fd >= 0)
        close(f->lock_fd);
    free(f);
}
