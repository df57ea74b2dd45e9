/* wb_fold: order-independent board state (see wb_fold.h). One thread per fold. */
#include "wb_fold.h"

#include <stdlib.h>
#include <string.h>

#include "wb_codec.h"

void wb_fold_init(wb_fold *f)
{
    memset(f, 0, sizeof *f);
    wb_map_init(&f->index);
}

void wb_fold_free(wb_fold *f)
{
    for (size_t i = 0; i < f->nowned; i++)
        protobuf_c_message_free_unpacked(f->owned[i], NULL);
    free(f->owned);
    free(f->strokes);
    wb_map_free(&f->index);
    memset(f, 0, sizeof *f);
}

int wb_fold_own(wb_fold *f, ProtobufCMessage *msg)
{
    if (f->nowned == f->capowned) {
        size_t nc = f->capowned ? f->capowned * 2 : 16;
        ProtobufCMessage **no = realloc(f->owned, nc * sizeof *no);
        if (!no) return -1;
        f->owned = no;
        f->capowned = nc;
    }
    f->owned[f->nowned++] = msg;
    return 0;
}

static wb_fstroke *slot(wb_fold *f, const char *id)
{
    size_t len = strlen(id);
    uintptr_t k = (uintptr_t)wb_map_get(&f->index, id, len);
    if (k) return &f->strokes[k - 1];
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 64;
        wb_fstroke *ns = realloc(f->strokes, nc * sizeof *ns);
        if (!ns) return NULL;
        f->strokes = ns;
        f->cap = nc;
    }
    if (wb_map_put(&f->index, id, len, (void *)(uintptr_t)(f->n + 1)) < 0) return NULL;
    wb_fstroke *s = &f->strokes[f->n++];
    memset(s, 0, sizeof *s);
    return s;
}

static int add_stroke(wb_fold *f, uint64_t seq, const Wb__V1__Stroke *st)
{
    wb_fstroke *s = slot(f, st->id);
    if (!s) return -1;
    if (!s->s || seq < s->add_seq) { /* the first add wins */
        s->s = st;
        s->add_seq = seq;
    }
    return 0;
}

static int set_vis(wb_fold *f, uint64_t seq, const char *id, bool hidden)
{
    wb_fstroke *s = slot(f, id);
    if (!s) return -1;
    if (seq > s->vis_seq) {
        s->vis_seq = seq;
        s->vis_hidden = hidden;
    }
    return 0;
}

void wb_fold_clear_at(wb_fold *f, uint64_t seq)
{
    if (seq > f->max_clear_seq) f->max_clear_seq = seq;
}

int wb_fold_apply(wb_fold *f, uint64_t seq, const Wb__V1__Op *op)
{
    if (seq > f->seq) f->seq = seq;
    switch (op->kind) {
    case WB__V1__KIND__KIND_STROKE:
        return op->stroke ? add_stroke(f, seq, op->stroke) : 0;
    case WB__V1__KIND__KIND_ERASE:
    case WB__V1__KIND__KIND_RESTORE:
        for (size_t i = 0; i < op->n_ids; i++)
            if (set_vis(f, seq, op->ids[i], op->kind == WB__V1__KIND__KIND_ERASE) < 0) return -1;
        return 0;
    case WB__V1__KIND__KIND_CLEAR:
        wb_fold_clear_at(f, seq);
        return 0;
    default:
        return 0;
    }
}

int wb_fold_add_snap(wb_fold *f, const Wb__V1__SnapStroke *ss)
{
    if (!ss->stroke || !ss->stroke->id) return 0;
    if (ss->add_seq && add_stroke(f, ss->add_seq, ss->stroke) < 0) return -1;
    if (ss->vis_seq && set_vis(f, ss->vis_seq, ss->stroke->id, ss->vis_hidden) < 0) return -1;
    return 0;
}

bool wb_fold_visible(const wb_fold *f, const wb_fstroke *s)
{
    if (!s->s) return false;
    bool hidden = false;
    uint64_t at = 0;
    if (s->vis_seq > s->add_seq) { /* an erase/restore before the add never applied */
        at = s->vis_seq;
        hidden = s->vis_hidden;
    }
    if (f->max_clear_seq > s->add_seq && f->max_clear_seq > at) hidden = true;
    return !hidden;
}

static int by_add_seq(const void *a, const void *b)
{
    const wb_fstroke *x = *(const wb_fstroke *const *)a, *y = *(const wb_fstroke *const *)b;
    return x->add_seq < y->add_seq ? -1 : x->add_seq > y->add_seq;
}

size_t wb_fold_count_visible(const wb_fold *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += wb_fold_visible(f, &f->strokes[i]);
    return n;
}

void wb_fold_json_strokes(wb_fold *f, wb_jw *w)
{
    size_t n = 0;
    const wb_fstroke **v = malloc((f->n ? f->n : 1) * sizeof *v);
    if (!v) {
        w->oom = true;
        return;
    }
    for (size_t i = 0; i < f->n; i++)
        if (wb_fold_visible(f, &f->strokes[i])) v[n++] = &f->strokes[i];
    qsort(v, n, sizeof *v, by_add_seq);
    wb_jw_char(w, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) wb_jw_char(w, ',');
        wb_jw_stroke(w, v[i]->s);
    }
    wb_jw_char(w, ']');
    free(v);
}
