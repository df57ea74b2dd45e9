/* gw_view: view-only links. A board's view id is derived from the board id
 * with HMAC-SHA256 under a secret every gateway shares; a gateway recognises
 * a view id by its tag (no lookup on an editor's join) and maps it back to
 * the board through the JetStream key-value bucket WB_VIEWS, where the
 * gateway that welcomes an editor registers it ("v.{view}" -> board).
 *
 * View id (22 chars of [A-Za-z0-9_-]): P = the first 16 chars of
 * base64url(HMAC(secret, "view:" board)), then the first 6 chars of
 * base64url(HMAC(secret, "tag:" P)). Without the secret nobody can turn a
 * view id back into the board id, nor make a view id up.
 *
 * The secret: the file WB_VIEW_SECRET_FILE if set (scripts/env.sh keeps one
 * in $WB_RUN_DIR), else the bucket's key "secret", created once by the first
 * gateway (whoever can read the bucket can read the mapping anyway).
 *
 * Threads: gw_view_init (main, before other threads); gw_view_ensure (the
 * NATS ensure thread); gw_view_resolve / gw_view_register (sync pool);
 * gw_view_id / gw_view_is_view / gw_view_cached (any thread). The secret is
 * written once before g_ready is set; the caches are behind g_lock. */
#include "gw_view.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_log.h"
#include "wb_map.h"
#include "wb_valid.h"

#define BUCKET "WB_VIEWS"
#define SECRET_KEY "secret"
#define SECRET_MAX 256
#define CACHE_MAX 16384 /* entries per cache; a full cache is emptied (bounded memory) */

static unsigned char g_secret[SECRET_MAX];
static size_t g_secret_len;
static atomic_bool g_ready;
static bool g_from_file;
static kvStore *g_kv; /* set once by the ensure thread, then only read */
static atomic_bool g_kv_ready;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static wb_map g_views;      /* view id -> malloc'd board id */
static wb_map g_registered; /* board id -> (void *)1: this gateway stored its view */

static const char g_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The first n chars of base64url(HMAC-SHA256(secret, label || data)). */
static void mac_b64(const char *label, const char *data, size_t len, char *out, size_t n)
{
    unsigned char in[16 + WB_ID_MAX], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t ll = strlen(label);
    memcpy(in, label, ll);
    memcpy(in + ll, data, len);
    HMAC(EVP_sha256(), g_secret, (int)g_secret_len, in, ll + len, md, &mdlen);
    /* 6 bits per char from the digest's bit string (n <= 42 for 32 bytes). */
    for (size_t i = 0; i < n; i++) {
        size_t bit = i * 6, byte = bit / 8, off = bit % 8;
        unsigned v = ((unsigned)md[byte] << 8) | (byte + 1 < mdlen ? md[byte + 1] : 0);
        out[i] = g_b64[(v >> (10 - off)) & 63];
    }
    out[n] = 0;
}

static void cache_put(wb_map *m, const char *key, void *val, bool owned)
{
    if (m->count >= CACHE_MAX) {
        for (size_t i = 0; owned && i < m->cap; i++)
            if (m->slots[i].key) free(m->slots[i].val);
        wb_map_free(m);
        wb_map_init(m);
    }
    void *old = wb_map_get(m, key, strlen(key));
    if (old) {
        if (owned) free(val);
        return;
    }
    if (wb_map_put(m, key, strlen(key), val) < 0 && owned) free(val);
}

static int set_secret(const void *p, size_t n)
{
    if (n < 16 || n > SECRET_MAX) {
        wb_error("view secret must be 16..%d bytes, got %zu", SECRET_MAX, n);
        return -1;
    }
    memcpy(g_secret, p, n);
    g_secret_len = n;
    atomic_store(&g_ready, true);
    return 0;
}

int gw_view_init(const char *secret_file)
{
    wb_map_init(&g_views);
    wb_map_init(&g_registered);
    if (!secret_file || !*secret_file) return 0;
    FILE *f = fopen(secret_file, "rb");
    if (!f) {
        wb_syserr("open view secret file %s", secret_file);
        return -1;
    }
    unsigned char buf[SECRET_MAX + 1];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    if (set_secret(buf, n) < 0) return -1;
    g_from_file = true;
    return 0;
}

void gw_view_shutdown(void)
{
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_views.cap; i++)
        if (g_views.slots[i].key) free(g_views.slots[i].val);
    wb_map_free(&g_views);
    wb_map_free(&g_registered);
    pthread_mutex_unlock(&g_lock);
    if (g_kv) kvStore_Destroy(g_kv);
    g_kv = NULL;
    atomic_store(&g_kv_ready, false);
}

