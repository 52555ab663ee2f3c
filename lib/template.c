/* template.c - the report's placeholder engine: parse once, render against the model. */
#include "template.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "vi_format.h"

#define TPL_MAX_FILE (1u << 20) /* a section template is a page, not a book */
#define TPL_MAX_DEPTH 16        /* nested blocks */
#define TPL_MAX_NAME 200
#define TPL_MAX_DOTS 8          /* bounds the prefix search in lookup() */

enum node_kind { N_TEXT, N_VAR, N_SECTION, N_INVERTED };

enum filter { F_NONE, F_MORE, F_02, F_VND, F_VND_SHORT, F_DATE, F_DATES, F_QUARTER_VI };
static const char *const filter_names[] = {"", "more", "02", "vnd", "vnd_short",
                                           "date", "dates", "quarter_vi"};

typedef struct node {
    enum node_kind kind;
    int line;
    enum filter filter;
    char *text; /* N_TEXT: the text; otherwise the placeholder name */
    size_t len;
    struct node *child; /* first node inside a block */
    struct node *next;
} node_t;

struct template {
    char *name;
    node_t *first;
};

static void nodes_free(node_t *n)
{
    while (n) {
        node_t *next = n->next;
        nodes_free(n->child);
        free(n->text);
        free(n);
        n = next;
    }
}

void template_destroy(template_t *t)
{
    if (!t)
        return;
    nodes_free(t->first);
    free(t->name);
    free(t);
}

/* Appends a node of kind holding a copy of s[0..len) at *tail; NULL when out of memory. */
static node_t *node_append(node_t ***tail, enum node_kind kind, int line, const char *s,
                           size_t len)
{
    node_t *n = calloc(1, sizeof *n);
    if (!n || !(n->text = strndup(s, len))) {
        free(n);
        return NULL;
    }
    n->kind = kind;
    n->line = line;
    n->len = len;
    **tail = n;
    *tail = &n->next;
    return n;
}

static int count_lines(const char *s, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

static bool is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

/* A placeholder name: letters, digits, '_', '-', '.' (at most TPL_MAX_DOTS), ".", "@n". */
static bool name_ok(const char *s, size_t len)
{
    int dots = 0;
    if (len == 0 || len > TPL_MAX_NAME)
        return false;
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '@' && s[1] == 'n'))
        return true;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.')
            dots++;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return dots <= TPL_MAX_DOTS && s[0] != '.' && s[len - 1] != '.';
}

