/* svg_chart.c - self-contained inline SVG bar charts (no scripts, fonts or links). */
#include "svg_chart.h"

#include <string.h>

#include "error.h"
#include "vi_format.h"

#define CHART_WIDTH 640
#define COL_PLOT_TOP 28      /* room for the value labels above the tallest column */
#define COL_PLOT_HEIGHT 180
#define COL_LABEL_ROOM 36
#define ROW_HEIGHT 26
#define ROW_LABEL_WIDTH 300
#define ROW_VALUE_ROOM 96
#define ROW_LABEL_CHARS 44   /* longer labels are cut with an ellipsis */

#define COLOR_BAR "#9bbbd9"
#define COLOR_EMPHASIS "#1f5f99"
#define COLOR_AXIS "#555555"

void svg_put_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* Writes at most max UTF-8 characters of s, escaped, then "…" if s was longer. */
static void put_label(FILE *out, const char *s, size_t max)
{
    char buf[ROW_LABEL_CHARS * 4 + 1];
    size_t chars = 0, i = 0;

    if (max > ROW_LABEL_CHARS)
        max = ROW_LABEL_CHARS;
    for (; s[i] && chars < max; chars++) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80) /* continuation bytes */
            i++;
    }
    memcpy(buf, s, i);
    buf[i] = '\0';
    svg_put_escaped(out, buf);
    if (s[i])
        fputs("…", out);
}

static int64_t max_value(const svg_bar_t *bars, size_t n)
{
    int64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (bars[i].value > max)
            max = bars[i].value;
    return max;
}

/* Length in pixels of a bar for value on a scale where max fills span. */
static int scaled(int64_t value, int64_t max, int span)
{
    if (value <= 0 || max <= 0)
        return 0;
    /* Long double keeps the product exact enough for any int64 value. */
    int px = (int)((long double)value * span / max + 0.5L);
    return px < 1 ? 1 : px;
}

static void columns(FILE *out, const svg_bar_t *bars, size_t n, int64_t max)
{
    int slot = (CHART_WIDTH - 40) / (int)n, width = slot * 3 / 5;
    int base = COL_PLOT_TOP + COL_PLOT_HEIGHT;
    char num[VI_FMT_SIZE];

    for (size_t i = 0; i < n; i++) {
        int h = scaled(bars[i].value, max, COL_PLOT_HEIGHT);
        int x = 20 + (int)i * slot + (slot - width) / 2, mid = 20 + (int)i * slot + slot / 2;
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>", x,
                base - h, width, h, bars[i].emphasis ? COLOR_EMPHASIS : COLOR_BAR);
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", mid,
                base - h - 6, vi_number(bars[i].value, num, sizeof num));
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\"%s>", mid, base + 22,
                bars[i].emphasis ? " font-weight=\"bold\"" : "");
        put_label(out, bars[i].label ? bars[i].label : "", ROW_LABEL_CHARS);
        fputs("</text>\n", out);
    }
    fprintf(out, "<line x1=\"20\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/>", base,
            CHART_WIDTH - 20, base, COLOR_AXIS);
}

static void rows(FILE *out, const svg_bar_t *bars, size_t n, int64_t max)
{
    int span = CHART_WIDTH - ROW_LABEL_WIDTH - ROW_VALUE_ROOM;
    char num[VI_FMT_SIZE];

    for (size_t i = 0; i < n; i++) {
        int w = scaled(bars[i].value, max, span), y = 10 + (int)i * ROW_HEIGHT;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", ROW_LABEL_WIDTH - 8,
                y + 17);
        put_label(out, bars[i].label ? bars[i].label : "", ROW_LABEL_CHARS);
        fprintf(out, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>",
                ROW_LABEL_WIDTH, y + 3, w, ROW_HEIGHT - 6,
                bars[i].emphasis ? COLOR_EMPHASIS : COLOR_BAR);
        fprintf(out, "<text x=\"%d\" y=\"%d\">%s</text>\n", ROW_LABEL_WIDTH + w + 6, y + 17,
                vi_number(bars[i].value, num, sizeof num));
    }
    fprintf(out, "<line x1=\"%d\" y1=\"6\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/>",
            ROW_LABEL_WIDTH, ROW_LABEL_WIDTH, 14 + (int)n * ROW_HEIGHT, COLOR_AXIS);
}

int svg_bar_chart(FILE *out, svg_layout_t layout, const char *title, const svg_bar_t *bars,
                  size_t n, char *errstr, size_t errstr_size)
{
    int height = n == 0 ? 60
                 : layout == SVG_COLUMNS ? COL_PLOT_TOP + COL_PLOT_HEIGHT + COL_LABEL_ROOM
                                         : 20 + (int)n * ROW_HEIGHT;
    int rc = 0;

    fprintf(out, "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
                 "font-family=\"sans-serif\" font-size=\"13\" fill=\"#222222\"><title>",
            CHART_WIDTH, height, CHART_WIDTH, height);
    svg_put_escaped(out, title ? title : "");
    fputs("</title>\n", out);
    if (n == 0)
        fputs("<text x=\"20\" y=\"35\">Chưa có số liệu</text>", out);
    else if (layout == SVG_COLUMNS)
        columns(out, bars, n, max_value(bars, n));
    else
        rows(out, bars, n, max_value(bars, n));
    fputs("</svg>", out);
    if (ferror(out)) {
        snprintf(errstr, errstr_size, "writing the chart \"%s\" failed", title ? title : "");
        rc = DB_ERR_IO;
    }
    return rc;
}
