/* Unit test: wb_fold against the shared board-state vectors (tests/vectors/, one
 * JSON file each, docs/protocol.md §4). Each vector's ops go through the real codec
 * (client JSON -> wb_cmsg -> protobuf Op) and are folded in seq order, in
 * every delivery plan the vector lists, in every permutation (small vectors)
 * or many seeded shuffles, and with every op delivered twice; the visible
 * strokes, written as JSON, must equal the vector's "visible". */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wb_codec.h"
#include "wb_fold.h"

#ifndef WB_VECTORS_DIR
#define WB_VECTORS_DIR "tests/vectors"
#endif

#define MAX_OPS 64

/* One vector op, packed once; every fold run unpacks its own copy. */
typedef struct vec_op {
    uint64_t seq;
    uint8_t *data;
    size_t len;
} vec_op;

typedef struct vec {
    char name[128];
    vec_op ops[MAX_OPS];
    size_t n;
    json_t *visible; /* expected strokes */
    json_t *orders;  /* delivery plans: [[[seq...] batch...] plan...] */
} vec;

static const char *vectors_dir(void)
{
    const char *d = getenv("WB_VECTORS_DIR");
    return d && *d ? d : WB_VECTORS_DIR;
}

/* An ev object of the vector as the client message that produced it, packed as an Op. */
static void pack_ev(const json_t *ev, vec_op *out)
{
    json_t *msg = json_object();
    json_object_set(msg, "t", json_object_get(ev, "kind"));
    json_object_set(msg, "op", json_object_get(ev, "op"));
    static const char *const keys[] = {"stroke", "shape", "text", "id", "set"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        if (json_object_get(ev, keys[k]))
            json_object_set(msg, keys[k], json_object_get(ev, keys[k]));
    if (json_object_get(ev, "ids")) json_object_set(msg, "ids", json_object_get(ev, "ids"));
    wb_cmsg m;
    char err[160];
    wb_errcode e = wb_cmsg_parse(msg, &m, err, sizeof err);
    if (e != WB_E_NONE) fail_msg("vector op does not parse: %s", err);
    assert_true(wb_ctype_durable(m.type));
    const char *from = json_string_value(json_object_get(ev, "from"));
    assert_int_equal(wb_op_pack(&m, "vec", from ? from : "c1", "gw-t", 0, &out->data, &out->len),
                     0);
    out->seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
    assert_true(out->seq > 0);
    wb_cmsg_clear(&m);
    json_decref(msg);
}

static void vec_load(vec *v, const char *path)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) fail_msg("%s: %s (line %d)", path, jerr.text, jerr.line);
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", json_string_value(json_object_get(root, "name")));
    const json_t *ops = json_object_get(root, "ops");
    assert_true(json_is_array(ops));
    assert_true(json_array_size(ops) <= MAX_OPS);
    size_t i;
    const json_t *ev;
    json_array_foreach(ops, i, ev)
    {
        pack_ev(ev, &v->ops[i]);
        if (i) assert_true(v->ops[i].seq > v->ops[i - 1].seq); /* listed in seq order */
        v->n = i + 1;
    }
    v->visible = json_incref(json_object_get(root, "visible"));
    v->orders = json_incref(json_object_get(root, "orders"));
    assert_true(json_is_array(v->visible));
    assert_true(json_is_array(v->orders));
    json_decref(root);
}

static void vec_free(vec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->ops[i].data);
    json_decref(v->visible);
    json_decref(v->orders);
}

static size_t index_of_seq(const vec *v, uint64_t seq)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->ops[i].seq == seq) return i;
    fail_msg("vector %s: a plan names seq %llu, which no op has", v->name, (unsigned long long)seq);
    return 0;
}

/* Folds the ops at idx[0..n) in that order; the visible strokes must be the expected ones. */
static void check_order(const vec *v, const size_t *idx, size_t n, const char *what)
{
    wb_fold f;
    wb_fold_init(&f);
    for (size_t i = 0; i < n; i++) {
        const vec_op *o = &v->ops[idx[i]];
        Wb__V1__Op *op = wb__v1__op__unpack(NULL, o->len, o->data);
        assert_non_null(op);
        assert_int_equal(wb_fold_own(&f, &op->base), 0);
        assert_int_equal(wb_fold_apply(&f, o->seq, op), 0);
    }
    wb_jw w;
    wb_jw_init(&w, 0, 256);
    wb_fold_json_strokes(&f, &w);
    assert_false(w.oom);
    json_error_t jerr;
    json_t *got = json_loadb(wb_jw_text(&w), w.len, 0, &jerr);
    assert_non_null(got);
    if (!json_equal(got, v->visible)) {
        char *g = json_dumps(got, JSON_COMPACT), *e = json_dumps(v->visible, JSON_COMPACT);
        fail_msg("vector %s (%s):\n  got      %s\n  expected %s", v->name, what, g, e);
    }
    assert_int_equal(wb_fold_count_visible(&f), json_array_size(v->visible));
    json_decref(got);
    wb_jw_free(&w);
    wb_fold_free(&f);
}

