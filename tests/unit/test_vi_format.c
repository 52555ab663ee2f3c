/* test_vi_format.c - Vietnamese numbers, money, dates, date ranges and quarters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "quarter.h"
#include "vi_format.h"

static char buf[VI_FMT_SIZE], err[256];

static void test_number_groups_thousands_with_dots(void **state)
{
    (void)state;
    assert_string_equal(vi_number(0, buf, sizeof buf), "0");
    assert_string_equal(vi_number(999, buf, sizeof buf), "999");
    assert_string_equal(vi_number(1000, buf, sizeof buf), "1.000");
    assert_string_equal(vi_number(2779043, buf, sizeof buf), "2.779.043");
    assert_string_equal(vi_number(189000000, buf, sizeof buf), "189.000.000");
    assert_string_equal(vi_number(-1500, buf, sizeof buf), "-1.500");
    assert_string_equal(vi_number(INT64_MIN, buf, sizeof buf), "-9.223.372.036.854.775.808");
}

static void test_number_truncates_to_small_buffer(void **state)
{
    char small[4];
    (void)state;
    assert_string_equal(vi_number(2779043, small, sizeof small), "2.7");
}

static void test_more_rounds_down_to_step(void **state)
{
    (void)state;
    assert_string_equal(vi_number_more(2779043, 100, buf, sizeof buf), "hơn 2.779.000");
    assert_string_equal(vi_number_more(21899, 100, buf, sizeof buf), "hơn 21.800");
    assert_string_equal(vi_number_more(3901, 100, buf, sizeof buf), "hơn 3.900");
}

static void test_more_is_plain_when_nothing_is_dropped(void **state)
{
    (void)state;
    assert_string_equal(vi_number_more(2779000, 100, buf, sizeof buf), "2.779.000");
    assert_string_equal(vi_number_more(42, 0, buf, sizeof buf), "42");
    assert_string_equal(vi_number_more(42, 1, buf, sizeof buf), "42");
    assert_string_equal(vi_number_more(-250, 100, buf, sizeof buf), "-250");
}

static void test_two_digits_below_ten(void **state)
{
    (void)state;
    assert_string_equal(vi_number_2digit(6, buf, sizeof buf), "06");
    assert_string_equal(vi_number_2digit(9, buf, sizeof buf), "09");
    assert_string_equal(vi_number_2digit(0, buf, sizeof buf), "00");
    assert_string_equal(vi_number_2digit(10, buf, sizeof buf), "10");
    assert_string_equal(vi_number_2digit(1234, buf, sizeof buf), "1.234");
}

static void test_vnd_amount(void **state)
{
    (void)state;
    assert_string_equal(vi_vnd(189000000, buf, sizeof buf), "189.000.000 đồng");
    assert_string_equal(vi_vnd(0, buf, sizeof buf), "0 đồng");
}

static void test_vnd_short_uses_billions_and_millions(void **state)
{
    (void)state;
    assert_string_equal(vi_vnd_short(4500000000LL, buf, sizeof buf), "4,5 tỷ đồng");
    assert_string_equal(vi_vnd_short(4450000000LL, buf, sizeof buf), "4,5 tỷ đồng");
    assert_string_equal(vi_vnd_short(4449999999LL, buf, sizeof buf), "4,4 tỷ đồng");
    assert_string_equal(vi_vnd_short(5000000000LL, buf, sizeof buf), "5 tỷ đồng");
    assert_string_equal(vi_vnd_short(1234500000000LL, buf, sizeof buf), "1.234,5 tỷ đồng");
    assert_string_equal(vi_vnd_short(189000000, buf, sizeof buf), "189 triệu đồng");
    assert_string_equal(vi_vnd_short(999999, buf, sizeof buf), "999.999 đồng");
}

static void test_date_day_month_year(void **state)
{
    (void)state;
    assert_int_equal(vi_date("2018-03-13", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "13/03/2018");
    assert_int_equal(vi_date("2018-01-08", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "08/01/2018");
}

static void test_date_rejects_impossible_and_malformed(void **state)
{
    (void)state;
    assert_int_equal(vi_date("2018-02-30", buf, sizeof buf, err, sizeof err), DB_ERR_INVALID);
    assert_string_equal(buf, "");
    assert_non_null(strstr(err, "2018-02-30"));
    assert_int_equal(vi_date("13/03/2018", buf, sizeof buf, err, sizeof err), DB_ERR_INVALID);
}

static void test_date_range_shares_month_and_year(void **state)
{
    (void)state;
    assert_int_equal(vi_date_range("2018-02-13", "2018-02-19", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "13–19/02/2018");
    assert_int_equal(vi_date_range("2018-02-28", "2018-03-02", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "28/02–02/03/2018");
    assert_int_equal(vi_date_range("2017-12-28", "2018-01-02", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "28/12/2017–02/01/2018");
}

static void test_date_range_of_one_day_is_a_date(void **state)
{
    (void)state;
    assert_int_equal(vi_date_range("2018-03-13", "2018-03-13", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "13/03/2018");
    assert_int_equal(vi_date_range("2018-03-14", NULL, buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "14/03/2018");
    assert_int_equal(vi_date_range("2018-03-14", "", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "14/03/2018");
}

static void test_date_range_rejects_end_before_start(void **state)
{
    (void)state;
    assert_int_equal(vi_date_range("2018-02-19", "2018-02-13", buf, sizeof buf, err, sizeof err),
                     DB_ERR_INVALID);
    assert_non_null(strstr(err, "before it starts"));
}

static void test_quarter_in_roman_numerals(void **state)
{
    (void)state;
    assert_int_equal(vi_quarter("2018-Q1", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "Quý I/2018");
    assert_int_equal(vi_quarter("2018-Q4", buf, sizeof buf, err, sizeof err), 0);
    assert_string_equal(buf, "Quý IV/2018");
}

static void test_quarter_rejects_malformed(void **state)
{
    (void)state;
    assert_int_equal(vi_quarter("2018Q1", buf, sizeof buf, err, sizeof err), DB_ERR_INVALID);
    assert_string_equal(err, "malformed quarter \"2018Q1\": expected YEAR-QN, e.g. 2018-Q1");
}

/* vn_date_format writes its digits by hand: every day from 2000 to 2100 (what vn_date_parse accepts) reads back as
 * itself, the epoch and a known day are exact, a short buffer still gets a string. */
