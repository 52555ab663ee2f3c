/* render.c - the quarterly report from the report model: Markdown, HTML, JSON. */
#include "render.h"

#include <cmark.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "svg_chart.h"
#include "template.h"
#include "vi_format.h"

#define RENDER_MAX_SECTIONS 64
#define RENDER_MAX_CHARTS 8
#define RENDER_MAX_BARS 40
#define RENDER_MAX_ID 40

typedef struct {
    char id[RENDER_MAX_ID + 1];
    int line; /* in the index, for chart errors */
    template_t *tpl;
    char *charts[RENDER_MAX_CHARTS];
    int ncharts;
} section_t;

typedef struct {
    char index_name[PATH_MAX + 16]; /* "templates/index", as messages name it */
    section_t sec[RENDER_MAX_SECTIONS];
    int n;
} report_t;

static void report_free(report_t *rep)
{
    if (!rep)
        return;
    for (int i = 0; i < rep->n; i++) {
        template_destroy(rep->sec[i].tpl);
        for (int c = 0; c < rep->sec[i].ncharts; c++)
            free(rep->sec[i].charts[c]);
    }
    free(rep);
}

static int id_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > RENDER_MAX_ID)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

static int chart_spec_ok(const char *s)
{
    return (strncmp(s, "series:", 7) == 0 && s[7]) || (strncmp(s, "split:", 6) == 0 && s[6]) ||
           strcmp(s, "top:sent") == 0 || strcmp(s, "top:received") == 0;
}

/* Reads dir/index and every template it names; *rep is filled as far as it got. */
static int load_index(report_t *rep, const char *dir, char *errstr, size_t errstr_size)
{
    char base[PATH_MAX], path[PATH_MAX * 2], disp[PATH_MAX * 2], *line = NULL, *save;
    size_t cap = 0, blen;
    const char *slash;
    int rc = 0, ln = 0;
    FILE *f;

    /* Messages name files as "<last directory>/<file>", e.g. templates/a3-3-press.md. */
    snprintf(base, sizeof base, "%s", dir);
    blen = strlen(base);
    while (blen > 1 && base[blen - 1] == '/')
        base[--blen] = '\0';
    slash = strrchr(base, '/');
    if (slash && slash[1])
        memmove(base, slash + 1, strlen(slash + 1) + 1);
    snprintf(rep->index_name, sizeof rep->index_name, "%s/index", base);
    snprintf(path, sizeof path, "%s/index", dir);
    if (!(f = fopen(path, "r"))) {
        snprintf(errstr, errstr_size, "cannot open the template index %s: %s", path,
                 strerror(errno));
        return DB_ERR_IO;
    }
    while (getline(&line, &cap, f) != -1) {
        char *tok = strtok_r(line, " \t\r\n", &save), *file;
        section_t *s;
        ln++;
        if (!tok || tok[0] == '#')
            continue;
        if (rep->n == RENDER_MAX_SECTIONS) {
            snprintf(errstr, errstr_size, "%s:%d: more than %d sections", rep->index_name, ln,
                     RENDER_MAX_SECTIONS);
            rc = DB_ERR_INVALID;
            goto out;
        }
        if (!id_ok(tok)) {
            snprintf(errstr, errstr_size,
                     "%s:%d: malformed section id \"%s\" (a-z, 0-9 and '-', at most %d)",
                     rep->index_name, ln, tok, RENDER_MAX_ID);
            rc = DB_ERR_INVALID;
            goto out;
        }
        for (int i = 0; i < rep->n; i++)
            if (strcmp(rep->sec[i].id, tok) == 0) {
                snprintf(errstr, errstr_size, "%s:%d: section \"%s\" already on line %d",
                         rep->index_name, ln, tok, rep->sec[i].line);
                rc = DB_ERR_INVALID;
                goto out;
            }
        s = &rep->sec[rep->n++];
        snprintf(s->id, sizeof s->id, "%s", tok);
        s->line = ln;
        file = strtok_r(NULL, " \t\r\n", &save);
        if (!file || strchr(file, '/')) {
            snprintf(errstr, errstr_size,
                     "%s:%d: section \"%s\" needs a template file name in the same directory",
                     rep->index_name, ln, s->id);
            rc = DB_ERR_INVALID;
            goto out;
        }
        snprintf(path, sizeof path, "%s/%s", dir, file);
        snprintf(disp, sizeof disp, "%s/%s", base, file);
        if ((rc = template_load(path, disp, &s->tpl, errstr, errstr_size)))
            goto out;
        while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
            if (!chart_spec_ok(tok) || s->ncharts == RENDER_MAX_CHARTS) {
                snprintf(errstr, errstr_size,
                         s->ncharts == RENDER_MAX_CHARTS
                             ? "%s:%d: chart \"%s\": more than 8 charts in one section"
                             : "%s:%d: unknown chart \"%s\" (expected series:FIGURE, "
                               "split:FIGURE, top:sent or top:received)",
                         rep->index_name, ln, tok);
                rc = DB_ERR_INVALID;
                goto out;
            }
            if (!(s->charts[s->ncharts] = strdup(tok))) {
                rc = DB_ERR_NOMEM;
                snprintf(errstr, errstr_size, "out of memory reading %s", rep->index_name);
                goto out;
            }
            s->ncharts++;
        }
    }
    if (ferror(f)) {
        snprintf(errstr, errstr_size, "cannot read %s: %s", path, strerror(errno));
        rc = DB_ERR_IO;
    } else if (rep->n == 0) {
        snprintf(errstr, errstr_size, "%s: no sections", rep->index_name);
        rc = DB_ERR_INVALID;
    }
