/* wb_map: string -> pointer hash map (open addressing, linear probing,
 * backward-shift deletion). Keys are copied and owned by the map; values are
 * not. Not thread-safe: each map belongs to one thread. */
#ifndef WB_MAP_H
#define WB_MAP_H

#include <stddef.h>

typedef struct wb_map_slot {
    char *key; /* NULL: empty */
    size_t klen;
    unsigned long hash;
    void *val;
} wb_map_slot;

typedef struct wb_map {
    wb_map_slot *slots;
    size_t cap; /* power of two */
    size_t count;
} wb_map;

void wb_map_init(wb_map *m);
/* Frees the keys and the table, not the values. */
void wb_map_free(wb_map *m);
void *wb_map_get(const wb_map *m, const char *key, size_t klen);
/* Inserts or replaces. Returns 0, or -1 when out of memory. */
int wb_map_put(wb_map *m, const char *key, size_t klen, void *val);
/* Removes and returns the value (NULL if absent). */
void *wb_map_del(wb_map *m, const char *key, size_t klen);

/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].key) ... */

#endif
