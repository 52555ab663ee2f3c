/* svg_chart.h - self-contained inline SVG bar charts (no scripts, fonts or links). */
#ifndef DOCBUS_SVG_CHART_H
#define DOCBUS_SVG_CHART_H

#include <stdint.h>
#include <stdio.h>

/* One bar: its label (UTF-8, escaped here), its value, and whether to highlight it
 * (the current quarter among past ones). */
typedef struct {
    const char *label;
    int64_t value;
    int emphasis;
} svg_bar_t;

typedef enum {
    SVG_COLUMNS, /* vertical bars, labels underneath: a few quarters side by side */
    SVG_ROWS     /* horizontal bars, labels on the left: long names, ranked lists */
} svg_layout_t;

/* Writes one <svg role="img"> element drawing bars (n may be 0: the chart then says
 * there is no data) with title as its accessible name, values in Vietnamese notation.
 * Negative values draw no bar. Coordinates are integers, so the output does not
 * depend on the locale. Returns 0, or DB_ERR_IO if writing to out failed. */
int svg_bar_chart(FILE *out, svg_layout_t layout, const char *title, const svg_bar_t *bars,
                  size_t n, char *errstr, size_t errstr_size);

/* Writes s escaped for XML and HTML text and attribute values (& < > " '). */
void svg_put_escaped(FILE *out, const char *s);

#endif
