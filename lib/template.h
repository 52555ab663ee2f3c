/* template.h - the report's placeholder engine: {{name|filter}}, {{#list}}..{{/list}}. */
#ifndef DOCBUS_TEMPLATE_H
#define DOCBUS_TEMPLATE_H

#include <stdio.h>
#include <stddef.h>
#include <jansson.h>

/*
 * Syntax (Markdown text with tags; a block or comment tag alone on its line takes the
 * whole line with it):
 *   {{name}}              a value of the report model, printed for Markdown:
 *                         a figure id ("docs.exchanged") prints its value,
 *                         "figure.id.field" a field of it ("docs.exchanged.quarter_value"),
 *                         other names are looked up in the current block item, then
 *                         outwards up to the model root ("quarter", "quarter_vi",
 *                         "top_units.sent"); "." is the current item, "@n" its
 *                         1-based position in the innermost list.
 *   {{name|filter}}       filters: more ("hơn 2.779.000", the figure's round step),
 *                         02 ("06"), vnd ("189.000.000 đồng"), vnd_short ("4,5 tỷ đồng"),
 *                         date ("13/03/2018"), dates (an item's start_date..end_date,
 *                         "13–19/02/2018"), quarter_vi ("Quý II/2018").
 *   {{#name}}..{{/name}}  repeated for each element of a list, once for any other
 *                         value; skipped for null, false, "" and [].
 *   {{^name}}..{{/name}}  shown only when {{#name}} would be skipped.
 *   {{! comment }}        nothing.
 * null prints nothing, whatever the filter.
 * Strings are escaped for Markdown (\ ` * _ [ ] < > | & and line breaks).
 */

typedef struct template template_t;

/* Parses text (len bytes) into a new template; name is used in messages
 * ("templates/a3-6-2-checks.md:7: ..."). Returns 0 and *out (free with
 * template_destroy), or DB_ERR_INVALID (unknown filter, unclosed block or tag,
 * mismatched close) / DB_ERR_NOMEM with "name:line: reason" in errstr. */
int template_parse(const char *name, const char *text, size_t len, template_t **out,
                   char *errstr, size_t errstr_size);

/* Reads the file at path (at most 1 MiB) and parses it, naming it display_name (path
 * when NULL) in messages. Returns 0 and *out, DB_ERR_IO if it cannot be read, or as
 * template_parse. */
int template_load(const char *path, const char *display_name, template_t **out,
                  char *errstr, size_t errstr_size);

/* Frees t; NULL is fine. */
void template_destroy(template_t *t);

/* Writes t filled from model (the report model object) to out. Returns 0, or
 * DB_ERR_INVALID with "name:line: unknown placeholder \"x\"" (or a value the filter
 * cannot format) in errstr, DB_ERR_IO if writing fails. On error, out may hold part
 * of the text: render into a memory stream when that matters. */
int template_render(const template_t *t, const json_t *model, FILE *out,
                    char *errstr, size_t errstr_size);

/* Writes s to out escaped so Markdown shows it as literal text on one line (the
 * escaping placeholders get). */
void template_put_md_text(FILE *out, const char *s);

/* Finds the template directory: opt_dir when not NULL, else $DOCBUS_TEMPLATES when
 * set and not empty, else <directory of the running executable>/../schemas/templates.
 * The chosen directory must contain an "index" file; the next candidate is never
 * tried instead. Returns 0 with the path in buf, or DB_ERR_NOT_FOUND naming the
 * directory and how it was chosen. */
int template_dir_find(const char *opt_dir, char *buf, size_t size,
                      char *errstr, size_t errstr_size);

#endif
