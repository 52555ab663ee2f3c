/* test_template.c - the placeholder engine: values, filters, blocks, escaping, and
 * errors that name the template file, line and placeholder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "template.h"

static const char model_text[] =
    "{\"quarter\":\"2018-Q1\",\"quarter_vi\":\"Quý I/2018\",\"has_data\":true,"
    "\"figures\":{"
    " \"docs.exchanged\":{\"value\":2779043,\"round\":100,\"quarter_value\":402611},"
    " \"rating.units\":{\"value\":42,\"quarter_value\":3},"
    " \"inspect.checked\":{\"value\":39,\"quarter_value\":39},"
    " \"inspect.checked.press\":{\"value\":3,\"quarter_value\":3},"
    " \"penalty.amount_vnd\":{\"value\":189000000,\"quarter_value\":189000000}},"
    "\"top_units\":{\"sent\":[{\"unit\":\"000.00.01.H29\",\"name\":\"VP UBND\",\"value\":38412}],"
    "               \"received\":[]},"
    "\"tasks\":[{\"task\":\"A\",\"cooperating\":[\"X\",\"Y\"],\"deadline_quarter\":\"2018-Q2\","
    "            \"progress\":\"\"},"
    "           {\"task\":\"B\",\"cooperating\":[],\"deadline_quarter\":\"2018-Q4\","
    "            \"progress\":\"done\"}],"
    "\"highlights\":[{\"title\":\"Book street\",\"start_date\":\"2018-02-13\","
    "  \"end_date\":\"2018-02-19\",\"visitors\":1000000,\"revenue_vnd\":4500000000},"
    "  {\"title\":\"Press\",\"start_date\":\"2018-03-14\",\"end_date\":\"2018-03-14\","
    "  \"visitors\":null,\"revenue_vnd\":null}],"
    "\"note\":\"a*b_[x]<y>|&\\\\z\\nnext\"}";

static json_t *model;
static char err[512];
static char *out;

static int setup(void **state)
{
    json_error_t jerr;
    (void)state;
    model = json_loads(model_text, 0, &jerr);
    if (!model)
        fprintf(stderr, "model: %d: %s\n", jerr.line, jerr.text);
    return model ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(model);
    return 0;
}

/* Parses and renders text as template "name"; returns the code, output in `out`. */
static int run(const char *name, const char *text)
{
    template_t *t = NULL;
    size_t len = 0;
    FILE *ms;
    int rc;

    free(out);
    out = NULL;
    err[0] = '\0';
    rc = template_parse(name, text, strlen(text), &t, err, sizeof err);
    if (rc)
        return rc;
    ms = open_memstream(&out, &len);
    assert_non_null(ms);
    rc = template_render(t, model, ms, err, sizeof err);
    fclose(ms);
    template_destroy(t);
    return rc;
}

static void expect(const char *text, const char *want)
{
    int rc = run("t.md", text);
    if (rc)
        fail_msg("rendering \"%s\" failed: %s", text, err);
    assert_string_equal(out, want);
}

static void test_figure_id_prints_its_value(void **state)
{
    (void)state;
    expect("{{docs.exchanged}} văn bản", "2.779.043 văn bản");
    expect("{{ rating.units }}", "42");
}

static void test_figure_fields_and_dotted_ids(void **state)
{
    (void)state;
    expect("{{docs.exchanged.quarter_value}}", "402.611");
    expect("{{inspect.checked}}/{{inspect.checked.press}}", "39/3");
    expect("{{inspect.checked.press.quarter_value}}", "3");
    expect("{{inspect.checked.quarter_value}}", "39");
}

static void test_quarter_names(void **state)
{
    (void)state;
    expect("{{quarter}} = {{quarter_vi}}", "2018-Q1 = Quý I/2018");
}

static void test_more_filter_uses_the_figure_round_step(void **state)
{
    (void)state;
    expect("{{docs.exchanged|more}}", "hơn 2.779.000");
    expect("{{rating.units|more}}", "42"); /* exact figure: no round, no "hơn" */
}

static void test_number_filters(void **state)
{
    (void)state;
    expect("{{inspect.checked.press|02}} {{inspect.checked|02}}", "03 39");
    expect("{{penalty.amount_vnd|vnd}}", "189.000.000 đồng");
    expect("{{#highlights}}{{revenue_vnd|vnd_short}};{{/highlights}}", "4,5 tỷ đồng;;");
}

static void test_text_filters(void **state)
{
    (void)state;
    expect("{{#tasks}}{{deadline_quarter|quarter_vi}};{{/tasks}}", "Quý II/2018;Quý IV/2018;");
    expect("{{#highlights}}{{start_date|date}} {{.|dates}};{{/highlights}}",
           "13/02/2018 13–19/02/2018;14/03/2018 14/03/2018;");
}

