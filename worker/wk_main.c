/* wb-worker: the persistence worker.
 *
 *   wb-worker [--option=value ...]          run (migrate, then persist + snapshots)
 *   wb-worker migrate [--option=value ...]  apply pending migrations and exit
 *
 * Main thread: start-up, then the persistence loop: pull up to WB_BATCH ops
 * (or wait WB_BATCH_WAIT_MS) from the durable pull consumer `wb-worker` (the
 * JetStream pull protocol on core NATS, wk_nats_pull),
 * write them with one wb_apply_batch() call (one transaction), and only after
 * the commit ack every message. A failed write is retried (reconnecting with
 * backoff, keeping the messages in progress); nothing is acked unwritten.
 * Other threads: snapshot responders (wk_snap), HTTP /healthz + /metrics
 * (wk_http, which also refreshes the consumer gauges every second), nats.c's
 * own threads. SIGTERM/SIGINT: finish the batch in hand, exit 0.
 * Owns: the config table, both NATS connections, the persistence PostgreSQL
 * connection, the batch. */
#include <assert.h>
#include <libpq-fe.h>
#include <nats/nats.h>
#include <protobuf-c/protobuf-c.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wb_clock.h"
#include "wb_config.h"
#include "wb_log.h"
#include "wb_subreap.h"
#include "wb_nats.h"
#include "wk_ackmeta.h"
#include "wk_batch.h"
#include "wk_claim.h"
#include "wk_db.h"
#include "wk_http.h"
#include "wk_metrics.h"
#include "wk_migrate.h"
#include "wk_nats.h"
#include "wk_snap.h"

typedef struct wk_cfg {
    const char *id, *nats_url, *nats_user, *nats_password_file, *pg_url, *host, *migrations,
        *log_level;
    long long port, batch, batch_max_bytes, batch_wait_ms, ack_wait_ms, max_ack_pending,
        snap_threads, chunk_bytes;
    wb_stream_limits stream;
} wk_cfg;

