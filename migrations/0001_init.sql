-- 0001_init: boards, the ops log, materialised strokes, dead letters.
--
-- Applied by wb-worker (at start and by `wb-worker migrate`) under an
-- advisory lock, recorded in schema_migrations. Forward-only: never edit an
-- applied file, add a new NNNN_name.sql instead.

CREATE TABLE boards (
    id            text        PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    max_seq       bigint      NOT NULL DEFAULT 0,  -- highest logged op seq of the board
    max_clear_seq bigint      NOT NULL DEFAULT 0   -- highest seq of a `clear` op (0: none)
);

-- Every durable op, once. seq is the JetStream stream sequence of WB_OPS.
CREATE TABLE ops (
    board     text        NOT NULL,
    seq       bigint      NOT NULL,
    op_id     text        NOT NULL,
    client_id text        NOT NULL,
    kind      smallint    NOT NULL,               -- wb.v1.Kind: 1 stroke, 2 erase, 3 restore, 4 clear
    time_ms   bigint      NOT NULL,               -- Op.time_ms: gateway accept time
    payload   bytea       NOT NULL,               -- the wb.v1.Op protobuf as stored in the stream
    logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (board, seq),
    UNIQUE (board, op_id)
);

-- Materialised board state, order-independent (see 0002 wb_apply_batch):
-- add_seq: seq of the first op that added the stroke (NULL: a placeholder made
-- by an erase/restore seen before the add); vis_seq/vis_hidden: the newest
-- erase/restore that named it (0: none).
CREATE TABLE strokes (
    board      text     NOT NULL,
    stroke_id  text     NOT NULL,
    add_seq    bigint,
    color      integer,                          -- 0xRRGGBB
    width      real,
    points     bytea,                            -- Stroke.points as packed sint32 varints (tenths, delta-coded)
    author     text,
    vis_seq    bigint   NOT NULL DEFAULT 0,
    vis_hidden boolean  NOT NULL DEFAULT false,
    PRIMARY KEY (board, stroke_id)
);

-- The snapshot query: all added strokes of a board in drawing order.
CREATE INDEX strokes_board_add_seq ON strokes (board, add_seq) WHERE add_seq IS NOT NULL;

-- Stream messages the worker could not decode or validate: kept, acked, never applied.
CREATE TABLE dead_letters (
    stream_seq bigint      PRIMARY KEY,
    subject    text        NOT NULL,
    payload    bytea       NOT NULL,
    reason     text        NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