int template_parse(const char *name, const char *text, size_t len, template_t **out,
                   char *errstr, size_t errstr_size)
{
    struct {
        node_t *open;
        node_t **tail;
    } st[TPL_MAX_DEPTH + 1];
    int depth = 0, line = 1, rc = 0;
    size_t pos = 0, seg = 0; /* seg: start of the text not yet in a node */
    template_t *t = calloc(1, sizeof *t);

    *out = NULL;
    if (!t || !(t->name = strdup(name ? name : "template"))) {
        snprintf(errstr, errstr_size, "out of memory parsing %s", name ? name : "template");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    st[0].open = NULL;
    st[0].tail = &t->first;
    for (;;) {
        const char *open = pos < len ? memmem(text + pos, len - pos, "{{", 2) : NULL;
        if (!open)
            break;
        size_t tag = (size_t)(open - text);
        int tag_line = line + count_lines(text + pos, tag - pos);
        const char *close = memmem(open + 2, len - tag - 2, "}}", 2);
        if (!close) {
            snprintf(errstr, errstr_size, "%s:%d: \"{{\" without \"}}\"", t->name, tag_line);
            rc = DB_ERR_INVALID;
            goto out;
        }
        size_t end = (size_t)(close - text) + 2, text_end = tag, next = end;
        const char *b = open + 2, *e = close;
        char sigil = 0;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        if (b < e && strchr("#^/!", *b))
            sigil = *b++;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;

        /* A block or comment tag alone on its line removes the whole line, so block
         * markers do not leave blank lines or indentation in the Markdown. */
        if (sigil) {
            size_t ls = tag, le = end;
            while (ls > 0 && text[ls - 1] != '\n')
                ls--;
            while (le < len && (text[le] == ' ' || text[le] == '\t'))
                le++;
            if (ls >= seg && is_blank(text + ls, tag - ls)) {
                if (le == len || text[le] == '\n') {
                    text_end = ls;
                    next = le == len ? len : le + 1;
                } else if (text[le] == '\r' && le + 1 < len && text[le + 1] == '\n') {
                    text_end = ls;
                    next = le + 2;
                }
            }
        }
        if (text_end > seg && !node_append(&st[depth].tail, N_TEXT, line, text + seg,
                                           text_end - seg))
            goto nomem;

        size_t nlen = (size_t)(e - b);
        const char *bar = sigil ? NULL : memchr(b, '|', nlen);
        if (bar)
            nlen = (size_t)(bar - b);
        while (nlen > 0 && (b[nlen - 1] == ' ' || b[nlen - 1] == '\t'))
            nlen--;
        if (sigil != '!' && !name_ok(b, nlen)) {
            snprintf(errstr, errstr_size, "%s:%d: malformed placeholder \"%.*s\"", t->name,
                     tag_line, (int)(end - tag), open);
            rc = DB_ERR_INVALID;
            goto out;
        }
        if (sigil == '#' || sigil == '^') {
            node_t *n;
            if (depth == TPL_MAX_DEPTH) {
                snprintf(errstr, errstr_size, "%s:%d: blocks nested deeper than %d", t->name,
                         tag_line, TPL_MAX_DEPTH);
                rc = DB_ERR_INVALID;
                goto out;
            }
            if (!(n = node_append(&st[depth].tail, sigil == '#' ? N_SECTION : N_INVERTED,
                                  tag_line, b, nlen)))
                goto nomem;
            depth++;
            st[depth].open = n;
            st[depth].tail = &n->child;
        } else if (sigil == '/') {
            if (depth == 0) {
                snprintf(errstr, errstr_size, "%s:%d: \"{{/%.*s}}\" closes no block", t->name,
                         tag_line, (int)nlen, b);
                rc = DB_ERR_INVALID;
                goto out;
            }
            node_t *o = st[depth].open;
            if (o->len != nlen || memcmp(o->text, b, nlen) != 0) {
                snprintf(errstr, errstr_size,
                         "%s:%d: \"{{/%.*s}}\" does not close \"{{%c%s}}\" opened at line %d",
                         t->name, tag_line, (int)nlen, b, o->kind == N_SECTION ? '#' : '^',
                         o->text, o->line);
                rc = DB_ERR_INVALID;
                goto out;
            }
            depth--;
        } else if (sigil == 0) {
            enum filter f = F_NONE;
            if (bar) {
                const char *fb = bar + 1, *fe = e;
                while (fb < fe && (*fb == ' ' || *fb == '\t'))
                    fb++;
                for (size_t i = 1; i < sizeof filter_names / sizeof filter_names[0]; i++)
                    if (strlen(filter_names[i]) == (size_t)(fe - fb) &&
                        memcmp(filter_names[i], fb, (size_t)(fe - fb)) == 0)
                        f = (enum filter)i;
                if (f == F_NONE) {
                    snprintf(errstr, errstr_size,
                             "%s:%d: unknown filter \"%.*s\" in \"%.*s\" (known: more, 02, vnd, "
                             "vnd_short, date, dates, quarter_vi)",
                             t->name, tag_line, (int)(fe - fb), fb, (int)(end - tag), open);
                    rc = DB_ERR_INVALID;
                    goto out;
                }
            }
            node_t *n = node_append(&st[depth].tail, N_VAR, tag_line, b, nlen);
            if (!n)
                goto nomem;
            n->filter = f;
        }
        line = tag_line + count_lines(text + tag, next - tag);
        pos = seg = next;
    }
    if (len > seg && !node_append(&st[depth].tail, N_TEXT, line, text + seg, len - seg))
        goto nomem;
    if (depth > 0) {
        node_t *o = st[depth].open;
        snprintf(errstr, errstr_size, "%s:%d: unclosed block \"{{%c%s}}\" (no \"{{/%s}}\")",
                 t->name, o->line, o->kind == N_SECTION ? '#' : '^', o->text, o->text);
        rc = DB_ERR_INVALID;
        goto out;
    }
    *out = t;
    t = NULL;
    goto out;
nomem:
    snprintf(errstr, errstr_size, "%s: out of memory", t->name);
    rc = DB_ERR_NOMEM;
out:
    template_destroy(t);
    return rc;
}

int template_load(const char *path, const char *display_name, template_t **out,
                  char *errstr, size_t errstr_size)
{
    int rc = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");

    *out = NULL;
    if (!f) {
        snprintf(errstr, errstr_size, "cannot open template %s: %s", path, strerror(errno));
        rc = DB_ERR_IO;
        goto out;
    }
    if (!(text = malloc(TPL_MAX_FILE + 1))) {
        snprintf(errstr, errstr_size, "out of memory reading template %s", path);
        rc = DB_ERR_NOMEM;
        goto out;
    }
    len = fread(text, 1, TPL_MAX_FILE + 1, f);
    if (ferror(f)) {
        snprintf(errstr, errstr_size, "cannot read template %s: %s", path, strerror(errno));
        rc = DB_ERR_IO;
    } else if (len > TPL_MAX_FILE) {
        snprintf(errstr, errstr_size, "template %s is larger than %u bytes", path,
                 TPL_MAX_FILE);
        rc = DB_ERR_INVALID;
    } else {
        rc = template_parse(display_name ? display_name : path, text, len, out, errstr,
                            errstr_size);
    }
out:
    if (f)
        fclose(f);
    free(text);
    return rc;
}

/* ---- rendering ---- */

typedef struct {
    const template_t *t;
    FILE *out;
    const json_t *stack[TPL_MAX_DEPTH + 1]; /* [0] is the model, then one per open block */
    size_t pos[TPL_MAX_DEPTH + 1];          /* 1-based position in a list, 0 if no list */
    int top;
    char *errstr;
    size_t errstr_size;
} render_t;

static int fail(render_t *r, const node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills errstr with "name:line: " and the formatted reason; returns DB_ERR_INVALID. */
static int fail(render_t *r, const node_t *n, const char *fmt, ...)
{
    va_list ap;
    int k = snprintf(r->errstr, r->errstr_size, "%s:%d: ", r->t->name, n->line);
    if (k >= 0 && (size_t)k < r->errstr_size) {
        va_start(ap, fmt);
        vsnprintf(r->errstr + k, r->errstr_size - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return DB_ERR_INVALID;
}

/* Looks name[0..len) up in obj: the key itself, at the root a figure id, else
 * "<prefix>.<rest>" where prefix names an object (figure ids contain dots). */
static const json_t *lookup(const json_t *obj, const char *name, size_t len, bool root)
{
    const json_t *v;
    if (!json_is_object(obj))
        return NULL;
    if ((v = json_object_getn(obj, name, len)))
        return v;
    if (root && (v = json_object_getn(json_object_get(obj, "figures"), name, len)))
        return v;
    for (size_t i = len; i-- > 1;) {
        if (name[i] != '.')
            continue;
        const json_t *p = lookup(obj, name, i, root);
        if (p && (v = lookup(p, name + i + 1, len - i - 1, false)))
            return v;
    }
    return NULL;
}

/* The value a name refers to from the innermost block outwards; NULL if none. */
static const json_t *resolve(const render_t *r, const node_t *n)
{
    if (n->len == 1 && n->text[0] == '.')
        return r->stack[r->top];
    for (int i = r->top; i >= 0; i--) {
        const json_t *v = lookup(r->stack[i], n->text, n->len, i == 0);
        if (v)
            return v;
    }
    return NULL;
}

static bool truthy(const json_t *v)
{
    if (json_is_null(v) || json_is_false(v))
        return false;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    return true;
}

void template_put_md_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r' || *s == '\t') {
            fputc(' ', out);
            continue;
        }
        if (strchr("\\`*_[]<>|&", *s))
            fputc('\\', out);
        fputc(*s, out);
    }
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "text";
    case JSON_INTEGER: return "a whole number";
    case JSON_REAL: return "a fractional number";
    case JSON_TRUE:
    case JSON_FALSE: return "true/false";
    default: return "null";
    }
}

