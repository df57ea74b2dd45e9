/* wb_config: configuration as one declarative table per program.
 *
 * Each item names a setting once: its flag (--name), its environment
 * variable, its type, its default and its bounds. wb_config_load() fills the
 * destinations from defaults, then the environment, then the command line,
 * validates every value and logs what is wrong; wb_config_print() logs the
 * effective configuration once at start. Main thread only, before any other
 * thread starts. */
#ifndef WB_CONFIG_H
#define WB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { WB_CFG_STR, WB_CFG_INT, WB_CFG_BOOL, WB_CFG_DOUBLE, WB_CFG_LIST } wb_cfg_type;

/* WB_CFG_LIST: every occurrence of the flag (and a non-empty env value or
 * default) appends one string; more than WB_CFG_LIST_MAX is an error. */
#define WB_CFG_LIST_MAX 16
typedef struct wb_cfg_list {
    const char *v[WB_CFG_LIST_MAX];
    int n;
} wb_cfg_list;

typedef struct wb_cfg_item {
    const char *name; /* flag without dashes, e.g. "port" */
    const char *env;  /* environment variable, e.g. "WB_PORT" */
    wb_cfg_type type;
    const char *def; /* default, as text ("" for an empty string) */
    long long min;   /* WB_CFG_INT and WB_CFG_DOUBLE bounds (inclusive) */
    long long max;
    void *dst; /* char ** (STR, points into env/argv/def: do not free), long long * (INT), bool *
                  (BOOL), double * (DOUBLE), wb_cfg_list * (LIST, strings as for STR) */
    const char *help;
} wb_cfg_item;

/* Returns 0, or -1 after logging every invalid value. "--help" prints usage
 * and returns 1. */
int wb_config_load(const wb_cfg_item *items, size_t n, int argc, char **argv, const char *prog);

/* Logs "config name=value ..." once. */
void wb_config_print(const wb_cfg_item *items, size_t n);

#endif
