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

/* Iteration, in no particular order:
 *
 *     wb_map_iter it;
 *     wb_map_entry e;
 *     for (wb_map_iter_init(&it, m); wb_map_next(&it, &e);)
 *         ... e.key, e.klen, e.val ...
 *
 * Contract (as redis adlist.c's listNext): while iterating, the caller may
 * remove the entry wb_map_next() returned last (wb_map_iter_del(), or
 * wb_map_del() with its key), and nothing else: removing another entry or
 * inserting (wb_map_put() may grow and rehash the table) invalidates the
 * iterator. Each entry present for the whole iteration is returned exactly
 * once. The key pointer is the map's own copy: valid until that entry is
 * removed. */
typedef struct wb_map_entry {
    const char *key;
    size_t klen;
    void *val;
} wb_map_entry;

typedef struct wb_map_iter {
    wb_map *m;
    size_t start;    /* an empty slot: no cluster of entries wraps across it */
    size_t step;     /* slots after start examined so far */
    const char *cur; /* key of the entry returned last (NULL: none) */
} wb_map_iter;

void wb_map_iter_init(wb_map_iter *it, wb_map *m);
/* Fills e with the next entry; returns 0 at the end. */
int wb_map_next(wb_map_iter *it, wb_map_entry *e);
/* Removes the entry returned last and returns its value. */
void *wb_map_iter_del(wb_map_iter *it);

#endif
