/* report_render.c - test helper: renders a saved report model with the report
 * templates, for tests/it/report_browser.sh (no Kafka, no docbus command needed).
 *
 *   report_render [md|html|json] [MODEL.json] [TEMPLATES] [OUT]
 *
 * Defaults: html, tests/golden/report-model-2018q1.json, schemas/templates,
 * build/report-2018q1.<format>, all relative to the repository root (run it from
 * there). Exit 0 rendered, 1 on any error (reason on stderr). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "render.h"

int main(int argc, char **argv)
{
    const char *format = argc > 1 ? argv[1] : "html";
    const char *model_path = argc > 2 ? argv[2] : "tests/golden/report-model-2018q1.json";
    const char *templates = argc > 3 ? argv[3] : "schemas/templates";
    char out_path[256], err[512] = "";
    json_error_t jerr;
    json_t *model = NULL;
    FILE *out = NULL;
    int rc = 1;

    if (argc > 4)
        snprintf(out_path, sizeof out_path, "%s", argv[4]);
    else
        snprintf(out_path, sizeof out_path, "build/report-2018q1.%s", format);
    if (!(model = json_load_file(model_path, 0, &jerr))) {
        fprintf(stderr, "report_render: %s:%d: %s\n", model_path, jerr.line, jerr.text);
        goto out;
    }
    if (!(out = fopen(out_path, "w"))) {
        perror(out_path);
        goto out;
    }
    if (strcmp(format, "md") == 0)
        rc = render_markdown(model, templates, out, err, sizeof err);
    else if (strcmp(format, "html") == 0)
        rc = render_html(model, templates, out, err, sizeof err);
    else if (strcmp(format, "json") == 0)
        rc = render_json(model, out, err, sizeof err);
    else
        snprintf(err, sizeof err, "unknown format \"%s\" (md, html or json)", format);
    if (rc)
        fprintf(stderr, "report_render: %s\n", err);
    else
        fprintf(stderr, "report_render: wrote %s\n", out_path);
out:
    if (out && fclose(out) != 0)
        rc = 1;
    json_decref(model);
    return rc ? 1 : 0;
}
