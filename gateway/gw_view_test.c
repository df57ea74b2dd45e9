/* gw_view_test: view ids (docs/protocol.md §9) from a secret file: 22 chars
 * of the board-id alphabet, the same for every gateway with the secret,
 * different per board and per secret, recognised by their tag. No NATS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gw_view.h"
#include "wb_valid.h"

static void write_secret(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

static void test_view_ids(void **st)
{
    (void)st;
    char path[] = "/tmp/gw_view_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char v1[GW_VIEW_LEN + 1], v1b[GW_VIEW_LEN + 1], v2[GW_VIEW_LEN + 1], w1[GW_VIEW_LEN + 1];

    write_secret(path, "0123456789abcdef0123456789abcdef\n");
    assert_int_equal(gw_view_init(path), 0);
    gw_view_id("BoardOne_22chars-xxxxx", v1);
    gw_view_id("BoardOne_22chars-xxxxx", v1b);
    gw_view_id("BoardTwo", v2);
    assert_int_equal(strlen(v1), GW_VIEW_LEN);
    assert_true(wb_valid_id(v1, strlen(v1)));
    assert_string_equal(v1, v1b);    /* deterministic: every gateway agrees */
    assert_string_not_equal(v1, v2); /* one per board */
    assert_true(gw_view_is_view(v1, strlen(v1)));
    assert_true(gw_view_is_view(v2, strlen(v2)));
    /* a board id is not a view id (the tag does not match), nor is a changed view id */
    assert_false(gw_view_is_view("BoardOne_22chars-xxxxx", 22));
    char bad[GW_VIEW_LEN + 1];
    memcpy(bad, v1, sizeof bad);
    bad[3] = bad[3] == 'A' ? 'B' : 'A';
    assert_false(gw_view_is_view(bad, GW_VIEW_LEN));
    assert_false(gw_view_is_view(v1, GW_VIEW_LEN - 1));
    gw_view_shutdown();

    /* another secret: other view ids, and the old ones are not recognised */
    write_secret(path, "another secret of enough length!!");
    assert_int_equal(gw_view_init(path), 0);
    gw_view_id("BoardOne_22chars-xxxxx", w1);
    assert_string_not_equal(v1, w1);
    assert_false(gw_view_is_view(v1, GW_VIEW_LEN));
    gw_view_shutdown();

    /* a secret that is too short is refused */
    write_secret(path, "short");
    assert_int_equal(gw_view_init(path), -1);
    gw_view_shutdown();
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_view_ids)};
    return cmocka_run_group_tests_name("gw_view", tests, NULL, NULL);
}
