/* test_render.c - the report renderers: golden Markdown byte for byte, self-contained
 * HTML with every section and chart id, warnings, escaping, template/index errors.
 * Also the HTML driver of tests/it/report_browser.sh:
 *   test_render --html OUT   renders the golden model with schemas/templates to OUT.
 * Paths are relative to $DOCBUS_ROOT (default: the current directory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "render.h"

enum fmt { MD, HTML, JSON };

static char root[1024], templates[1100], golden_model[1100], golden_md[1100];
static json_t *model;
static char err[1024];
static char *out;
static size_t out_len;

static int load_paths_and_model(void)
{
    json_error_t jerr;
    snprintf(root, sizeof root, "%s", getenv("DOCBUS_ROOT") ? getenv("DOCBUS_ROOT") : ".");
    snprintf(templates, sizeof templates, "%s/schemas/templates", root);
    snprintf(golden_model, sizeof golden_model, "%s/tests/golden/report-model-2018q1.json", root);
    snprintf(golden_md, sizeof golden_md, "%s/tests/golden/report-2018q1.md", root);
    if (!(model = json_load_file(golden_model, 0, &jerr)))
        fprintf(stderr, "%s:%d: %s\n", golden_model, jerr.line, jerr.text);
    return model ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    return load_paths_and_model();
}

static int teardown(void **state)
{
    (void)state;
    json_decref(model);
    free(out);
    return 0;
}

/* Renders m in format f from tpl into `out` (a fresh string); returns the code. */
static int render(enum fmt f, const json_t *m, const char *tpl)
{
    FILE *ms;
    int rc;
    free(out);
    out = NULL;
    err[0] = '\0';
    ms = open_memstream(&out, &out_len);
    assert_non_null(ms);
    rc = f == MD ? render_markdown(m, tpl, ms, err, sizeof err)
         : f == HTML ? render_html(m, tpl, ms, err, sizeof err)
                     : render_json(m, ms, err, sizeof err);
    fclose(ms);
    return rc;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* A scratch template directory holding index_text and files name/text pairs. */
static void scratch_dir(char *dir, const char *index_text, const char *const *files)
{
    char path[256];
    FILE *f;
    strcpy(dir, "/tmp/test_render_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/index", dir);
    assert_non_null(f = fopen(path, "w"));
    fputs(index_text, f);
    fclose(f);
    for (; files && files[0]; files += 2) {
        snprintf(path, sizeof path, "%s/%s", dir, files[0]);
        assert_non_null(f = fopen(path, "w"));
        fputs(files[1], f);
        fclose(f);
    }
}

static void scratch_remove(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_markdown_matches_golden_byte_for_byte(void **state)
{
    size_t glen = 0, line = 1, i;
    char *golden = read_all(golden_md, &glen);
    (void)state;
    assert_non_null(golden);
    if (render(MD, model, templates))
        fail_msg("render_markdown: %s", err);
    for (i = 0; i < glen && i < out_len && golden[i] == out[i]; i++)
        line += golden[i] == '\n';
    if (i != glen || i != out_len)
        fail_msg("Markdown differs from %s at byte %zu, line %zu: got \"%.60s\", want \"%.60s\"",
                 golden_md, i, line, out + i, golden + i);
    free(golden);
}

static void test_markdown_shows_the_lag_warning_first(void **state)
{
    json_t *m = json_deep_copy(model);
    (void)state;
    json_object_set_new(m, "warning", json_string("Số liệu chậm 120 thông điệp * so với đầu vào"));
    assert_int_equal(render(MD, m, templates), 0);
    assert_true(strncmp(out, "> **Cảnh báo:** Số liệu chậm 120 thông điệp \\* so với đầu vào\n\n"
                             "# BÁO CÁO\n", strlen("> **Cảnh báo:** Số liệu chậm 120 thông điệp "
                                                   "\\* so với đầu vào\n\n# BÁO CÁO\n")) == 0);
    json_decref(m);
}

static void test_markdown_unit_without_a_name_shows_its_code(void **state)
{
    json_t *m = json_deep_copy(model);
    json_t *unit = json_array_get(json_object_get(json_object_get(m, "top_units"), "sent"), 0);
    (void)state;
    json_object_set_new(unit, "name", json_null());
    assert_int_equal(render(MD, m, templates), 0);
    assert_non_null(strstr(out, "\n- 000.00.01.H29: 38.412 văn bản\n"));
    assert_int_equal(render(HTML, m, templates), 0); /* the chart labels it by code */
    assert_non_null(strstr(out, ">000.00.01.H29</text>"));
    json_decref(m);
}

static void test_template_error_writes_nothing_and_names_the_file(void **state)
{
    const char *files[] = {"one.md", "# ok\n", "two.md", "x\nSố {{inspect.checkd}}\n", NULL};
    char dir[64], want[200];
    (void)state;
    scratch_dir(dir, "# sections\na one.md\nb two.md\n", files);
    snprintf(want, sizeof want, "%s/two.md:2: unknown placeholder \"inspect.checkd\"",
             strrchr(dir, '/') + 1);
    assert_int_equal(render(MD, model, dir), DB_ERR_INVALID);
    assert_int_equal(out_len, 0);
    assert_string_equal(err, want);
    assert_int_equal(render(HTML, model, dir), DB_ERR_INVALID);
    assert_int_equal(out_len, 0);
    assert_string_equal(err, want);
    scratch_remove(dir);
}

static void test_single_template_file_is_the_whole_report(void **state)
{
    char path[] = "/tmp/test_render_one_XXXXXX";
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "Tổng: {{docs.exchanged|more}}\n", 31), 31);
    close(fd);
    assert_int_equal(render(MD, model, path), 0);
    assert_string_equal(out, "Tổng: hơn 2.779.000\n");
    assert_int_equal(render(HTML, model, path), 0);
    assert_non_null(strstr(out, "<section id=\"sec-report\">\n<p>Tổng: hơn 2.779.000</p>"));
    assert_null(strstr(out, "<figure"));
    unlink(path);
}

