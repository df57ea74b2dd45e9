/* Unit test: Prometheus text exposition and the histogram (wb_prom). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wb_prom.h"

static void test_samples_and_labels(void **st)
{
    wb_jw w;
    wb_jw_init(&w, 0, 64);
    wb_prom p;
    wb_prom_init(&p, &w, "gateway=\"gw-1\"");
    wb_prom_counter(&p, "x_total", "Things.", 18446744073709551615ull);
    wb_prom_gauge(&p, "x_lag", "Lag (-1 unknown).", -1);
    wb_prom_family(&p, "x_errors_total", "counter", "Errors by code.");
    wb_prom_u64(&p, "x_errors_total", "code=\"bad_json\"", 3);
    wb_prom_init(&p, &w, NULL);
    wb_prom_u64(&p, "y", NULL, 0);
    wb_prom_u64(&p, "y", "", 1);
    wb_prom_u64(&p, "y", "k=\"v\"", 2);
    wb_jw_char(&w, 0);
    assert_string_equal(wb_jw_text(&w), "# HELP x_total Things.\n# TYPE x_total counter\n"
                                        "x_total{gateway=\"gw-1\"} 18446744073709551615\n"
                                        "# HELP x_lag Lag (-1 unknown).\n# TYPE x_lag gauge\n"
                                        "x_lag{gateway=\"gw-1\"} -1\n"
                                        "# HELP x_errors_total Errors by code.\n"
                                        "# TYPE x_errors_total counter\n"
                                        "x_errors_total{gateway=\"gw-1\",code=\"bad_json\"} 3\n"
                                        "y 0\ny 1\ny{k=\"v\"} 2\n");
    wb_jw_free(&w);
}

static void test_histogram(void **st)
{
    static const double le[] = {0.001, 0.5, 10};
    wb_hist h;
    wb_hist_init(&h, "lat_seconds", "Latency.", le, 3);
    wb_hist_observe(&h, 0.001); /* le is inclusive */
    wb_hist_observe(&h, 0.25);
    wb_hist_observe(&h, 0.25);
    wb_hist_observe(&h, 11);
    wb_hist_observe(&h, -2); /* counted, adds nothing to the sum */
    wb_jw w;
    wb_jw_init(&w, 0, 64);
    wb_prom p;
    wb_prom_init(&p, &w, "svc=\"t\"");
    wb_prom_hist(&p, &h);
    wb_jw_char(&w, 0);
    assert_string_equal(wb_jw_text(&w), "# HELP lat_seconds Latency.\n"
                                        "# TYPE lat_seconds histogram\n"
                                        "lat_seconds_bucket{svc=\"t\",le=\"0.001\"} 2\n"
                                        "lat_seconds_bucket{svc=\"t\",le=\"0.5\"} 4\n"
                                        "lat_seconds_bucket{svc=\"t\",le=\"10\"} 4\n"
                                        "lat_seconds_bucket{svc=\"t\",le=\"+Inf\"} 5\n"
                                        "lat_seconds_sum{svc=\"t\"} 11.501\n"
                                        "lat_seconds_count{svc=\"t\"} 5\n");
    wb_jw_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_and_labels),
        cmocka_unit_test(test_histogram),
    };
    return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