static void test_list_block_repeats_with_item_fields_and_position(void **state)
{
    (void)state;
    expect("{{#tasks}}{{@n}}. {{task}} ({{quarter}})\n{{/tasks}}", "1. A (2018-Q1)\n2. B (2018-Q1)\n");
    expect("{{#top_units.sent}}{{name}} {{unit}} {{value}}{{/top_units.sent}}",
           "VP UBND 000.00.01.H29 38.412");
}

static void test_inverted_block_shows_for_empty_values(void **state)
{
    (void)state;
    expect("{{#tasks}}[{{progress}}{{^progress}}none{{/progress}}]{{/tasks}}", "[none][done]");
    expect("{{^top_units.received}}no data{{/top_units.received}}", "no data");
    expect("{{^tasks}}no tasks{{/tasks}}", "");
}

static void test_null_prints_nothing_and_skips_blocks(void **state)
{
    (void)state;
    expect("{{#highlights}}<{{visitors}}>{{#visitors}}v={{visitors}}{{/visitors}}{{/highlights}}",
           "<1.000.000>v=1.000.000<>");
}

static void test_list_of_text_is_joined(void **state)
{
    (void)state;
    expect("{{#tasks}}[{{cooperating}}]{{/tasks}}", "[X, Y][]");
}

static void test_block_lines_and_comments_leave_no_blank_lines(void **state)
{
    (void)state;
    expect("{{! a comment }}\nhead\n  {{#tasks}}\n- {{task}}\n  {{/tasks}}\ntail\n",
           "head\n- A\n- B\ntail\n");
    expect("x\r\n{{#tasks}}\r\n{{task}}\r\n{{/tasks}}\r\ny", "x\r\nA\r\nB\r\ny");
}

static void test_text_is_escaped_for_markdown(void **state)
{
    (void)state;
    expect("{{note}}", "a\\*b\\_\\[x\\]\\<y\\>\\|\\&\\\\z next");
}

static void test_unknown_placeholder_names_file_line_and_name(void **state)
{
    (void)state;
    assert_int_equal(run("templates/a3-inspection.md",
                         "# 6\n\n1\n2\n3\n4\nSở đã kiểm tra {{inspect.checkd}} tổ chức.\n"),
                     DB_ERR_INVALID);
    assert_string_equal(err, "templates/a3-inspection.md:7: unknown placeholder \"inspect.checkd\"");
}

static void test_unknown_placeholder_inside_a_block(void **state)
{
    (void)state;
    assert_int_equal(run("p.md", "{{#tasks}}\n{{lead}}\n{{/tasks}}\n"), DB_ERR_INVALID);
    assert_string_equal(err, "p.md:2: unknown placeholder \"lead\"");
    assert_int_equal(run("p.md", "x\n{{#taks}}{{/taks}}"), DB_ERR_INVALID);
    assert_non_null(strstr(err, "p.md:2: unknown placeholder \"taks\""));
}

static void test_unknown_filter_is_a_parse_error(void **state)
{
    (void)state;
    assert_int_equal(run("templates/a3-6-3.md", "x\n{{penalty.amount_vnd|vndd}}"), DB_ERR_INVALID);
    assert_null(out); /* nothing rendered */
    assert_non_null(strstr(err, "templates/a3-6-3.md:2: unknown filter \"vndd\" in "
                                "\"{{penalty.amount_vnd|vndd}}\""));
}

static void test_unclosed_block_names_its_opening_line(void **state)
{
    (void)state;
    assert_int_equal(run("pl1.md", "# PL1\n\n{{#tasks}}\n- {{task}}\n"), DB_ERR_INVALID);
    assert_non_null(strstr(err, "pl1.md:3: unclosed block \"{{#tasks}}\""));
}

static void test_mismatched_and_stray_closers(void **state)
{
    (void)state;
    assert_int_equal(run("m.md", "{{#tasks}}\n{{/highlights}}"), DB_ERR_INVALID);
    assert_non_null(strstr(err, "m.md:2: \"{{/highlights}}\" does not close \"{{#tasks}}\" "
                                "opened at line 1"));
    assert_int_equal(run("m.md", "a {{/tasks}}"), DB_ERR_INVALID);
    assert_non_null(strstr(err, "m.md:1: \"{{/tasks}}\" closes no block"));
}

static void test_unterminated_and_malformed_tags(void **state)
{
    (void)state;
    assert_int_equal(run("u.md", "a\nb {{docs.exchanged"), DB_ERR_INVALID);
    assert_string_equal(err, "u.md:2: \"{{\" without \"}}\"");
    assert_int_equal(run("u.md", "{{docs exchanged}}"), DB_ERR_INVALID);
    assert_non_null(strstr(err, "u.md:1: malformed placeholder"));
    assert_int_equal(run("u.md", "{{}}"), DB_ERR_INVALID);
}