static int emit_var(render_t *r, const node_t *n)
{
    const json_t *v = resolve(r, n), *num;
    char buf[VI_FMT_SIZE], err[256];
    int64_t step = 0;
    int rc = 0;

    if (n->len == 2 && memcmp(n->text, "@n", 2) == 0) {
        for (int i = r->top; i > 0; i--)
            if (r->pos[i]) {
                fprintf(r->out, "%zu", r->pos[i]);
                return 0;
            }
        return fail(r, n, "\"{{@n}}\" outside a list block");
    }
    if (!v)
        return fail(r, n, "unknown placeholder \"%s\"", n->text);
    if (json_is_null(v))
        return 0; /* an absent value (e.g. visitors of an event) prints nothing */
    num = v;
    /* A figure stands for its value; its round step serves the "more" filter. */
    if (json_is_object(v) && json_is_integer(json_object_get(v, "value"))) {
        num = json_object_get(v, "value");
        step = json_integer_value(json_object_get(v, "round"));
    }
    switch (n->filter) {
    case F_NONE:
        if (json_is_integer(num)) {
            fputs(vi_number(json_integer_value(num), buf, sizeof buf), r->out);
        } else if (json_is_string(v)) {
            template_put_md_text(r->out, json_string_value(v));
        } else if (json_is_array(v)) {
            size_t i;
            const json_t *el;
            json_array_foreach(v, i, el) {
                if (!json_is_string(el))
                    return fail(r, n, "\"{{%s}}\" is a list holding %s, not only text",
                                n->text, type_name(el));
                if (i)
                    fputs(", ", r->out);
                template_put_md_text(r->out, json_string_value(el));
            }
        } else {
            return fail(r, n, "\"{{%s}}\" is %s, which cannot be printed", n->text,
                        type_name(v));
        }
        break;
    case F_MORE:
    case F_02:
    case F_VND:
    case F_VND_SHORT:
        if (!json_is_integer(num))
            return fail(r, n, "\"{{%s|%s}}\" is %s; the filter needs a whole number", n->text,
                        filter_names[n->filter], type_name(num));
        if (n->filter == F_MORE)
            vi_number_more(json_integer_value(num), step, buf, sizeof buf);
        else if (n->filter == F_02)
            vi_number_2digit(json_integer_value(num), buf, sizeof buf);
        else if (n->filter == F_VND)
            vi_vnd(json_integer_value(num), buf, sizeof buf);
        else
            vi_vnd_short(json_integer_value(num), buf, sizeof buf);
        fputs(buf, r->out);
        break;
    case F_DATE:
    case F_QUARTER_VI:
        if (!json_is_string(v))
            return fail(r, n, "\"{{%s|%s}}\" is %s; the filter needs text", n->text,
                        filter_names[n->filter], type_name(v));
        rc = n->filter == F_DATE
                 ? vi_date(json_string_value(v), buf, sizeof buf, err, sizeof err)
                 : vi_quarter(json_string_value(v), buf, sizeof buf, err, sizeof err);
        if (rc)
            return fail(r, n, "\"{{%s|%s}}\": %s", n->text, filter_names[n->filter], err);
        fputs(buf, r->out);
        break;
    case F_DATES: {
        const json_t *s = json_object_get(v, "start_date"), *e = json_object_get(v, "end_date");
        if (!json_is_string(s) || !(json_is_string(e) || json_is_null(e) || !e))
            return fail(r, n, "\"{{%s|dates}}\" needs an item with start_date and end_date",
                        n->text);
        if (vi_date_range(json_string_value(s), json_string_value(e), buf, sizeof buf, err,
                          sizeof err))
            return fail(r, n, "\"{{%s|dates}}\": %s", n->text, err);
        fputs(buf, r->out);
        break;
    }
    }
    return 0;
}