static void test_index_errors_name_the_line(void **state)
{
    const char *files[] = {"one.md", "ok\n", NULL};
    char dir[64];
    (void)state;
    scratch_dir(dir, "a one.md\n\nb one.md bogus:chart\n", files);
    assert_int_equal(render(MD, model, dir), DB_ERR_INVALID);
    assert_non_null(strstr(err, "/index:3: unknown chart \"bogus:chart\""));
    scratch_remove(dir);

    scratch_dir(dir, "a one.md\na one.md\n", files);
    assert_int_equal(render(MD, model, dir), DB_ERR_INVALID);
    assert_non_null(strstr(err, "/index:2: section \"a\" already on line 1"));
    scratch_remove(dir);

    scratch_dir(dir, "A_1 one.md\n", files);
    assert_int_equal(render(MD, model, dir), DB_ERR_INVALID);
    assert_non_null(strstr(err, "/index:1: malformed section id \"A_1\""));
    scratch_remove(dir);

    scratch_dir(dir, "a missing.md\n", files);
    assert_int_equal(render(MD, model, dir), DB_ERR_IO);
    assert_non_null(strstr(err, "missing.md"));
    scratch_remove(dir);

    scratch_dir(dir, "# nothing\n", files);
    assert_int_equal(render(MD, model, dir), DB_ERR_INVALID);
    assert_non_null(strstr(err, "/index: no sections"));
    scratch_remove(dir);
}

static void test_html_has_every_section_and_chart_id(void **state)
{
    static const char *const ids[] = {
        "sec-a0", "sec-a1", "sec-a2", "sec-a3-1-2-a", "sec-a3-1-2-b", "sec-a3-1-3-a",
        "sec-a3-1-3-b", "sec-a3-3", "sec-a3-6-1", "sec-a3-6-2", "sec-a3-6-3", "sec-pl1",
        "sec-pl2", "chart-mail-mailboxes", "chart-docs-exchanged", "chart-top-units-sent",
        "chart-top-units-received", "chart-rating-device", "chart-rating-web",
        "chart-press-briefings", "chart-press-commended", "chart-press-propaganda",
        "chart-inspect-checked-split", "chart-penalty-decisions", "chart-penalty-amount_vnd"};
    char needle[80];
    (void)state;
    if (render(HTML, model, templates))
        fail_msg("render_html: %s", err);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        snprintf(needle, sizeof needle, "id=\"%s\"", ids[i]);
        if (!strstr(out, needle))
            fail_msg("no %s in the HTML", needle);
    }
}

static void test_html_charts_carry_the_figures(void **state)
{
    const char *chart, *end;
    (void)state;
    assert_int_equal(render(HTML, model, templates), 0);
    chart = strstr(out, "id=\"chart-docs-exchanged\"");
    assert_non_null(chart);
    end = strstr(chart, "</figure>");
    assert_non_null(end);
    /* The current quarter's bar carries the exact value and its label. */
    assert_non_null(memmem(chart, (size_t)(end - chart), "2.779.043", 9));
    assert_non_null(memmem(chart, (size_t)(end - chart), "Quý IV/2017", 12));
    chart = strstr(out, "id=\"chart-inspect-checked-split\"");
    assert_non_null(chart);
    end = strstr(chart, "</figure>");
    assert_non_null(memmem(chart, (size_t)(end - chart), "Lĩnh vực Internet", 18));
}