/* The shared secret from the bucket: read it, or create it if absent. */
static int secret_from_bucket(kvStore *kv)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        kvEntry *e = NULL;
        natsStatus s = kvStore_Get(&e, kv, SECRET_KEY);
        if (s == NATS_OK) {
            int rc = set_secret(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e));
            kvEntry_Destroy(e);
            return rc;
        }
        if (s != NATS_NOT_FOUND) {
            wb_warn("view secret: get: %s", natsStatus_GetText(s));
            return -1;
        }
        unsigned char raw[32];
        char hex[65];
        if (RAND_bytes(raw, sizeof raw) != 1) {
            wb_error("view secret: RAND_bytes failed");
            return -1;
        }
        for (size_t i = 0; i < sizeof raw; i++)
            snprintf(hex + 2 * i, 3, "%02x", raw[i]);
        s = kvStore_Create(NULL, kv, SECRET_KEY, hex, 64);
        if (s == NATS_OK) {
            wb_info("created the shared view-link secret in bucket %s", BUCKET);
            return set_secret(hex, 64);
        }
        /* Another gateway created it first: read theirs. */
    }
    wb_warn("view secret: could not create or read it");
    return -1;
}

int gw_view_ensure(jsCtx *js, int replicas)
{
    kvConfig kc;
    kvStore *kv = NULL;
    kvConfig_Init(&kc);
    kc.Bucket = BUCKET;
    kc.History = 1;
    kc.StorageType = js_FileStorage;
    kc.Replicas = replicas;
    natsStatus s = js_CreateKeyValue(&kv, js, &kc);
    if (s != NATS_OK) s = js_KeyValue(&kv, js, BUCKET);
    if (s != NATS_OK) {
        wb_warn("ensure bucket %s: %s (%s)", BUCKET, natsStatus_GetText(s),
                nats_GetLastError(NULL));
        return -1;
    }
    if (!g_from_file && !atomic_load(&g_ready) && secret_from_bucket(kv) < 0) {
        kvStore_Destroy(kv);
        return -1;
    }
    if (!atomic_load(&g_kv_ready)) {
        g_kv = kv; /* the same bucket for the life of the process */
        atomic_store(&g_kv_ready, true);
    } else {
        kvStore_Destroy(kv);
    }
    return 0;
}

bool gw_view_ready(void)
{
    return atomic_load(&g_ready) && atomic_load(&g_kv_ready);
}

void gw_view_id(const char *board, char out[GW_VIEW_LEN + 1])
{
    if (!atomic_load(&g_ready)) {
        out[0] = 0;
        return;
    }
    mac_b64("view:", board, strlen(board), out, 16);
    mac_b64("tag:", out, 16, out + 16, 6);
}

bool gw_view_is_view(const char *id, size_t n)
{
    if (n != GW_VIEW_LEN || !atomic_load(&g_ready)) return false;
    char tag[7];
    mac_b64("tag:", id, 16, tag, 6);
    return CRYPTO_memcmp(tag, id + 16, 6) == 0;
}

bool gw_view_cached(const char *view, char board[WB_ID_MAX + 1])
{
    pthread_mutex_lock(&g_lock);
    const char *b = wb_map_get(&g_views, view, strlen(view));
    if (b) snprintf(board, WB_ID_MAX + 1, "%s", b);
    pthread_mutex_unlock(&g_lock);
    return b != NULL;
}

int gw_view_resolve(const char *view, char board[WB_ID_MAX + 1])
{
    if (gw_view_cached(view, board)) return 1;
    if (!atomic_load(&g_kv_ready)) return -1;
    char key[8 + GW_VIEW_LEN];
    kvEntry *e = NULL;
    snprintf(key, sizeof key, "v.%s", view);
    natsStatus s = kvStore_Get(&e, g_kv, key);
    if (s == NATS_NOT_FOUND) return 0;
    if (s != NATS_OK) {
        wb_warn("view %s: lookup: %s", view, natsStatus_GetText(s));
        return -1;
    }
    const char *v = kvEntry_Value(e);
    int len = kvEntry_ValueLen(e);
    int rc = 0;
    if (len > 0 && wb_valid_id(v, (size_t)len)) {
        memcpy(board, v, (size_t)len);
        board[len] = 0;
        rc = 1;
        char *copy = strdup(board);
        pthread_mutex_lock(&g_lock);
        if (copy) cache_put(&g_views, view, copy, true);
        pthread_mutex_unlock(&g_lock);
    } else {
        wb_warn("view %s: the bucket holds no valid board id", view);
    }
    kvEntry_Destroy(e);
    return rc;
}

void gw_view_register(const char *board)
{
    if (!gw_view_ready()) return;
    pthread_mutex_lock(&g_lock);
    bool done = wb_map_get(&g_registered, board, strlen(board)) != NULL;
    pthread_mutex_unlock(&g_lock);
    if (done) return;
    char view[GW_VIEW_LEN + 1], key[8 + GW_VIEW_LEN];
    gw_view_id(board, view);
    snprintf(key, sizeof key, "v.%s", view);
    natsStatus s = kvStore_Put(NULL, g_kv, key, board, (int)strlen(board));
    if (s != NATS_OK) {
        wb_warn("board %s: storing its view id: %s", board, natsStatus_GetText(s));
        return; /* the next join tries again */
    }
    char *copy = strdup(board);
    pthread_mutex_lock(&g_lock);
    cache_put(&g_registered, board, (void *)1, false);
    if (copy) cache_put(&g_views, view, copy, true);
    pthread_mutex_unlock(&g_lock);
}
