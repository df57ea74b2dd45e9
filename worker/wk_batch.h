/* wk_batch: turns a batch of JetStream messages (wb.v1.Op protobuf) into the
 * 55 text-array parameters of wb_apply_batch() (migrations/0002, extended by
 * 0005_elements for shapes, texts and updates), so a whole
 * batch is written with one statement and one round trip.
 *
 * Pure code (no I/O): unit-tested by worker/batch_test.c. Used by the
 * persistence thread only; a wk_batch is not shared between threads.
 * Also holds the small helpers shared by the worker: a growable buffer,
 * id/UTF-8 validation and the compact points encoding stored in
 * strokes.points (Stroke.points as packed zig-zag varints). */
#ifndef WK_BATCH_H
#define WK_BATCH_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Growable byte buffer, always NUL-terminated when len > 0. */
typedef struct wk_buf {
    char *p;
    size_t len, cap;
} wk_buf;

int wk_buf_reserve(wk_buf *b, size_t extra);
int wk_buf_append(wk_buf *b, const void *data, size_t n);
int wk_buf_puts(wk_buf *b, const char *s);
int wk_buf_printf(wk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wk_buf_reset(wk_buf *b);
void wk_buf_free(wk_buf *b);

/* [A-Za-z0-9_-]{1,64}: board, op and stroke ids (docs/protocol.md §1). */
bool wk_valid_id(const char *s);
/* Well-formed UTF-8 without NUL, at most max bytes. */
bool wk_valid_utf8(const char *s, size_t max);

/* Points as packed sint32 zig-zag varints (the body of a packed
 * Stroke.points field). Pack appends to out; unpack returns the number of
 * values written to vals (at most cap), or -1 on malformed input. */
int wk_points_pack(wk_buf *out, const int32_t *vals, size_t n);
long wk_points_unpack(const uint8_t *p, size_t len, int32_t *vals, size_t cap);
/* Number of values in a packed buffer (-1 if malformed). */
long wk_points_count(const uint8_t *p, size_t len);

/* Extracts {board} from "wb.board.{board}.ev" into out (65 bytes). */
int wk_subject_board(const char *subject, char out[65]);

#define WK_BATCH_NPARAMS 55

typedef struct wk_batch wk_batch;

wk_batch *wk_batch_create(void);
void wk_batch_destroy(wk_batch *b);
void wk_batch_reset(wk_batch *b);

typedef enum { WK_ADD_OP = 0, WK_ADD_DEAD = 1, WK_ADD_NOMEM = -1 } wk_add_rc;

/* Adds one stream message (stream_seq, subject, raw payload). A valid Op goes
 * to the ops/strokes/visibility arrays and *time_ms gets Op.time_ms; anything
 * else becomes a dead letter (kept with its reason, never applied). */
wk_add_rc wk_batch_add(wk_batch *b, uint64_t stream_seq, const char *subject, const void *data,
                       size_t len, int64_t *time_ms);

/* Adds a message as a dead letter with the given reason. */
wk_add_rc wk_batch_add_dead(wk_batch *b, uint64_t stream_seq, const char *subject, const void *data,
                            size_t len, const char *reason);

size_t wk_batch_nops(const wk_batch *b);
size_t wk_batch_ndead(const wk_batch *b);

/* Closes the arrays and fills values[0..54] with the parameter texts
 * ($1..$55 of wb_apply_batch). After this, only wk_batch_reset(). */
void wk_batch_params(wk_batch *b, const char *values[WK_BATCH_NPARAMS]);

#endif
