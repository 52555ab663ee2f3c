/* render.h - the quarterly report from the report model: Markdown, HTML, JSON. */
#ifndef DOCBUS_RENDER_H
#define DOCBUS_RENDER_H

#include <stdio.h>
#include <stddef.h>
#include <jansson.h>

/*
 * model is the report model object ({"quarter", "quarter_vi", "figures", "top_units",
 * "tasks", "highlights", "has_data", optional "warning"}). templates is either a
 * directory holding an "index" file (sections in order, their template files and
 * charts; see schemas/templates/index) or one template file that is the whole report.
 * A "warning" string in the model is shown at the top of Markdown and HTML.
 * Nothing is written to out unless the whole report rendered; errors name the
 * template file and line.
 */

/* Writes the report as Markdown. Returns 0, DB_ERR_INVALID (template or index error,
 * figure missing from the model), DB_ERR_IO (unreadable template, write failure) or
 * DB_ERR_NOMEM, with the reason in errstr. */
int render_markdown(const json_t *model, const char *templates, FILE *out,
                    char *errstr, size_t errstr_size);

/* Writes the report as one self-contained HTML page (lang="vi", UTF-8, inline CSS, a
 * Content-Security-Policy forbidding every fetch): each section's Markdown converted
 * by cmark in safe mode inside <section id="sec-<id>">, followed by the section's
 * charts as inline SVG in <figure id="chart-...">. A single template file gives one
 * section "sec-report" and no charts. Errors as render_markdown. */
int render_html(const json_t *model, const char *templates, FILE *out,
                char *errstr, size_t errstr_size);

/* Writes the model itself as indented UTF-8 JSON and a newline. Returns 0 or
 * DB_ERR_IO. */
int render_json(const json_t *model, FILE *out, char *errstr, size_t errstr_size);

#endif