out:
    free(line);
    fclose(f);
    return rc;
}

/* Loads the report's sections from a template directory or a single template file. */
static int report_load(const char *templates, report_t **out, char *errstr, size_t errstr_size)
{
    struct stat st;
    int rc = 0;
    report_t *rep = calloc(1, sizeof *rep);

    *out = NULL;
    if (!rep) {
        snprintf(errstr, errstr_size, "out of memory loading the templates");
        return DB_ERR_NOMEM;
    }
    if (!templates || stat(templates, &st) != 0) {
        snprintf(errstr, errstr_size, "cannot use templates %s: %s",
                 templates ? templates : "(none)", templates ? strerror(errno) : "no path");
        rc = DB_ERR_IO;
    } else if (S_ISDIR(st.st_mode)) {
        rc = load_index(rep, templates, errstr, errstr_size);
    } else {
        section_t *s = &rep->sec[rep->n++];
        snprintf(s->id, sizeof s->id, "report");
        snprintf(rep->index_name, sizeof rep->index_name, "%s", templates);
        rc = template_load(templates, NULL, &s->tpl, errstr, errstr_size);
    }
    if (rc)
        report_free(rep);
    else
        *out = rep;
    return rc;
}

/* Renders one section to a new NUL-terminated string without trailing blank space. */
static int section_markdown(const section_t *s, const json_t *model, char **md, size_t *len,
                            char *errstr, size_t errstr_size)
{
    FILE *ms = open_memstream(md, len);
    int rc;

    if (!ms) {
        snprintf(errstr, errstr_size, "out of memory rendering section %s", s->id);
        return DB_ERR_NOMEM;
    }
    rc = template_render(s->tpl, model, ms, errstr, errstr_size);
    if (fclose(ms) != 0 && rc == 0) {
        snprintf(errstr, errstr_size, "out of memory rendering section %s", s->id);
        rc = DB_ERR_NOMEM;
    }
    while (rc == 0 && *len > 0 && strchr(" \t\r\n", (*md)[*len - 1]))
        (*md)[--*len] = '\0';
    if (rc) {
        free(*md);
        *md = NULL;
    }
    return rc;
}

/* Copies the finished report to out, or reports why it could not. */
static int flush_to(FILE *out, const char *buf, size_t len, char *errstr, size_t errstr_size)
{
    if (fwrite(buf, 1, len, out) != len || fflush(out) != 0) {
        snprintf(errstr, errstr_size, "writing the report failed: %s", strerror(errno));
        return DB_ERR_IO;
    }
    return 0;
}

