/* wb_config: fills a program's config table from defaults, env and flags.
 * Main thread, at start. Owns nothing: string values point into the
 * environment, argv or the table's defaults. */
#include "wb_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wb_log.h"

static int set_value(const wb_cfg_item *it, const char *val, const char *origin)
{
    switch (it->type) {
    case WB_CFG_STR:
        *(const char **)it->dst = val;
        return 0;
    case WB_CFG_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(val, &end, 10);
        if (errno || end == val || *end) {
            wb_error("config %s=%s (from %s): not an integer", it->name, val, origin);
            return -1;
        }
        if (v < it->min || v > it->max) {
            wb_error("config %s=%lld (from %s): out of range [%lld, %lld]", it->name, v, origin,
                     it->min, it->max);
            return -1;
        }
        *(long long *)it->dst = v;
        return 0;
    }
    case WB_CFG_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(val, &end);
        if (errno || end == val || *end || v != v) {
            wb_error("config %s=%s (from %s): not a number", it->name, val, origin);
            return -1;
        }
        if (v < (double)it->min || v > (double)it->max) {
            wb_error("config %s=%g (from %s): out of range [%lld, %lld]", it->name, v, origin,
                     it->min, it->max);
            return -1;
        }
        *(double *)it->dst = v;
        return 0;
    }
    case WB_CFG_LIST: {
        wb_cfg_list *l = it->dst;
        if (!*val) return 0;
        if (l->n >= WB_CFG_LIST_MAX) {
            wb_error("config %s=%s (from %s): more than %d values", it->name, val, origin,
                     WB_CFG_LIST_MAX);
            return -1;
        }
        l->v[l->n++] = val;
        return 0;
    }
    case WB_CFG_BOOL:
        if (!strcasecmp(val, "1") || !strcasecmp(val, "true") || !strcasecmp(val, "yes") ||
            !strcasecmp(val, "on")) {
            *(bool *)it->dst = true;
        } else if (!strcasecmp(val, "0") || !strcasecmp(val, "false") || !strcasecmp(val, "no") ||
                   !strcasecmp(val, "off") || !*val) {
            *(bool *)it->dst = false;
        } else {
            wb_error("config %s=%s (from %s): not a boolean", it->name, val, origin);
            return -1;
        }
        return 0;
    }
    return -1;
}

static void usage(const wb_cfg_item *items, size_t n, const char *prog)
{
    printf("usage: %s [--name=value ...]\n\n", prog);
    for (size_t i = 0; i < n; i++)
        printf("  --%-22s %-26s default %-12s %s\n", items[i].name, items[i].env,
               *items[i].def ? items[i].def : "\"\"", items[i].help);
}

int wb_config_load(const wb_cfg_item *items, size_t n, int argc, char **argv, const char *prog)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].type == WB_CFG_LIST) ((wb_cfg_list *)items[i].dst)->n = 0;
    for (size_t i = 0; i < n; i++)
        if (set_value(&items[i], items[i].def, "default") < 0) rc = -1;
    for (size_t i = 0; i < n; i++) {
        const char *v = items[i].env ? getenv(items[i].env) : NULL;
        if (v && set_value(&items[i], v, items[i].env) < 0) rc = -1;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(items, n, prog);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            wb_error("unexpected argument %s (try --help)", arg);
            rc = -1;
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const wb_cfg_item *it = NULL;
        for (size_t i = 0; i < n; i++)
            if (strlen(items[i].name) == len && !strncmp(items[i].name, name, len)) it = &items[i];
        if (!it) {
            wb_error("unknown option %s (try --help)", arg);
            rc = -1;
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val && it->type == WB_CFG_BOOL) val = "true";
        if (!val && a + 1 < argc) val = argv[++a];
        if (!val) {
            wb_error("option --%s needs a value", it->name);
            rc = -1;
            continue;
        }
        if (set_value(it, val, "flag") < 0) rc = -1;
    }
    return rc;
}

void wb_config_print(const wb_cfg_item *items, size_t n)
{
    char buf[1800];
    size_t off = 0;
    for (size_t i = 0; i < n && off < sizeof buf; i++) {
        const wb_cfg_item *it = &items[i];
        int w = 0;
        if (it->type == WB_CFG_STR)
            w = snprintf(buf + off, sizeof buf - off, " %s=%s", it->name, *(const char **)it->dst);
        else if (it->type == WB_CFG_INT)
            w = snprintf(buf + off, sizeof buf - off, " %s=%lld", it->name, *(long long *)it->dst);
        else if (it->type == WB_CFG_DOUBLE)
            w = snprintf(buf + off, sizeof buf - off, " %s=%g", it->name, *(double *)it->dst);
        else if (it->type == WB_CFG_LIST) {
            const wb_cfg_list *l = it->dst;
            for (int k = 0; k < l->n && w >= 0 && off + (size_t)w < sizeof buf; k++) {
                off += (size_t)w;
                w = snprintf(buf + off, sizeof buf - off, " %s=%s", it->name, l->v[k]);
            }
        } else
            w = snprintf(buf + off, sizeof buf - off, " %s=%s", it->name,
                         *(bool *)it->dst ? "true" : "false");
        if (w < 0) break;
        off += (size_t)w;
    }
    if (off >= sizeof buf) off = sizeof buf - 1;
    buf[off] = 0;
    wb_info("config%s", buf);
}
