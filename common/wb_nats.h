/* wb_nats: NATS names and set-up shared by the gateway and the worker:
 * subjects, the WB_OPS stream definition (ensured idempotently), and the
 * connection options both use. Any thread (nats.c is thread-safe). */
#ifndef WB_NATS_H
#define WB_NATS_H

#include <nats/nats.h>
#include <stddef.h>

#define WB_STREAM "WB_OPS"
#define WB_SUBJ_EV_ALL "wb.board.*.ev"
#define WB_SUBJ_SNAPSHOT "wb.snapshot"
#define WB_SNAPSHOT_QUEUE "wb-workers"
#define WB_DUP_WINDOW_SEC 600 /* default of the dedup window (dedup-window-s) */
#define WB_OPIDS_STREAM "WB_OPIDS"
#define WB_SUBJ_OPID_ALL "wb.opid.*.*"
#define WB_NATS_WRITE_DEADLINE_MS                                                                  \
    1000 /* a socket write to NATS gives up after this (wb_nats_options) */

/* "wb.board.{board}.ev", "wb.board.{board}.live", "wb.rp.{board}". The board
 * id MUST have been validated (wb_valid_id) before a subject is built. */
void wb_subj_ev(char *out, size_t n, const char *board);
void wb_subj_live(char *out, size_t n, const char *board);
void wb_subj_rp(char *out, size_t n, const char *board);
/* Extracts the board id from "wb.rp.{board}" or "wb.board.{board}.*" into
 * out[65]. Returns 0, or -1 if the subject is not one of ours. */
int wb_subj_board(const char *subj, char *out);

/* "wb.opid.{board}.{op}": the claim of an op id (its payload: the seq that
 * first stored it, in decimal). Both ids MUST have been validated. */
void wb_subj_opid(char *out, size_t n, const char *board, const char *op);

/* The limits of stream WB_OPS (the same settings in gateway and worker). */
typedef struct wb_stream_limits {
    long long max_age_s;      /* 0: keep ops forever */
    long long max_bytes;      /* 0: no byte limit */
    long long max_msg_size;   /* bytes of one stored op */
    long long dedup_window_s; /* JetStream duplicate window (Nats-Msg-Id) */
    long long replicas;       /* 1, or 3 on a 3-node cluster (every program the same) */
} wb_stream_limits;

/* Creates or updates stream WB_OPS (file storage, RePublish to wb.rp.{board},
 * dedup window, direct get, the limits, atomic batch publish) and stream
 * WB_OPIDS (one claim per op id, first writer wins, kept forever); a stream
 * already as wanted is not written. The one owner of both streams' config
 * (gateway and worker call it). Returns 0 or -1. */
int wb_nats_stream_ensure(natsConnection *nc, jsCtx *js, const wb_stream_limits *lim);

/* The NATS user of this process (its role: gateway, worker) and the file
 * holding its password. Called once at start, before any connection; an
 * empty user connects without credentials. The password is read when a
 * connection is set up and never logged. */
void wb_nats_set_auth(const char *user, const char *password_file);

/* Options shared by every connection: url (one URL, or a comma-separated list
 * of every cluster node's URL), name, endless reconnects every
 * 250 ms, pings every 2 s. The caller adds callbacks (and, if it wants, retry
 * on a failed first connect) and destroys the options. Returns NULL on
 * failure (logged). */
#define WB_NATS_MAX_SERVERS 16
natsOptions *wb_nats_options(const char *url, const char *name);

#endif