/* The string value of obj[key], or fallback when it is missing or not a string. */
static const char *str_or(const json_t *obj, const char *key, const char *fallback)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : fallback;
}

static const char *model_warning(const json_t *model)
{
    const char *w = json_string_value(json_object_get(model, "warning"));
    return w && *w ? w : NULL;
}

int render_markdown(const json_t *model, const char *templates, FILE *out,
                    char *errstr, size_t errstr_size)
{
    report_t *rep = NULL;
    char *buf = NULL, *md = NULL;
    size_t len = 0, mdlen;
    FILE *ms = NULL;
    int rc, any = 0;

    if ((rc = report_load(templates, &rep, errstr, errstr_size)))
        goto out;
    if (!(ms = open_memstream(&buf, &len))) {
        snprintf(errstr, errstr_size, "out of memory rendering the report");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    if (model_warning(model)) {
        fputs("> **Cảnh báo:** ", ms);
        template_put_md_text(ms, model_warning(model));
        any = 1;
    }
    for (int i = 0; i < rep->n; i++) {
        if ((rc = section_markdown(&rep->sec[i], model, &md, &mdlen, errstr, errstr_size)))
            goto out;
        if (mdlen) {
            fputs(any ? "\n\n" : "", ms);
            fwrite(md, 1, mdlen, ms);
            any = 1;
        }
        free(md);
        md = NULL;
    }
    fputc('\n', ms);
    if (fclose(ms) != 0) {
        ms = NULL;
        snprintf(errstr, errstr_size, "out of memory rendering the report");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    ms = NULL;
    rc = flush_to(out, buf, len, errstr, errstr_size);
out:
    if (ms)
        fclose(ms);
    free(buf);
    report_free(rep);
    return rc;
}

/* ---- HTML ---- */

static const char html_css[] =
    "body{margin:0;background:#eef0f3;color:#1d1d1f;"
    "font:16px/1.55 system-ui,\"Segoe UI\",Roboto,\"Noto Sans\",\"Helvetica Neue\",Arial,"
    "sans-serif}\n"
    "main{max-width:920px;margin:0 auto;padding:28px 44px 56px;background:#fff}\n"
    "h1{text-align:center;font-size:1.9em;margin:.3em 0 0}\n"
    "h2{font-size:1.35em;margin:1.5em 0 .5em}\n"
    "h1+h2{text-align:center;margin-top:.2em}\n"
    "h3{font-size:1.2em;margin:1.4em 0 .4em}\n"
    "h4,h5,h6{font-size:1.05em;margin:1.2em 0 .3em}\n"
    "h6{font-style:italic}\n"
    "figure.chart{margin:1em 0;padding:12px 16px;border:1px solid #d8dee6;"
    "border-radius:6px;overflow-x:auto}\n"
    "figure.chart svg{max-width:100%;height:auto;display:block}\n"
    "figcaption{font-size:.9em;color:#4a4f57;margin-top:6px}\n"
    ".warning{border:2px solid #c26a00;background:#fff3df;padding:12px 16px;"
    "margin:0 0 20px;border-radius:6px}\n"
    "@media print{body{background:#fff}main{padding:0}figure.chart{break-inside:avoid}}\n";

/* Writes "<prefix><name with dots as dashes><suffix>" into buf. */
static void chart_id(char *buf, size_t size, const char *name, const char *suffix)
{
    size_t o = (size_t)snprintf(buf, size, "chart-");
    for (; *name && o + 1 < size; name++)
        buf[o++] = *name == '.' ? '-' : *name;
    buf[o < size ? o : size - 1] = '\0';
    snprintf(buf + strlen(buf), size - strlen(buf), "%s", suffix);
}

/* Writes the <figure> of one chart spec of section s. */
static int chart_write(FILE *ms, const json_t *model, const report_t *rep, const section_t *s,
                       const char *spec, char *errstr, size_t errstr_size)
{
    svg_bar_t bars[RENDER_MAX_BARS];
    char labels[RENDER_MAX_BARS][VI_FMT_SIZE], id[128], title[512], err[128];
    const json_t *figures = json_object_get(model, "figures"), *fig, *el;
    svg_layout_t layout = SVG_ROWS;
    size_t n = 0, i;
    const char *name = strchr(spec, ':') + 1, *why = NULL;
    int rc = 0;

    if (strncmp(spec, "series:", 7) == 0) {
        const json_t *series;
        const char *quarter = json_string_value(json_object_get(model, "quarter"));
        fig = json_object_get(figures, name);
        series = json_object_get(fig, "series");
        if (!json_is_object(fig) || !json_is_array(series)) {
            why = fig ? "the figure has no \"series\" list" : "no such figure in the model";
            goto bad;
        }
        layout = SVG_COLUMNS;
        /* The most recent quarters when the series is longer than a chart holds. */
        i = json_array_size(series) > RENDER_MAX_BARS ? json_array_size(series) - RENDER_MAX_BARS
                                                       : 0;
        for (; i < json_array_size(series); i++, n++) {
            const char *q;
            el = json_array_get(series, i);
            q = json_string_value(json_object_get(el, "quarter"));
            if (!q || !json_is_integer(json_object_get(el, "value"))) {
                why = "a series entry lacks \"quarter\" or a whole-number \"value\"";
                goto bad;
            }
            if (vi_quarter(q, labels[n], sizeof labels[n], err, sizeof err))
                snprintf(labels[n], sizeof labels[n], "%s", q);
            bars[n].label = labels[n];
            bars[n].value = json_integer_value(json_object_get(el, "value"));
            bars[n].emphasis = quarter && strcmp(q, quarter) == 0;
        }
        chart_id(id, sizeof id, name, "");
        snprintf(title, sizeof title, "%s theo quý%s", str_or(fig, "title", name),
                 strcmp(str_or(fig, "window", ""), "cumulative") ? ""
                                                                 : " (lũy kế đến cuối quý)");
    } else if (strncmp(spec, "split:", 6) == 0) {
        size_t plen = strlen(name);
        const char *key;
        json_t *part;
        fig = json_object_get(figures, name);
        if (!json_is_object(fig)) {
            why = "no such figure in the model";
            goto bad;
        }
        /* The parts are the figures one level below: "<name>.<part>". */
        json_object_foreach((json_t *)figures, key, part) {
            if (strncmp(key, name, plen) != 0 || key[plen] != '.' || strchr(key + plen + 1, '.'))
                continue;
            if (n == RENDER_MAX_BARS || !json_is_integer(json_object_get(part, "value"))) {
                why = n == RENDER_MAX_BARS ? "too many parts" : "a part has no whole-number value";
                goto bad;
            }
            bars[n].label = str_or(part, "title", key + plen + 1);
            bars[n].value = json_integer_value(json_object_get(part, "value"));
            bars[n++].emphasis = 0;
        }
        if (n == 0) {
            why = "the model has no parts \"<figure>.<part>\" of it";
            goto bad;
        }
        chart_id(id, sizeof id, name, "-split");
        snprintf(title, sizeof title, "%s theo lĩnh vực", str_or(fig, "title", name));
    } else {
        const json_t *list = json_object_get(json_object_get(model, "top_units"), name);
        if (!json_is_array(list)) {
            why = "the model has no list top_units.sent / top_units.received";
            goto bad;
        }
        json_array_foreach(list, i, el) {
            if (n == RENDER_MAX_BARS)
                break;
            if (!json_is_integer(json_object_get(el, "value"))) {
                why = "a unit has no whole-number value";
                goto bad;
            }
            bars[n].label = str_or(el, "name", str_or(el, "unit", "?"));
            bars[n].value = json_integer_value(json_object_get(el, "value"));
            bars[n++].emphasis = 0;
        }
        snprintf(id, sizeof id, "chart-top-units-%s", name);
        snprintf(title, sizeof title, "Đơn vị %s nhiều văn bản nhất trong quý",
                 strcmp(name, "sent") == 0 ? "gửi" : "nhận");
    }
    fprintf(ms, "<figure id=\"%s\" class=\"chart\">\n", id);
    if ((rc = svg_bar_chart(ms, layout, title, bars, n, errstr, errstr_size)))
        goto out;
    fputs("\n<figcaption>", ms);
    svg_put_escaped(ms, title);
    fputs("</figcaption>\n</figure>\n", ms);
    goto out;
bad:
    snprintf(errstr, errstr_size, "%s:%d: chart \"%s\" of section %s: %s", rep->index_name,
             s->line, spec, s->id, why);
    rc = DB_ERR_INVALID;
out:
    return rc;
}

int render_html(const json_t *model, const char *templates, FILE *out,
                char *errstr, size_t errstr_size)
{
    report_t *rep = NULL;
    char *buf = NULL, *md = NULL, *html = NULL;
    size_t len = 0, mdlen;
    const char *qvi = json_string_value(json_object_get(model, "quarter_vi"));
    FILE *ms = NULL;
    int rc;

    if ((rc = report_load(templates, &rep, errstr, errstr_size)))
        goto out;
    if (!(ms = open_memstream(&buf, &len))) {
        snprintf(errstr, errstr_size, "out of memory rendering the report");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    /* Self-contained on purpose: the policy forbids any fetch, so a report opened from
     * a mail attachment or an archive never reaches the network. */
    fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Báo cáo ", ms);
    svg_put_escaped(ms, qvi ? qvi : "");
    fprintf(ms, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main id=\"report\">\n",
            html_css);
    if (model_warning(model)) {
        fputs("<div id=\"report-warning\" class=\"warning\" role=\"alert\">"
              "<strong>Cảnh báo:</strong> ", ms);
        svg_put_escaped(ms, model_warning(model));
        fputs("</div>\n", ms);
    }
    for (int i = 0; i < rep->n; i++) {
        const section_t *s = &rep->sec[i];
        if ((rc = section_markdown(s, model, &md, &mdlen, errstr, errstr_size)))
            goto out;
        /* cmark 0.30 is safe by default (raw HTML and javascript: links dropped);
         * CMARK_OPT_SAFE says so explicitly for older versions. */
        if (!(html = cmark_markdown_to_html(md, mdlen, CMARK_OPT_DEFAULT | CMARK_OPT_SAFE))) {
            snprintf(errstr, errstr_size, "out of memory converting section %s", s->id);
            rc = DB_ERR_NOMEM;
            goto out;
        }
        fprintf(ms, "<section id=\"sec-%s\">\n%s", s->id, html);
        free(html);
        html = NULL;
        free(md);
        md = NULL;
        for (int c = 0; c < s->ncharts; c++)
            if ((rc = chart_write(ms, model, rep, s, s->charts[c], errstr, errstr_size)))
                goto out;
        fputs("</section>\n", ms);
    }
    fputs("</main>\n</body>\n</html>\n", ms);
    if (fclose(ms) != 0) {
        ms = NULL;
        snprintf(errstr, errstr_size, "out of memory rendering the report");
        rc = DB_ERR_NOMEM;
        goto out;
    }
    ms = NULL;
    rc = flush_to(out, buf, len, errstr, errstr_size);
out:
    if (ms)
        fclose(ms);
    free(html);
    free(md);
    free(buf);
    report_free(rep);
    return rc;
}

int render_json(const json_t *model, FILE *out, char *errstr, size_t errstr_size)
{
    /* jansson keeps insertion order and, without JSON_ENSURE_ASCII, writes UTF-8. */
    if (json_dumpf(model, out, JSON_INDENT(2)) != 0 || fputc('\n', out) == EOF ||
        fflush(out) != 0) {
        snprintf(errstr, errstr_size, "writing the report model failed: %s", strerror(errno));
        return DB_ERR_IO;
    }
    return 0;
}
