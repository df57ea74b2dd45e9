/* wk_fold: the model of wb_apply_batch() and the in-order reference.
 * Any thread, one fold per thread. Owns its stroke and log arrays; stroke
 * ids are copied, the ids returned point into the fold or the given ops. */
#include "wk_fold.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void wk_fold_init(wk_fold *f)
{
    memset(f, 0, sizeof *f);
}

void wk_fold_free(wk_fold *f)
{
    free(f->s);
    free(f->log);
    memset(f, 0, sizeof *f);
}

static wk_fold_stroke *find(wk_fold *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->s[i].id, id)) return &f->s[i];
    return NULL;
}

/* The row for id, created as a placeholder if missing (INSERT ... ON CONFLICT). */
static wk_fold_stroke *upsert(wk_fold *f, const char *id)
{
    wk_fold_stroke *s = find(f, id);
    if (s) return s;
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        wk_fold_stroke *v = realloc(f->s, cap * sizeof *v);
        if (!v) return NULL;
        f->s = v;
        f->cap = cap;
    }
    s = &f->s[f->n++];
    memset(s, 0, sizeof *s);
    strncpy(s->id, id, sizeof s->id - 1);
    return s;
}

/* 1: logged now, 0: already logged under this seq (redelivery), -1 other seq
 * or other op at this seq (skipped), -2 OOM. */
static int log_op(wk_fold *f, const wk_fop *op)
{
    for (size_t i = 0; i < f->nlog; i++) {
        if (f->log[i].seq == op->seq) return strcmp(f->log[i].op_id, op->op_id) ? -1 : 0;
        if (!strcmp(f->log[i].op_id, op->op_id)) return -1;
    }
    if (f->nlog == f->caplog) {
        size_t cap = f->caplog ? 2 * f->caplog : 64;
        wk_fold_log *v = realloc(f->log, cap * sizeof *v);
        if (!v) return -2;
        f->log = v;
        f->caplog = cap;
    }
    wk_fold_log *l = &f->log[f->nlog++];
    memset(l, 0, sizeof *l);
    strncpy(l->op_id, op->op_id, sizeof l->op_id - 1);
    l->seq = op->seq;
    return 1;
}

static int cmp_seq(const void *a, const void *b)
{
    const wk_fop *x = *(const wk_fop *const *)a, *y = *(const wk_fop *const *)b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

int wk_fold_apply_batch(wk_fold *f, const wk_fop *ops, size_t n)
{
    /* The SQL inserts the log in seq order, then applies every op present in
     * the log under its own seq (new or redelivered). */
    const wk_fop **sorted = malloc((n ? n : 1) * sizeof *sorted);
    bool *apply = calloc(n ? n : 1, sizeof *apply);
    int logged = -1;
    if (!sorted || !apply) goto out;
    for (size_t i = 0; i < n; i++)
        sorted[i] = &ops[i];
    qsort(sorted, n, sizeof *sorted, cmp_seq);
    logged = 0;
    for (size_t i = 0; i < n; i++) {
        int r = log_op(f, sorted[i]);
        if (r == -2) {
            logged = -1;
            goto out;
        }
        if (r == 1) logged++;
        apply[i] = r >= 0;
    }
    for (size_t i = 0; i < n; i++) {
        const wk_fop *op = sorted[i];
        if (!apply[i]) continue;
        if (op->kind == 1) {
            wk_fold_stroke *s = upsert(f, op->sid);
            if (!s) {
                logged = -1;
                goto out;
            }
            if (s->add_seq == 0 || s->add_seq > op->seq) s->add_seq = op->seq;
        } else if (op->kind == 2 || op->kind == 3) {
            for (size_t k = 0; k < op->n_ids; k++) {
                wk_fold_stroke *s = upsert(f, op->ids[k]);
                if (!s) {
                    logged = -1;
                    goto out;
                }
                if (op->seq > s->vis_seq) {
                    s->vis_seq = op->seq;
                    s->vis_hidden = op->kind == 2;
                }
            }
        } else if (op->kind == 4) {
            if (op->seq > f->max_clear_seq) f->max_clear_seq = op->seq;
        }
    }
out:
    free(sorted);
    free(apply);
    return logged;
}

bool wk_fold_visible(const wk_fold_stroke *s, uint64_t max_clear_seq)
{
    if (!s->add_seq) return false;
    bool h = false;
    uint64_t c = 0;
    if (s->vis_seq > s->add_seq) {
        c = s->vis_seq;
        h = s->vis_hidden;
    }
    if (max_clear_seq > s->add_seq && max_clear_seq > c) h = true;
    return !h;
}

static int cmp_add(const void *a, const void *b)
{
    const wk_fold_stroke *x = *(const wk_fold_stroke *const *)a,
                         *y = *(const wk_fold_stroke *const *)b;
    return (x->add_seq > y->add_seq) - (x->add_seq < y->add_seq);
}

size_t wk_fold_visible_ids(const wk_fold *f, const char **out, size_t cap)
{
    const wk_fold_stroke **v = malloc((f->n ? f->n : 1) * sizeof *v);
    size_t k = 0;
    if (!v) return 0;
    for (size_t i = 0; i < f->n; i++)
        if (wk_fold_visible(&f->s[i], f->max_clear_seq)) v[k++] = &f->s[i];
    qsort(v, k, sizeof *v, cmp_add);
    size_t m = k < cap ? k : cap;
    for (size_t i = 0; i < m; i++)
        out[i] = v[i]->id;
    free(v);
    return m;
}

size_t wk_fold_reference(const wk_fop *ops, size_t n, const char **out, size_t cap)
{
    const wk_fop **sorted = malloc((n ? n : 1) * sizeof *sorted);
    const char **list = malloc((n ? n : 1) * sizeof *list);
    bool *hidden = calloc(n ? n : 1, sizeof *hidden);
    size_t nl = 0, m = (size_t)-1;
    if (!sorted || !list || !hidden) goto out;
    for (size_t i = 0; i < n; i++)
        sorted[i] = &ops[i];
    qsort(sorted, n, sizeof *sorted, cmp_seq);
    for (size_t i = 0; i < n; i++) {
        const wk_fop *op = sorted[i];
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = !strcmp(sorted[j]->op_id, op->op_id);
        if (dup) continue;
        if (op->kind == 1) {
            bool exists = false;
            for (size_t j = 0; j < nl && !exists; j++)
                exists = !strcmp(list[j], op->sid);
            if (!exists) {
                hidden[nl] = false;
                list[nl++] = op->sid;
            }
        } else if (op->kind == 2 || op->kind == 3) {
            for (size_t k = 0; k < op->n_ids; k++)
                for (size_t j = 0; j < nl; j++)
                    if (!strcmp(list[j], op->ids[k])) hidden[j] = op->kind == 2;
        } else if (op->kind == 4) {
            for (size_t j = 0; j < nl; j++)
                hidden[j] = true;
        }
    }
    m = 0;
    for (size_t j = 0; j < nl && m < cap; j++)
        if (!hidden[j]) out[m++] = list[j];
out:
    free(sorted);
    free(list);
    free(hidden);
    return m;
}