static int render_nodes(render_t *r, const node_t *n);

static int render_block(render_t *r, const node_t *n)
{
    const json_t *v = resolve(r, n);
    int rc = 0;

    if (!v)
        return fail(r, n, "unknown placeholder \"%s\" in \"{{%c%s}}\"", n->text,
                    n->kind == N_SECTION ? '#' : '^', n->text);
    if (n->kind == N_INVERTED)
        return truthy(v) ? 0 : render_nodes(r, n->child);
    if (!truthy(v))
        return 0;
    r->top++;
    if (json_is_array(v)) {
        size_t i;
        const json_t *el;
        json_array_foreach(v, i, el) {
            r->stack[r->top] = el;
            r->pos[r->top] = i + 1;
            if ((rc = render_nodes(r, n->child)))
                break;
        }
    } else {
        r->stack[r->top] = v;
        r->pos[r->top] = 0;
        rc = render_nodes(r, n->child);
    }
    r->top--;
    return rc;
}

static int render_nodes(render_t *r, const node_t *n)
{
    int rc = 0;
    for (; n && rc == 0; n = n->next) {
        if (n->kind == N_TEXT)
            fwrite(n->text, 1, n->len, r->out);
        else if (n->kind == N_VAR)
            rc = emit_var(r, n);
        else
            rc = render_block(r, n);
    }
    return rc;
}

