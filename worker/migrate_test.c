/* Unit tests of wk_migrate's bookkeeping: file names, listing order,
 * duplicate versions, checksum. (Applying them is tested against a real
 * PostgreSQL in tests/test_worker.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wk_migrate.h"

static void test_parse_name(void **state)
{
    (void)state;
    int v;
    char name[64];
    assert_int_equal(wk_migrate_parse_name("0001_init.sql", &v, name, sizeof name), 0);
    assert_int_equal(v, 1);
    assert_string_equal(name, "init");
    assert_int_equal(wk_migrate_parse_name("0042_add-index_2.sql", &v, name, sizeof name), 0);
    assert_int_equal(v, 42);
    assert_string_equal(name, "add-index_2");
    const char *bad[] = {
        "init.sql",       "001_x.sql", "00001_x.sql", "0001_.sql",    "0001_x.sql~",
        "0001_x.SQL",     "0001x.sql", "0000_x.sql",  "0001_a b.sql", "README.md",
        "0001_x.sql.bak", ".",         ".."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(wk_migrate_parse_name(bad[i], &v, name, sizeof name), -1);
    assert_int_equal(wk_migrate_parse_name("0001_abcdefgh.sql", &v, name, 4), -1);
}

static void touch(const char *dir, const char *f)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, f);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs("SELECT 1;\n", fp);
    fclose(fp);
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_list_order(void **state)
{
    (void)state;
    char dir[] = "/tmp/wk-migrate-XXXXXX";
    assert_non_null(mkdtemp(dir));
    touch(dir, "0010_ten.sql");
    touch(dir, "0002_two.sql");
    touch(dir, "0001_one.sql");
    touch(dir, "notes.txt");
    touch(dir, "0003_three.sql.orig");
    wk_migration_list l;
    assert_int_equal(wk_migrate_list(dir, &l), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.v[0].version, 1);
    assert_int_equal(l.v[1].version, 2);
    assert_int_equal(l.v[2].version, 10);
    assert_string_equal(l.v[2].file, "0010_ten.sql");
    assert_string_equal(l.v[2].name, "ten");
    wk_migrate_list_free(&l);
    touch(dir, "0002_again.sql");
    assert_int_equal(wk_migrate_list(dir, &l), -1);
    assert_null(l.v);
    rm_rf(dir);
    assert_int_equal(wk_migrate_list("/nonexistent/wk", &l), -1);
}

static void test_project_migrations(void **state)
{
    (void)state;
    /* The repository's own directory lists cleanly, from 1 with no gap. */
    wk_migration_list l;
    if (access("migrations", R_OK) != 0) skip();
    assert_int_equal(wk_migrate_list("migrations", &l), 0);
    assert_true(l.n >= 2);
    for (size_t i = 0; i < l.n; i++)
        assert_int_equal(l.v[i].version, (int)i + 1);
    wk_migrate_list_free(&l);
}

static void test_checksum(void **state)
{
    (void)state;
    char a[17], b[17];
    wk_migrate_checksum("", 0, a);
    assert_string_equal(a, "cbf29ce484222325");
    wk_migrate_checksum("SELECT 1;", 9, a);
    wk_migrate_checksum("SELECT 2;", 9, b);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_name),
        cmocka_unit_test(test_list_order),
        cmocka_unit_test(test_project_migrations),
        cmocka_unit_test(test_checksum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