static void test_date_format_round_trips(void **state)
{
    (void)state;
    int32_t start, end, back;
    assert_int_equal(vn_date_parse("2000-01-01", &start, err, sizeof err), 0);
    assert_int_equal(vn_date_parse("2100-12-31", &end, err, sizeof err), 0);
    for (int32_t d = start; d <= end; d++) {
        vn_date_format(d, buf, sizeof buf);
        assert_int_equal(strlen(buf), 10);
        assert_int_equal(vn_date_parse(buf, &back, err, sizeof err), 0);
        assert_int_equal(back, d);
    }
    assert_string_equal(vn_date_format(0, buf, sizeof buf), "1970-01-01");
    assert_string_equal(vn_date_format(17622, buf, sizeof buf), "2018-04-01");
    assert_string_equal(vn_date_format(17622, buf, 5), "2018");
}

/* quarter_of_days takes most days from a table of quarter starts: every day from 1900 to
 * 2300 (both sides of the table's 1970-2199 and all its edges) lands in the quarter of
 * its calendar month. */
static void test_quarter_of_days_matches_calendar(void **state)
{
    (void)state;
    int32_t from = -25567, to = 120894;   /* 1900-01-01 .. 2300-12-31 */
    assert_string_equal(vn_date_format(from, buf, sizeof buf), "1900-01-01");
    assert_string_equal(vn_date_format(to, buf, sizeof buf), "2300-12-31");
    for (int32_t d = from; d <= to; d++) {
        vn_date_format(d, buf, sizeof buf);
        int y = atoi(buf), m = atoi(buf + 5);
        if (quarter_of_days(d) != y * 4 + (m - 1) / 3)
            fail_msg("day %d (%s): quarter %d, want %d", (int)d, buf, (int)quarter_of_days(d),
                     y * 4 + (m - 1) / 3);
    }
}

/* quarter_parse reads exactly YYYY-QN (1970 on), by hand since it runs per record. */
static void test_quarter_parse_exact_shape(void **state)
{
    (void)state;
    const char *bad[] = {"", "2018", "2018-Q", "2018-Q0", "2018-Q5", "2018-Q12", "2018-q1",
                         " 2018-Q1", "+201-Q1", "1969-Q4", "2018-Q1 ", "2018/Q1", "20a8-Q1"};
    quarter_t q;
    assert_int_equal(quarter_parse("2018-Q1", &q, err, sizeof err), 0);
    assert_int_equal(q, 2018 * 4);
    assert_int_equal(quarter_parse("1970-Q4", &q, err, sizeof err), 0);
    assert_int_equal(q, 1970 * 4 + 3);
    assert_int_equal(quarter_parse("9999-Q2", &q, err, sizeof err), 0);
    assert_int_equal(q, 9999 * 4 + 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(quarter_parse(bad[i], &q, err, sizeof err), DB_ERR_INVALID);
    assert_int_equal(quarter_parse(NULL, &q, err, sizeof err), DB_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_groups_thousands_with_dots),
        cmocka_unit_test(test_number_truncates_to_small_buffer),
        cmocka_unit_test(test_more_rounds_down_to_step),
        cmocka_unit_test(test_more_is_plain_when_nothing_is_dropped),
        cmocka_unit_test(test_two_digits_below_ten),
        cmocka_unit_test(test_vnd_amount),
        cmocka_unit_test(test_vnd_short_uses_billions_and_millions),
        cmocka_unit_test(test_date_day_month_year),
        cmocka_unit_test(test_date_rejects_impossible_and_malformed),
        cmocka_unit_test(test_date_range_shares_month_and_year),
        cmocka_unit_test(test_date_range_of_one_day_is_a_date),
        cmocka_unit_test(test_date_range_rejects_end_before_start),
        cmocka_unit_test(test_quarter_in_roman_numerals),
        cmocka_unit_test(test_quarter_rejects_malformed),
        cmocka_unit_test(test_date_format_round_trips),
        cmocka_unit_test(test_quarter_of_days_matches_calendar),
        cmocka_unit_test(test_quarter_parse_exact_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
