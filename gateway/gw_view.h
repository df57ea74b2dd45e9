/* gw_view: view-only links (view ids and the view -> board mapping); see
 * gw_view.c for the scheme and which thread calls what. */
#ifndef GW_VIEW_H
#define GW_VIEW_H

#include <nats/nats.h>
#include <stdbool.h>
#include <stddef.h>

#include "wb_valid.h"

#define GW_VIEW_LEN 22

/* Main thread, at start: loads the secret from the file if one is named
 * (empty: the secret comes from the bucket). Returns 0 or -1. */
int gw_view_init(const char *secret_file);
void gw_view_shutdown(void);
/* NATS ensure thread: creates/binds the bucket (replicas like WB_OPS) and,
 * without a secret file, reads or creates the shared secret. Returns 0 or -1
 * (retry later). */
int gw_view_ensure(jsCtx *js, int replicas);
/* The secret and the bucket are there: view ids can be made and resolved. */
bool gw_view_ready(void);
/* Any thread: the board's view id ("" before the secret is known). */
void gw_view_id(const char *board, char out[GW_VIEW_LEN + 1]);
/* Any thread: id carries a valid view tag (so it is a view id, not a board). */
bool gw_view_is_view(const char *id, size_t n);
/* Any thread: the board of a view id this gateway has seen; no network. */
bool gw_view_cached(const char *view, char board[WB_ID_MAX + 1]);
/* Sync pool (blocks on the bucket): 1 found, 0 unknown view, -1 error. */
int gw_view_resolve(const char *view, char board[WB_ID_MAX + 1]);
/* Sync pool: stores view(board) -> board in the bucket, once per board. */
void gw_view_register(const char *board);

#endif
