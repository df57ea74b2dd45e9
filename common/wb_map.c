/* wb_map: open-addressing string map (see wb_map.h). Owner's thread only. */
#include "wb_map.h"

#include <stdlib.h>
#include <string.h>

static unsigned long hash_key(const char *k, size_t n)
{
    unsigned long h = 1469598103934665603ul;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ul;
    return h;
}

void wb_map_init(wb_map *m)
{
    memset(m, 0, sizeof *m);
}

void wb_map_free(wb_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static wb_map_slot *find(const wb_map *m, const char *key, size_t klen, unsigned long h)
{
    if (!m->cap) return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        wb_map_slot *s = &m->slots[i];
        if (!s->key) return s;
        if (s->hash == h && s->klen == klen && !memcmp(s->key, key, klen)) return s;
    }
}

void *wb_map_get(const wb_map *m, const char *key, size_t klen)
{
    wb_map_slot *s = find(m, key, klen, hash_key(key, klen));
    return s && s->key ? s->val : NULL;
}

static int grow(wb_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    wb_map_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        wb_map_slot *o = &m->slots[i];
        if (!o->key) continue;
        size_t j = o->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *o;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int wb_map_put(wb_map *m, const char *key, size_t klen, void *val)
{
    if ((m->count + 1) * 4 > m->cap * 3 && grow(m) < 0) return -1;
    unsigned long h = hash_key(key, klen);
    wb_map_slot *s = find(m, key, klen, h);
    if (s->key) {
        s->val = val;
        return 0;
    }
    char *k = malloc(klen + 1);
    if (!k) return -1;
    memcpy(k, key, klen);
    k[klen] = 0;
    s->key = k;
    s->klen = klen;
    s->hash = h;
    s->val = val;
    m->count++;
    return 0;
}

void *wb_map_del(wb_map *m, const char *key, size_t klen)
{
    unsigned long h = hash_key(key, klen);
    wb_map_slot *s = find(m, key, klen, h);
    if (!s || !s->key) return NULL;
    void *val = s->val;
    free(s->key);
    s->key = NULL;
    m->count--;
    /* Backward-shift the following cluster so lookups never need tombstones. */
    size_t i = (size_t)(s - m->slots);
    for (size_t j = (i + 1) & (m->cap - 1); m->slots[j].key; j = (j + 1) & (m->cap - 1)) {
        size_t home = m->slots[j].hash & (m->cap - 1);
        /* Move j into the hole at i if its home is not in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            m->slots[i] = m->slots[j];
            m->slots[j].key = NULL;
            i = j;
        }
    }
    return val;
}

void wb_map_iter_init(wb_map_iter *it, wb_map *m)
{
    it->m = m;
    it->start = 0;
    it->step = 0;
    it->cur = NULL;
    /* The load factor stays <= 3/4, so an empty slot exists. Deletions never
     * fill it (backward shift stops at the first empty slot), so entries only
     * ever move from later slots (in iteration order) to earlier ones. */
    while (m->cap && m->slots[it->start].key)
        it->start++;
}

int wb_map_next(wb_map_iter *it, wb_map_entry *e)
{
    wb_map *m = it->m;
    if (!m->cap) return 0;
    size_t mask = m->cap - 1;
    if (it->cur) {
        /* If the last entry was removed, its slot holds the next cluster
         * entry shifted back into it (or nothing): look at it again. */
        if (m->slots[(it->start + it->step) & mask].key == it->cur) it->step++;
        it->cur = NULL;
    } else if (it->step == 0) {
        it->step = 1;
    }
    for (; it->step < m->cap; it->step++) {
        wb_map_slot *s = &m->slots[(it->start + it->step) & mask];
        if (!s->key) continue;
        it->cur = s->key;
        e->key = s->key;
        e->klen = s->klen;
        e->val = s->val;
        return 1;
    }
    return 0;
}

void *wb_map_iter_del(wb_map_iter *it)
{
    if (!it->cur) return NULL;
    wb_map_slot *s = &it->m->slots[(it->start + it->step) & (it->m->cap - 1)];
    return s->key == it->cur ? wb_map_del(it->m, s->key, s->klen) : NULL;
}
