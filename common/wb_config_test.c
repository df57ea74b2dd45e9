/* Unit test: the config table (wb_config): defaults, env, both flag forms,
 * bounds, doubles and repeatable list options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "wb_config.h"

static long long g_n;
static double g_rate;
static const char *g_s;
static bool g_q;
static wb_cfg_list g_pid;

static const wb_cfg_item g_items[] = {
    {"n", "WBT_N", WB_CFG_INT, "5", 1, 10, &g_n, "an int"},
    {"rate", "WBT_RATE", WB_CFG_DOUBLE, "1.5", 0, 100, &g_rate, "a double"},
    {"s", "WBT_S", WB_CFG_STR, "x", 0, 0, &g_s, "a string"},
    {"quiet", "WBT_Q", WB_CFG_BOOL, "false", 0, 0, &g_q, "a flag"},
    {"pid", "WBT_PID", WB_CFG_LIST, "", 0, 0, &g_pid, "repeatable"},
};
#define N (sizeof g_items / sizeof *g_items)

static int load(int argc, char **argv)
{
    return wb_config_load(g_items, N, argc, argv, "t");
}

static void test_defaults_env_flags(void **st)
{
    char *a0[] = {"t"};
    unsetenv("WBT_RATE");
    assert_int_equal(load(1, a0), 0);
    assert_int_equal(g_n, 5);
    assert_true(g_rate == 1.5);
    assert_string_equal(g_s, "x");
    assert_false(g_q);
    assert_int_equal(g_pid.n, 0);

    setenv("WBT_RATE", "0.25", 1);
    setenv("WBT_PID", "gw=1", 1);
    char *a1[] = {"t", "--n", "7", "--rate=2.5", "--s", "", "--quiet", "--pid", "w=2", "--pid=x=3"};
    assert_int_equal(load(10, a1), 0);
    assert_int_equal(g_n, 7);
    assert_true(g_rate == 2.5); /* the flag beats the env */
    assert_string_equal(g_s, "");
    assert_true(g_q);
    assert_int_equal(g_pid.n, 3); /* env first, then each flag */
    assert_string_equal(g_pid.v[0], "gw=1");
    assert_string_equal(g_pid.v[1], "w=2");
    assert_string_equal(g_pid.v[2], "x=3");
    unsetenv("WBT_RATE");
    unsetenv("WBT_PID");
    wb_config_print(g_items, N);
}

static void test_refusals(void **st)
{
    char *a1[] = {"t", "--n", "11"};
    assert_int_equal(load(3, a1), -1);
    char *a2[] = {"t", "--rate", "fast"};
    assert_int_equal(load(3, a2), -1);
    char *a3[] = {"t", "--rate", "-1"};
    assert_int_equal(load(3, a3), -1);
    char *a4[] = {"t", "--nope", "1"};
    assert_int_equal(load(3, a4), -1);
    char *a5[] = {"t", "--n"};
    assert_int_equal(load(2, a5), -1);
    char *a6[20] = {"t"};
    for (int i = 0; i < 17; i++)
        a6[i + 1] = "--pid=a=1";
    assert_int_equal(load(18, a6), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_env_flags),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