typedef struct wk_worker {
    wk_cfg cfg;
    wk_nats pn;           /* persistence connection */
    wk_nats sn;           /* snapshot + stats connection */
    atomic_bool sn_ready; /* sn usable by the http thread */
    bool consumer_ok;     /* stream + consumer ensured */
    wk_db *db;
    wk_batch *batch, *single;
    wk_snap *snap;
    wk_http *http;
    /* Per message of the pulled batch, cfg.batch entries each. */
    natsMsg **msgs;     /* the messages (owned until the batch is done) */
    uint64_t *seqs;     /* stream seq (0: no metadata, skipped) */
    int64_t *time_ms;   /* Op.time_ms (0: dead letter) */
    int64_t *stored_ns; /* JetStream store time (ns since the epoch) */
    double last_pg_check;
    double last_prune;
    unsigned long long pruned_floor; /* placeholders pruned up to this seq */
} wk_worker;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Sleeps ms in small steps, returning early on stop. */
static void nap(int ms)
{
    while (ms > 0 && !g_stop) {
        int step = ms < 100 ? ms : 100;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* ---- HTTP hooks (http thread) ---- */

static bool health(void *arg, char *why, int cap)
{
    wk_worker *w = arg;
    if (!atomic_load(&w->sn_ready)) {
        snprintf(why, (size_t)cap, "starting");
        return false;
    }
    if (!atomic_load(&wk_m.pg_up)) {
        snprintf(why, (size_t)cap, "postgresql down");
        return false;
    }
    if (!atomic_load(&wk_m.nats_up)) {
        snprintf(why, (size_t)cap, "nats down");
        return false;
    }
    int64_t age = wb_mono_ms() - atomic_load(&wk_m.loop_ms);
    if (age > 60000 + w->cfg.batch_wait_ms) {
        snprintf(why, (size_t)cap, "persistence loop stalled for %lld ms", (long long)age);
        return false;
    }
    return true;
}

static void tick(void *arg)
{
    wk_worker *w = arg;
    if (!atomic_load(&w->sn_ready)) return;
    uint64_t floor = 0;
    int64_t pending = -1, ackp = -1;
    if (wk_nats_consumer_state(w->sn.js, &floor, &pending, &ackp) == 0) {
        atomic_store(&wk_m.consumer_pending, pending);
        atomic_store(&wk_m.consumer_ack_pending, ackp);
        atomic_store(&wk_m.consumer_ack_floor, (int64_t)floor);
    } else {
        atomic_store(&wk_m.consumer_pending, -1);
        atomic_store(&wk_m.consumer_ack_pending, -1);
    }
}

/* ---- start-up ---- */

/* Connects to PostgreSQL and applies the migrations, retrying while the
 * database is unreachable. Returns 0, or -1 (a migration failed, or stop). */
static int pg_start(wk_worker *w)
{
    int delay = 100;
    while (!g_stop) {
        if (wk_db_connect(w->db) == 0) {
            if (wk_migrate_run(wk_db_conn(w->db), w->cfg.migrations) >= 0) {
                atomic_store(&wk_m.pg_up, 1);
                return 0;
            }
            if (wk_db_connected(w->db)) return -1; /* a real migration error */
        }
        nap(delay);
        delay = delay * 2 > 5000 ? 5000 : delay * 2;
    }
    return -1;
}

/* Stream + consumer, retried by the loop on failure (main thread). */
static int ensure_consumer(wk_worker *w)
{
    if (wb_nats_stream_ensure(w->pn.nc, w->pn.js, &w->cfg.stream) < 0 ||
        wk_nats_consumer_ensure(w->pn.js, w->cfg.ack_wait_ms, w->cfg.max_ack_pending) < 0) {
        wk_metric_err(WK_ERR_CONSUMER);
        return -1;
    }
    w->consumer_ok = true;
    wb_info("persisting from %s/%s (batch %lld, wait %lld ms)", WB_STREAM, WK_CONSUMER,
            w->cfg.batch, w->cfg.batch_wait_ms);
    return 0;
}

/* ---- the persistence loop (main thread) ---- */

/* The batch was refused as data: write it message by message, dead-lettering
 * each message PostgreSQL refuses, so one poison op cannot block the stream. */
static wk_db_rc write_split(wk_worker *w, int from, int to, int *logged)
{
    const uint64_t *seqs = w->seqs;
    *logged = 0;
    for (int i = from; i < to; i++) {
        natsMsg *m = w->msgs[i];
        if (!seqs[i]) continue;
        int n = 0;
        wk_batch_reset(w->single);
        if (wk_batch_add(w->single, seqs[i], natsMsg_GetSubject(m), natsMsg_GetData(m),
                         (size_t)natsMsg_GetDataLength(m), NULL) == WK_ADD_NOMEM)
            return WK_DB_RETRY;
        wk_db_rc rc = wk_db_apply(w->db, w->single, &n);
        if (rc == WK_DB_DATA) {
            wk_metric_err(WK_ERR_PG_DATA);
            wb_error("stream seq %llu refused by PostgreSQL: dead-lettered",
                     (unsigned long long)seqs[i]);
            wk_batch_reset(w->single);
            if (wk_batch_add_dead(w->single, seqs[i], natsMsg_GetSubject(m), natsMsg_GetData(m),
                                  (size_t)natsMsg_GetDataLength(m),
                                  "refused by PostgreSQL") == WK_ADD_NOMEM)
                return WK_DB_RETRY;
            rc = wk_db_apply(w->db, w->single, &n);
        }
        if (rc != WK_DB_OK) return rc;
        *logged += n;
    }
    return WK_DB_OK;
}

/* Writes messages [from, to) of the count pulled in one transaction,
 * retrying until it commits, then acks them. Returns 0, or -1 when stopping
 * with them unwritten (the caller naks them: back to the stream at once). */
static int write_range(wk_worker *w, int from, int to, int count)
{
    const uint64_t *seqs = w->seqs;
    wk_batch_reset(w->batch);
    int usable = 0;
    for (int i = from; i < to; i++) {
        natsMsg *m = w->msgs[i];
        if (!seqs[i]) continue;
        wk_add_rc rc = wk_batch_add(w->batch, seqs[i], natsMsg_GetSubject(m), natsMsg_GetData(m),
                                    (size_t)natsMsg_GetDataLength(m), &w->time_ms[i]);
        if (rc == WK_ADD_NOMEM) {
            /* Not acked: redelivered after the ack wait. */
            wb_error("out of memory building a batch");
            return 0;
        }
        if (rc == WK_ADD_DEAD) {
            wk_metric_err(WK_ERR_DECODE);
            wb_warn("stream seq %llu on %s is not a valid op: dead-lettered",
                    (unsigned long long)seqs[i], natsMsg_GetSubject(m));
        }
        usable++;
    }
    if (!usable) return 0;

    int delay = 100, logged = 0;
    double t0 = wb_mono_s(), last_progress = t0;
    bool split = false;
    for (;;) {
        double a = wb_mono_s();
        wk_db_rc rc = WK_DB_RETRY;
        if (wk_db_connect(w->db) == 0) {
            rc = split ? write_split(w, from, to, &logged) : wk_db_apply(w->db, w->batch, &logged);
            if (rc == WK_DB_DATA && !split) {
                wk_metric_err(WK_ERR_PG_DATA);
                split = true;
                continue;
            }
        }
        if (rc == WK_DB_OK) {
            wb_hist_observe(&wk_m.commit_seconds, wb_mono_s() - a);
            atomic_store(&wk_m.pg_up, 1);
            break;
        }
        wk_metric_err(WK_ERR_PG);
        atomic_store(&wk_m.pg_up, wk_db_connected(w->db) ? 1 : 0);
        atomic_store(&wk_m.loop_ms, wb_mono_ms()); /* waiting for PostgreSQL is not a stall */
        if (g_stop) return -1;
        nap(delay);
        delay = delay * 2 > 5000 ? 5000 : delay * 2;
        if (wb_mono_s() - last_progress > 10) {
            /* Keep the messages ours while PostgreSQL is away (resets the ack wait). */
            for (int i = from; i < count; i++)
                if (w->seqs[i]) wk_nats_ack(w->pn.nc, w->msgs[i], "+WPI");
            last_progress = wb_mono_s();
        }
    }
    w->last_pg_check = wb_mono_s();
    /* Committed: claim the op ids (before the acks, so a crash in between
     * claims them again on redelivery). */
    wk_claim_publish(w->pn.nc, w->msgs, w->seqs, from, to);
    int64_t now = wb_wall_ms();
    int acked = 0;
    for (int i = from; i < to; i++) {
        if (!seqs[i]) continue;
        if (wk_nats_ack(w->pn.nc, w->msgs[i], "+ACK") != NATS_OK)
            wk_metric_err(WK_ERR_ACK);
        else
            acked++;
        if (w->time_ms[i] > 0)
            wb_hist_observe(&wk_m.lag_seconds, (double)(now - w->time_ms[i]) / 1000.0);
        if (w->stored_ns[i] > 0)
            wb_hist_observe(&wk_m.stream_lag_seconds,
                            (double)(now - w->stored_ns[i] / 1000000) / 1000.0);
    }
    size_t nops = wk_batch_nops(w->batch);
    atomic_fetch_add(&wk_m.ops_persisted, (uint64_t)logged);
    if ((size_t)logged < nops) atomic_fetch_add(&wk_m.ops_duplicate, nops - (size_t)logged);
    atomic_fetch_add(&wk_m.msgs_acked, (uint64_t)acked);
    atomic_fetch_add(&wk_m.batches, 1);
    wb_debug("batch: %d msgs, %d logged, %.1f ms", to - from, logged, (wb_mono_s() - t0) * 1000);
    return 0;
}

/* One pulled batch, w->msgs[0..count): normally one transaction; split into
 * several when the payloads exceed WB_BATCH_MAX_BYTES (huge strokes), to
 * bound memory. */
static void process(wk_worker *w, int count)
{
    assert(count > 0 && count <= w->cfg.batch);
    natsMsg **msgs = w->msgs;
    for (int i = 0; i < count; i++) {
        wk_ackmeta meta;
        w->seqs[i] = 0;
        w->time_ms[i] = 0;
        w->stored_ns[i] = 0;
        if (wk_ackmeta_parse(natsMsg_GetReply(msgs[i]), &meta) < 0) {
            wb_warn("message on %s without JetStream metadata (reply %s): skipped",
                    natsMsg_GetSubject(msgs[i]),
                    natsMsg_GetReply(msgs[i]) ? natsMsg_GetReply(msgs[i]) : "none");
            continue;
        }
        w->seqs[i] = meta.stream_seq;
        w->stored_ns[i] = meta.timestamp_ns;
    }
    wb_hist_observe(&wk_m.batch_size, count);
    for (int from = 0; from < count;) {
        int to = from;
        size_t bytes = 0;
        while (to < count && (to == from || bytes + (size_t)natsMsg_GetDataLength(msgs[to]) <=
                                                (size_t)w->cfg.batch_max_bytes))
            bytes += (size_t)natsMsg_GetDataLength(msgs[to++]);
        atomic_store(&wk_m.loop_ms, wb_mono_ms());
        if (write_range(w, from, to, count) < 0) {
            /* Shutting down with ops unwritten: hand them back, never ack them. */
            for (int i = from; i < count; i++)
                if (w->seqs[i]) wk_nats_ack(w->pn.nc, msgs[i], "-NAK");
            wb_warn("stopping with %d unwritten ops: returned to the stream", count - from);
            break;
        }
        from = to;
    }
}

/* While idle, check PostgreSQL once a second so /healthz tells the truth. */
static void idle_pg_check(wk_worker *w)
{
    double now = wb_mono_s();
    if (now - w->last_pg_check < 1.0) return;
    w->last_pg_check = now;
    bool ok = false;
    if (wk_db_connect(w->db) == 0) {
        PGresult *r = PQexec(wk_db_conn(w->db), "SELECT 1");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok) wk_db_fail(w->db, r, "health check");
        PQclear(r);
    }
    atomic_store(&wk_m.pg_up, ok ? 1 : 0);
}

/* When idle, at most every few seconds: drop placeholder rows that no add
 * can claim any more (everything up to the consumer's ack floor is
 * committed). Never between busy fetches: time spent there lets late
 * deliveries of an expired pull pile up (the nats.c 3.4.1 Fetch overrun). */
static void prune_placeholders(wk_worker *w)
{
    double now = wb_mono_s();
    int64_t floor = atomic_load(&wk_m.consumer_ack_floor);
    if (now - w->last_prune < 2.0 || floor <= 0 || (unsigned long long)floor <= w->pruned_floor)
        return;
    w->last_prune = now;
    long n = 0;
    if (wk_db_connect(w->db) == 0 &&
        wk_db_prune(w->db, (unsigned long long)floor, &n) == WK_DB_OK) {
        w->pruned_floor = (unsigned long long)floor;
        if (n) wb_info("pruned %ld placeholder strokes up to seq %lld", n, (long long)floor);
    }
}

static void run(wk_worker *w)
{
    int pull_errors = 0;
    while (!g_stop) {
        if (!w->consumer_ok && ensure_consumer(w) < 0) {
            nap(1000);
            continue;
        }
        atomic_store(&wk_m.loop_ms, wb_mono_ms());
        int count = 0;
        char why[160];
        natsStatus s = wk_nats_pull(w->pn.nc, (int)w->cfg.batch, w->cfg.batch_max_bytes,
                                    w->cfg.batch_wait_ms, w->msgs, &count, why, sizeof why);
        if (count > 0) {
            process(w, count);
            for (int i = 0; i < count; i++)
                natsMsg_Destroy(w->msgs[i]);
        }
        if (s == NATS_OK) {
            pull_errors = 0;
            if (count == 0) {
                idle_pg_check(w);
                prune_placeholders(w);
            }
            continue;
        }
        wk_metric_err(WK_ERR_FETCH);
        if (pull_errors++ % 20 == 0) wb_warn("pull %s/%s: %s", WB_STREAM, WK_CONSUMER, why);
        idle_pg_check(w);
        /* Connected yet failing (consumer or stream gone): set them up again. */
        if (natsConnection_Status(w->pn.nc) == NATS_CONN_STATUS_CONNECTED && pull_errors >= 5) {
            w->consumer_ok = false;
            pull_errors = 0;
        }
        nap(200);
    }
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    wk_worker w;
    memset(&w, 0, sizeof w);
    wk_cfg *c = &w.cfg;
    const wb_cfg_item items[] = {
        {"id", "WB_WORKER_ID", WB_CFG_STR, "worker", 0, 0, &c->id, "instance name (logs, NATS)"},
        {"nats-url", "WB_NATS_URL", WB_CFG_STR, "nats://127.0.0.1:4222", 0, 0, &c->nats_url,
         "NATS server URL(s), comma-separated"},
        {"nats-user", "WB_NATS_USER", WB_CFG_STR, "", 0, 0, &c->nats_user,
         "NATS user (role worker; empty: no credentials)"},
        {"nats-password-file", "WB_NATS_PASSWORD_FILE", WB_CFG_STR, "", 0, 0,
         &c->nats_password_file, "file holding the NATS user's password"},
        {"pg-url", "WB_PG_URL", WB_CFG_STR, "postgresql://postgres@127.0.0.1:5433/whiteboard", 0, 0,
         &c->pg_url, "PostgreSQL URL (database created if missing)"},
        {"host", "WB_WORKER_HOST", WB_CFG_STR, "127.0.0.1", 0, 0, &c->host, "HTTP listen address"},
        {"port", "WB_WORKER_PORT", WB_CFG_INT, "9101", 1, 65535, &c->port,
         "HTTP port (/healthz, /metrics)"},
        {"migrations", "WB_MIGRATIONS_DIR", WB_CFG_STR, "migrations", 0, 0, &c->migrations,
         "directory of NNNN_name.sql"},
        {"batch", "WB_BATCH", WB_CFG_INT, "500", 1, 10000, &c->batch,
         "max ops per pull/transaction"},
        {"batch-max-bytes", "WB_BATCH_MAX_BYTES", WB_CFG_INT, "8388608", 65536, 1LL << 30,
         &c->batch_max_bytes, "max payload bytes per transaction (a bigger pull is split)"},
        {"batch-wait-ms", "WB_BATCH_WAIT_MS", WB_CFG_INT, "100", 1, 60000, &c->batch_wait_ms,
         "max wait for a batch"},
        {"ack-wait-ms", "WB_ACK_WAIT_MS", WB_CFG_INT, "30000", 1000, 3600000, &c->ack_wait_ms,
         "consumer ack wait"},
        {"max-ack-pending", "WB_MAX_ACK_PENDING", WB_CFG_INT, "20000", 1, 1000000,
         &c->max_ack_pending, "consumer max ack pending"},
        {"snapshot-threads", "WB_SNAPSHOT_THREADS", WB_CFG_INT, "2", 1, 32, &c->snap_threads,
         "snapshot responder threads"},
        {"snapshot-chunk-bytes", "WB_SNAPSHOT_CHUNK_BYTES", WB_CFG_INT, "524288", 4096, 4000000,
         &c->chunk_bytes, "snapshot chunk budget"},
        {"stream-max-age-s", "WB_STREAM_MAX_AGE_S", WB_CFG_INT, "0", 0, 1LL << 40,
         &c->stream.max_age_s, "WB_OPS max age, as the gateways use (0: keep)"},
        {"stream-max-bytes", "WB_STREAM_MAX_BYTES", WB_CFG_INT, "0", 0, 1LL << 50,
         &c->stream.max_bytes, "WB_OPS size limit, as the gateways use (0: none)"},
        {"stream-max-msg-size", "WB_STREAM_MAX_MSG_SIZE", WB_CFG_INT, "524288", 1024, 64 << 20,
         &c->stream.max_msg_size, "largest stored op, as the gateways use"},
        {"dedup-window-s", "WB_DEDUP_WINDOW_S", WB_CFG_INT, "600", 1, 1LL << 30,
         &c->stream.dedup_window_s, "JetStream duplicate window, as the gateways use"},
        {"stream-replicas", "WB_STREAM_REPLICAS", WB_CFG_INT, "1", 1, 5, &c->stream.replicas,
         "WB_OPS replicas, as the gateways use"},
        {"log-level", "WB_LOG_LEVEL", WB_CFG_STR, "info", 0, 0, &c->log_level,
         "debug|info|warn|error"},
    };
    const size_t nitems = sizeof items / sizeof *items;
    bool migrate_only = argc > 1 && !strcmp(argv[1], "migrate");
    if (migrate_only) {
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    int rc = wb_config_load(items, nitems, argc, argv, "wb-worker");
    if (rc) return rc < 0 ? 2 : 0;
    wb_log_init(c->id, c->log_level);
    wb_config_print(items, nitems);
    wb_info("libraries: nats.c=%s libpq=%d.%d protobuf-c=%s", nats_GetVersion(),
            PQlibVersion() / 10000, PQlibVersion() % 10000, protobuf_c_version());
    wb_nats_set_auth(c->nats_user, c->nats_password_file);
    wk_metrics_init();

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int exit_code = 1;
    w.db = wk_db_create(c->pg_url, "persist");
    w.batch = wk_batch_create();
    w.single = wk_batch_create();
    w.msgs = calloc((size_t)c->batch, sizeof *w.msgs);
    w.seqs = calloc((size_t)c->batch, sizeof *w.seqs);
    w.time_ms = calloc((size_t)c->batch, sizeof *w.time_ms);
    w.stored_ns = calloc((size_t)c->batch, sizeof *w.stored_ns);
    if (!w.db || !w.batch || !w.single || !w.msgs || !w.seqs || !w.time_ms || !w.stored_ns) {
        wb_error("out of memory");
        goto out;
    }
    if (migrate_only) {
        exit_code = pg_start(&w) == 0 ? 0 : 1;
        goto out;
    }
    w.http = wk_http_create(c->host, (int)c->port, health, tick, &w);
    if (!w.http) goto out;
    if (pg_start(&w) < 0) goto out_stop;

    char name[96];
    snprintf(name, sizeof name, "%s-persist", c->id);
    if (wk_nats_open(&w.pn, c->nats_url, name, &wk_m.nats_up, &g_stop) < 0) goto out_stop;
    snprintf(name, sizeof name, "%s-snapshot", c->id);
    if (wk_nats_open(&w.sn, c->nats_url, name, &wk_m.snap_nats_up, &g_stop) < 0) goto out_stop;
    wk_snap_cfg sc = {.pg_url = c->pg_url,
                      .nc = w.sn.nc,
                      .js = w.sn.js,
                      .threads = (int)c->snap_threads,
                      .chunk_bytes = (size_t)c->chunk_bytes,
                      .max_chunk_bytes = 4000000};
    w.snap = wk_snap_create(&sc);
    if (!w.snap) goto out;
    atomic_store(&wk_m.loop_ms, wb_mono_ms());
    atomic_store(&w.sn_ready, true);
    wb_info("worker ready");
    run(&w);
out_stop:
    if (g_stop) {
        wb_info("stopping");
        exit_code = 0;
    }
out:
    atomic_store(&w.sn_ready, false);
    wk_http_destroy(w.http);
    wk_snap_destroy(w.snap);
    /* The last acks; bounded, since NATS may be stopping at the same time. */
    if (w.pn.nc && natsConnection_Status(w.pn.nc) == NATS_CONN_STATUS_CONNECTED)
        natsConnection_FlushTimeout(w.pn.nc, 1000);
    wk_nats_close(&w.pn);
    wk_nats_close(&w.sn);
    wk_db_destroy(w.db);
    wk_batch_destroy(w.batch);
    wk_batch_destroy(w.single);
    free(w.msgs);
    free(w.seqs);
    free(w.time_ms);
    free(w.stored_ns);
    wb_sub_reaper_stop();
    nats_Close();
    wb_info("exit %d", exit_code);
    return exit_code;
}