/* Copies group g of src into dst (the merged Update of a snapshot record). */
static void copy_group(Wb__V1__Update *dst, const Wb__V1__Update *src, wb_group g)
{
    switch (g) {
    case WB_G_POINTS:
        dst->has_points = true;
        dst->points = src->points;
        dst->n_points = src->n_points;
        break;
    case WB_G_BOX:
        dst->has_box = true;
        dst->x1 = src->x1;
        dst->y1 = src->y1;
        dst->x2 = src->x2;
        dst->y2 = src->y2;
        break;
    case WB_G_POS:
        dst->has_pos = true;
        dst->x = src->x;
        dst->y = src->y;
        break;
    case WB_G_SIZE:
        dst->has_size = true;
        dst->size = src->size;
        break;
    case WB_G_TEXT:
        dst->has_text = true;
        dst->text = src->text;
        break;
    case WB_G_COLOR:
        dst->has_color = true;
        dst->color = src->color;
        break;
    case WB_G_WIDTH:
        dst->has_width = true;
        dst->width = src->width;
        break;
    case WB_G_FILL:
        dst->has_fill = true;
        dst->no_fill = src->no_fill;
        dst->fill = src->fill;
        break;
    default:
        break;
    }
}

/* What a gateway does with a worker snapshot: the records of the ops up to a
 * cut (built the way the worker stores them: base, vis, the newest value and
 * seq per field group), merged with the ops after the cut, for every cut. */
static void check_records(const vec *v)
{
    for (size_t cut = 0; cut <= v->n; cut++) {
        wb_fold head, f;
        wb_fold_init(&head);
        wb_fold_init(&f);
        for (size_t i = 0; i < cut; i++) {
            Wb__V1__Op *op = wb__v1__op__unpack(NULL, v->ops[i].len, v->ops[i].data);
            assert_non_null(op);
            assert_int_equal(wb_fold_own(&head, &op->base), 0);
            assert_int_equal(wb_fold_apply(&head, v->ops[i].seq, op), 0);
        }
        Wb__V1__SnapStroke *ss = calloc(head.n + 1, sizeof *ss);
        Wb__V1__Update *up = calloc(head.n + 1, sizeof *up);
        Wb__V1__GroupSeqs *gs = calloc(head.n + 1, sizeof *gs);
        assert_true(ss && up && gs);
        for (size_t i = 0; i < head.n; i++) {
            const wb_fstroke *e = &head.strokes[i];
            wb__v1__snap_stroke__init(&ss[i]);
            ss[i].stroke = (Wb__V1__Stroke *)e->s;
            ss[i].shape = (Wb__V1__Shape *)e->shape;
            ss[i].text = (Wb__V1__Text *)e->text;
            ss[i].add_seq = e->add_seq;
            ss[i].vis_seq = e->vis_seq;
            ss[i].vis_hidden = e->vis_hidden;
            if (!e->upd) continue;
            wb__v1__update__init(&up[i]);
            wb__v1__group_seqs__init(&gs[i]);
            uint64_t *seqs[WB_G__COUNT] = {&gs[i].points, &gs[i].box,   &gs[i].pos,   &gs[i].size,
                                           &gs[i].text,   &gs[i].color, &gs[i].width, &gs[i].fill};
            for (int g = 0; g < WB_G__COUNT; g++) {
                if (!e->upd->seq[g]) continue;
                up[i].id = e->upd->val[g]->id;
                copy_group(&up[i], e->upd->val[g], (wb_group)g);
                *seqs[g] = e->upd->seq[g];
            }
            ss[i].upd = &up[i];
            ss[i].upd_seqs = &gs[i];
        }
        for (size_t i = 0; i < head.n; i++) {
            const wb_fstroke *e = &head.strokes[i];
            if (!e->s && !e->shape && !e->text) continue; /* the worker sends added ones only */
            assert_int_equal(wb_fold_add_snap(&f, &ss[i]), 0);
        }
        wb_fold_clear_at(&f, head.max_clear_seq);
        for (size_t i = cut; i < v->n; i++) {
            Wb__V1__Op *op = wb__v1__op__unpack(NULL, v->ops[i].len, v->ops[i].data);
            assert_non_null(op);
            assert_int_equal(wb_fold_own(&f, &op->base), 0);
            assert_int_equal(wb_fold_apply(&f, v->ops[i].seq, op), 0);
        }
        wb_jw w;
        wb_jw_init(&w, 0, 256);
        wb_fold_json_strokes(&f, &w);
        json_t *got = json_loadb(wb_jw_text(&w), w.len, 0, NULL);
        assert_non_null(got);
        if (!json_equal(got, v->visible)) {
            char *g = json_dumps(got, JSON_COMPACT), *e = json_dumps(v->visible, JSON_COMPACT);
            fail_msg("vector %s (records up to op %zu + replay):\n  got      %s\n  expected %s",
                     v->name, cut, g, e);
        }
        json_decref(got);
        wb_jw_free(&w);
        wb_fold_free(&f); /* before head: f points into head's ops */
        wb_fold_free(&head);
        free(ss);
        free(up);
        free(gs);
    }
}

