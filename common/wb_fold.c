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
    for (size_t i = 0; i < f->n; i++)
        free(f->strokes[i].upd);
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

static bool has_base(const wb_fstroke *s)
{
    return s->s || s->shape || s->text;
}

/* An add of one element (exactly one of st, sh, tx), whatever its type: the
 * first add of an id wins. */
static int add_elem(wb_fold *f, uint64_t seq, const char *id, const Wb__V1__Stroke *st,
                    const Wb__V1__Shape *sh, const Wb__V1__Text *tx)
{
    wb_fstroke *s = slot(f, id);
    if (!s) return -1;
    if (!has_base(s) || seq < s->add_seq) {
        s->s = st;
        s->shape = sh;
        s->text = tx;
        s->add_seq = seq;
    }
    return 0;
}

/* The groups of u, each at its seq (seqs: a snapshot record's per-group seqs;
 * NULL: all at seq). Per group, the update with the largest seq wins. */
static int apply_update(wb_fold *f, uint64_t seq, const Wb__V1__Update *u,
                        const Wb__V1__GroupSeqs *seqs)
{
    if (!u->id || !*u->id) return 0;
    wb_fstroke *s = slot(f, u->id);
    if (!s) return -1;
    if (!s->upd && !(s->upd = calloc(1, sizeof *s->upd))) return -1;
    unsigned groups = wb_update_groups(u);
    uint64_t at[WB_G__COUNT] = {0};
    if (seqs) {
        at[WB_G_POINTS] = seqs->points;
        at[WB_G_BOX] = seqs->box;
        at[WB_G_POS] = seqs->pos;
        at[WB_G_SIZE] = seqs->size;
        at[WB_G_TEXT] = seqs->text;
        at[WB_G_COLOR] = seqs->color;
        at[WB_G_WIDTH] = seqs->width;
        at[WB_G_FILL] = seqs->fill;
    }
    for (int g = 0; g < WB_G__COUNT; g++) {
        uint64_t q = seqs ? at[g] : seq;
        if ((groups & (1u << g)) && q > s->upd->seq[g]) {
            s->upd->seq[g] = q;
            s->upd->val[g] = u;
        }
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
        return op->stroke ? add_elem(f, seq, op->stroke->id, op->stroke, NULL, NULL) : 0;
    case WB__V1__KIND__KIND_SHAPE:
        return op->shape ? add_elem(f, seq, op->shape->id, NULL, op->shape, NULL) : 0;
    case WB__V1__KIND__KIND_TEXT:
        return op->text ? add_elem(f, seq, op->text->id, NULL, NULL, op->text) : 0;
    case WB__V1__KIND__KIND_UPDATE:
        return op->update ? apply_update(f, seq, op->update, NULL) : 0;
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
    const char *id = ss->stroke  ? ss->stroke->id
                     : ss->shape ? ss->shape->id
                     : ss->text  ? ss->text->id
                     : ss->upd   ? ss->upd->id
                                 : NULL;
    if (!id || !*id) return 0;
    /* From NATS: a record that breaks the protocol's rules is left out. */
    if ((ss->shape && wb_shape_check(ss->shape) < 0) ||
        (ss->text && wb_text_check(ss->text, false) < 0) ||
        (ss->upd && wb_update_check(ss->upd, false) < 0))
        return 0;
    if (ss->add_seq && (ss->stroke || ss->shape || ss->text) &&
        add_elem(f, ss->add_seq, id, ss->stroke, ss->stroke ? NULL : ss->shape,
                 ss->stroke || ss->shape ? NULL : ss->text) < 0)
        return -1;
    if (ss->vis_seq && set_vis(f, ss->vis_seq, id, ss->vis_hidden) < 0) return -1;
    if (ss->upd && ss->upd_seqs) {
        if (strcmp(ss->upd->id ? ss->upd->id : "", id)) return 0; /* not this element's */
        if (apply_update(f, 0, ss->upd, ss->upd_seqs) < 0) return -1;
    }
    return 0;
}

bool wb_fold_visible(const wb_fold *f, const wb_fstroke *s)
{
    if (!has_base(s)) return false;
    bool hidden = false;
    uint64_t at = 0;
    if (s->vis_seq > s->add_seq) { /* an erase/restore before the add never applied */
        at = s->vis_seq;
        hidden = s->vis_hidden;
    }
    if (f->max_clear_seq > s->add_seq && f->max_clear_seq > at) hidden = true;
    return !hidden;
}

/* The value of group g that applies to s (an update after its add), or NULL. */
static const Wb__V1__Update *group(const wb_fstroke *s, wb_group g)
{
    if (!s->upd || s->upd->seq[g] <= s->add_seq) return NULL; /* before the add: never applied */
    return s->upd->val[g];
}

/* The element with its current values: a copy of its base with every group
 * that applies to its type put in (docs/protocol.md §4). */
static void write_current(wb_jw *w, const wb_fstroke *s)
{
    const Wb__V1__Update *u;
    if (s->s) {
        Wb__V1__Stroke c = *s->s;
        if ((u = group(s, WB_G_POINTS))) {
            c.points = u->points;
            c.n_points = u->n_points;
        }
        if ((u = group(s, WB_G_COLOR))) c.color = u->color;
        if ((u = group(s, WB_G_WIDTH))) c.width = u->width;
        wb_jw_stroke(w, &c);
    } else if (s->shape) {
        Wb__V1__Shape c = *s->shape;
        if ((u = group(s, WB_G_BOX))) {
            c.x1 = u->x1;
            c.y1 = u->y1;
            c.x2 = u->x2;
            c.y2 = u->y2;
        }
        if ((u = group(s, WB_G_COLOR))) c.color = u->color;
        if ((u = group(s, WB_G_WIDTH))) c.width = u->width;
        if ((u = group(s, WB_G_FILL))) {
            c.has_fill = !u->no_fill;
            c.fill = u->fill;
        }
        wb_jw_shape(w, &c);
    } else {
        Wb__V1__Text c = *s->text;
        if ((u = group(s, WB_G_POS))) {
            c.x = u->x;
            c.y = u->y;
        }
        if ((u = group(s, WB_G_SIZE))) c.size = u->size;
        if ((u = group(s, WB_G_TEXT))) c.text = u->text;
        if ((u = group(s, WB_G_COLOR))) c.color = u->color;
        wb_jw_textel(w, &c);
    }
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
        write_current(w, v[i]);
    }
    wb_jw_char(w, ']');
    free(v);
}