int template_render(const template_t *t, const json_t *model, FILE *out,
                    char *errstr, size_t errstr_size)
{
    render_t r = {.t = t, .out = out, .top = 0, .errstr = errstr, .errstr_size = errstr_size};
    int rc;

    r.stack[0] = model;
    rc = render_nodes(&r, t->first);
    if (rc == 0 && ferror(out)) {
        snprintf(errstr, errstr_size, "%s: writing the output failed", t->name);
        rc = DB_ERR_IO;
    }
    return rc;
}

int template_dir_find(const char *opt_dir, char *buf, size_t size,
                      char *errstr, size_t errstr_size)
{
    const char *env = getenv("DOCBUS_TEMPLATES"), *how;
    char exe[PATH_MAX], index[PATH_MAX + 16];
    int rc = 0;

    if (opt_dir) {
        how = "--template-dir";
        snprintf(buf, size, "%s", opt_dir);
    } else if (env && *env) {
        how = "DOCBUS_TEMPLATES";
        snprintf(buf, size, "%s", env);
    } else {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        char *slash;
        how = "the executable's location";
        if (n < 0) {
            snprintf(errstr, errstr_size, "cannot find the templates: readlink /proc/self/exe: %s",
                     strerror(errno));
            rc = DB_ERR_NOT_FOUND;
            goto out;
        }
        exe[n] = '\0';
        if ((slash = strrchr(exe, '/')))
            *slash = '\0';
        snprintf(buf, size, "%s/../schemas/templates", exe);
    }
    snprintf(index, sizeof index, "%s/index", buf);
    if (access(index, R_OK) != 0) {
        snprintf(errstr, errstr_size, "no template index %s (directory from %s): %s", index,
                 how, strerror(errno));
        rc = DB_ERR_NOT_FOUND;
    }
out:
    return rc;
}