static void check_vector(const vec *v)
{
    size_t idx[4 * MAX_OPS];
    for (size_t i = 0; i < v->n; i++)
        idx[i] = i;
    check_order(v, idx, v->n, "seq order");

    /* The vector's own delivery plans: batches in commit order, with redelivery.
     * Every op must be delivered at least once in each plan. */
    size_t p;
    const json_t *plan;
    json_array_foreach(v->orders, p, plan)
    {
        size_t n = 0, b, k;
        bool seen[MAX_OPS] = {false};
        const json_t *batch, *seq;
        json_array_foreach(plan, b, batch)
        {
            json_array_foreach(batch, k, seq)
            {
                assert_true(n < sizeof idx / sizeof *idx);
                idx[n] = index_of_seq(v, (uint64_t)json_integer_value(seq));
                seen[idx[n++]] = true;
            }
        }
        for (size_t i = 0; i < v->n; i++)
            if (!seen[i]) fail_msg("vector %s: plan %zu never delivers op %zu", v->name, p, i);
        char what[32];
        snprintf(what, sizeof what, "plan %zu", p);
        check_order(v, idx, n, what);
    }

    /* Seeded shuffles (every permutation is too many past 6 ops). */
    unsigned seed = 12345;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < v->n; i++)
            idx[i] = i;
        for (size_t i = v->n - 1; i > 0; i--) {
            seed = seed * 1103515245u + 12345u;
            size_t j = (seed >> 8) % (i + 1);
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        check_order(v, idx, v->n, "shuffle");
    }

    /* Every op twice: newest first, then in seq order. */
    for (size_t i = 0; i < v->n; i++) {
        idx[i] = v->n - 1 - i;
        idx[v->n + i] = i;
    }
    check_order(v, idx, 2 * v->n, "every op twice");
    check_records(v);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_json(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

static void test_vectors(void **st)
{
    struct dirent **names;
    int n = scandir(vectors_dir(), &names, is_json, by_name);
    if (n < 0) fail_msg("cannot read the vectors in %s", vectors_dir());
    assert_true(n >= 10); /* the shared set, not an empty directory */
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", vectors_dir(), names[i]->d_name);
        vec *v = malloc(sizeof *v);
        assert_non_null(v);
        vec_load(v, path);
        check_vector(v);
        vec_free(v);
        free(v);
        free(names[i]);
    }
    free(names);
}

/* A snapshot record from the worker merges like the ops it stands for. */
static void test_snapshot_records_merge(void **st)
{
    vec v;
    char path[1024];
    snprintf(path, sizeof path, "%s/restore_after_clear.json", vectors_dir());
    vec_load(&v, path);
    /* The worker's view after seqs 1..3 (three strokes, nothing hidden),
     * merged with the clear (4) and the restore (5) from a stream replay. */
    wb_fold f;
    wb_fold_init(&f);
    for (size_t i = 0; i < v.n; i++) {
        Wb__V1__Op *op = wb__v1__op__unpack(NULL, v.ops[i].len, v.ops[i].data);
        assert_non_null(op);
        assert_int_equal(wb_fold_own(&f, &op->base), 0);
        if (op->kind == WB__V1__KIND__KIND_STROKE) {
            Wb__V1__SnapStroke ss = WB__V1__SNAP_STROKE__INIT;
            ss.stroke = op->stroke;
            ss.add_seq = v.ops[i].seq;
            assert_int_equal(wb_fold_add_snap(&f, &ss), 0);
        } else {
            assert_int_equal(wb_fold_apply(&f, v.ops[i].seq, op), 0);
        }
    }
    wb_jw w;
    wb_jw_init(&w, 0, 256);
    wb_fold_json_strokes(&f, &w);
    json_t *got = json_loadb(wb_jw_text(&w), w.len, 0, NULL);
    assert_true(json_equal(got, v.visible));
    json_decref(got);
    wb_jw_free(&w);
    wb_fold_free(&f);
    vec_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_snapshot_records_merge),
    };
    return cmocka_run_group_tests_name("fold_vectors", tests, NULL, NULL);
}