static void test_filter_on_the_wrong_kind_of_value(void **state)
{
    (void)state;
    assert_int_equal(run("f.md", "{{quarter|vnd}}"), DB_ERR_INVALID);
    assert_non_null(strstr(err, "f.md:1: \"{{quarter|vnd}}\" is text"));
    assert_int_equal(run("f.md", "{{#tasks}}{{task|quarter_vi}}{{/tasks}}"), DB_ERR_INVALID);
    assert_non_null(strstr(err, "malformed quarter \"A\""));
    assert_int_equal(run("f.md", "{{top_units}}"), DB_ERR_INVALID);
    assert_non_null(strstr(err, "is an object, which cannot be printed"));
}

static void test_position_outside_a_list_is_an_error(void **state)
{
    (void)state;
    assert_int_equal(run("n.md", "{{@n}}"), DB_ERR_INVALID);
    assert_non_null(strstr(err, "n.md:1: \"{{@n}}\" outside a list block"));
}

static void test_load_reads_a_file_and_names_it(void **state)
{
    char path[] = "/tmp/test_template_XXXXXX";
    template_t *t = NULL;
    FILE *sink;
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "ok\n{{nope}}\n", 12), 12);
    close(fd);
    assert_int_equal(template_load(path, "templates/x.md", &t, err, sizeof err), 0);
    assert_non_null(sink = fopen("/dev/null", "w"));
    assert_int_equal(template_render(t, model, sink, err, sizeof err), DB_ERR_INVALID);
    fclose(sink);
    assert_string_equal(err, "templates/x.md:2: unknown placeholder \"nope\"");
    template_destroy(t);
    unlink(path);
    assert_int_equal(template_load(path, NULL, &t, err, sizeof err), DB_ERR_IO);
    assert_null(t);
    assert_non_null(strstr(err, path));
}

static void test_dir_find_order_and_no_fallback(void **state)
{
    char dir[] = "/tmp/test_template_dir_XXXXXX", other[] = "/tmp/test_template_env_XXXXXX";
    char index[128], buf[256];
    FILE *f;
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_non_null(mkdtemp(other));
    snprintf(index, sizeof index, "%s/index", dir);
    assert_non_null(f = fopen(index, "w"));
    fclose(f);

    setenv("DOCBUS_TEMPLATES", dir, 1);
    assert_int_equal(template_dir_find(NULL, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, dir);
    /* An explicit directory wins, and when it has no index the env is not tried. */
    assert_int_equal(template_dir_find(other, buf, sizeof buf, err, sizeof err), DB_ERR_NOT_FOUND);
    assert_non_null(strstr(err, other));
    assert_non_null(strstr(err, "--template-dir"));
    setenv("DOCBUS_TEMPLATES", other, 1);
    assert_int_equal(template_dir_find(dir, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, dir);
    /* Neither: the directory next to the executable (none for this test binary). */
    unsetenv("DOCBUS_TEMPLATES");
    assert_int_equal(template_dir_find(NULL, buf, sizeof buf, err, sizeof err), DB_ERR_NOT_FOUND);
    assert_non_null(strstr(buf, "/../schemas/templates"));

    unlink(index);
    rmdir(dir);
    rmdir(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figure_id_prints_its_value),
        cmocka_unit_test(test_figure_fields_and_dotted_ids),
        cmocka_unit_test(test_quarter_names),
        cmocka_unit_test(test_more_filter_uses_the_figure_round_step),
        cmocka_unit_test(test_number_filters),
        cmocka_unit_test(test_text_filters),
        cmocka_unit_test(test_list_block_repeats_with_item_fields_and_position),
        cmocka_unit_test(test_inverted_block_shows_for_empty_values),
        cmocka_unit_test(test_null_prints_nothing_and_skips_blocks),
        cmocka_unit_test(test_list_of_text_is_joined),
        cmocka_unit_test(test_block_lines_and_comments_leave_no_blank_lines),
        cmocka_unit_test(test_text_is_escaped_for_markdown),
        cmocka_unit_test(test_unknown_placeholder_names_file_line_and_name),
        cmocka_unit_test(test_unknown_placeholder_inside_a_block),
        cmocka_unit_test(test_unknown_filter_is_a_parse_error),
        cmocka_unit_test(test_unclosed_block_names_its_opening_line),
        cmocka_unit_test(test_mismatched_and_stray_closers),
        cmocka_unit_test(test_unterminated_and_malformed_tags),
        cmocka_unit_test(test_filter_on_the_wrong_kind_of_value),
        cmocka_unit_test(test_position_outside_a_list_is_an_error),
        cmocka_unit_test(test_load_reads_a_file_and_names_it),
        cmocka_unit_test(test_dir_find_order_and_no_fallback),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    free(out);
    return rc;
}