static void test_html_is_self_contained_utf8_vietnamese(void **state)
{
    static const char *const banned[] = {"http://", "https://", "<script", "<link", "src=",
                                         "@import", "url(", "@font-face"};
    (void)state;
    assert_int_equal(render(HTML, model, templates), 0);
    assert_non_null(strstr(out, "<html lang=\"vi\">"));
    assert_non_null(strstr(out, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(out, "Content-Security-Policy\" content=\"default-src 'none'"));
    assert_non_null(strstr(out, "<title>Báo cáo Quý I/2018</title>"));
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
        if (strstr(out, banned[i]))
            fail_msg("the HTML references \"%s\"", banned[i]);
}

static void test_html_shows_the_warning_before_the_first_section(void **state)
{
    json_t *m = json_deep_copy(model);
    const char *w, *s;
    (void)state;
    json_object_set_new(m, "warning", json_string("counts lag <b>120</b> messages"));
    assert_int_equal(render(HTML, m, templates), 0);
    w = strstr(out, "<div id=\"report-warning\" class=\"warning\" role=\"alert\">");
    s = strstr(out, "<section");
    assert_non_null(w);
    assert_true(w < s);
    assert_non_null(strstr(w, "counts lag &lt;b&gt;120&lt;/b&gt; messages</div>"));
    json_decref(m);
}

static void test_html_neutralises_markup_in_model_text(void **state)
{
    json_t *m = json_deep_copy(model);
    json_t *task = json_array_get(json_object_get(m, "tasks"), 0);
    json_t *event = json_array_get(json_object_get(m, "highlights"), 0);
    (void)state;
    json_object_set_new(task, "task", json_string("<script>alert(1)</script>"));
    json_object_set_new(event, "description", json_string("[x](javascript:alert(1)) <img src=x>"));
    assert_int_equal(render(HTML, m, templates), 0);
    assert_null(strstr(out, "<script"));
    assert_null(strstr(out, "<img"));
    assert_null(strstr(out, "href="));
    assert_non_null(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    json_decref(m);
}

static void test_html_chart_of_a_missing_figure_is_an_error(void **state)
{
    const char *files[] = {"one.md", "ok\n", NULL};
    char dir[64];
    (void)state;
    scratch_dir(dir, "a one.md series:no.such\n", files);
    assert_int_equal(render(HTML, model, dir), DB_ERR_INVALID);
    assert_non_null(strstr(err, "/index:1: chart \"series:no.such\" of section a: "
                                "no such figure in the model"));
    assert_int_equal(out_len, 0);
    scratch_remove(dir);
}

static void test_json_is_the_model_in_utf8(void **state)
{
    json_t *back;
    json_error_t jerr;
    (void)state;
    assert_int_equal(render(JSON, model, NULL), 0);
    assert_non_null(strstr(out, "\"quarter_vi\": \"Quý I/2018\""));
    assert_int_equal(out[out_len - 1], '\n');
    back = json_loads(out, 0, &jerr);
    assert_non_null(back);
    assert_true(json_equal(back, model));
    json_decref(back);
}

/* The browser test's driver: the golden model's HTML report into path. */
static int write_html(const char *path)
{
    FILE *f;
    int rc = 1;
    if (load_paths_and_model())
        return 1;
    if (!(f = fopen(path, "w"))) {
        perror(path);
    } else {
        rc = render_html(model, templates, f, err, sizeof err) ? 1 : 0;
        if (fclose(f) != 0)
            rc = 1;
        if (rc)
            fprintf(stderr, "test_render: %s\n", err);
    }
    json_decref(model);
    return rc;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown_matches_golden_byte_for_byte),
        cmocka_unit_test(test_markdown_shows_the_lag_warning_first),
        cmocka_unit_test(test_markdown_unit_without_a_name_shows_its_code),
        cmocka_unit_test(test_template_error_writes_nothing_and_names_the_file),
        cmocka_unit_test(test_single_template_file_is_the_whole_report),
        cmocka_unit_test(test_index_errors_name_the_line),
        cmocka_unit_test(test_html_has_every_section_and_chart_id),
        cmocka_unit_test(test_html_charts_carry_the_figures),
        cmocka_unit_test(test_html_is_self_contained_utf8_vietnamese),
        cmocka_unit_test(test_html_shows_the_warning_before_the_first_section),
        cmocka_unit_test(test_html_neutralises_markup_in_model_text),
        cmocka_unit_test(test_html_chart_of_a_missing_figure_is_an_error),
        cmocka_unit_test(test_json_is_the_model_in_utf8),
    };
    if (argc == 3 && strcmp(argv[1], "--html") == 0)
        return write_html(argv[2]);
    return cmocka_run_group_tests(tests, setup, teardown);
}
