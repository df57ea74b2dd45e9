-- 0002_apply_batch: wb_apply_batch(), one call (one round trip, one
-- transaction) per batch of ops fetched from JetStream.
--
-- Order-independent: two workers may commit batches in any order and the
-- result equals applying every op in seq order (PROTOCOL.md "Board state"):
--   stroke at q:        first add wins (insert, or take over a row whose add_seq is NULL or > q)
--   erase/restore at q: per id, vis_seq/vis_hidden set only if q > vis_seq (placeholder row if unknown)
--   clear at q:         boards.max_clear_seq = greatest(max_clear_seq, q)
-- A stroke is visible iff add_seq is set and, with h=false, c=0:
--   if vis_seq > add_seq: c = vis_seq, h = vis_hidden
--   if max_clear_seq > add_seq and max_clear_seq > c: h = true
-- Idempotent: a redelivered op (same board+seq) changes nothing; an op whose
-- op_id is already logged under another seq (a resend after the JetStream
-- duplicate window) is logged nowhere and applied not at all.
-- Locking: the batch's board rows are locked first, in id order, so two
-- workers writing the same board serialise and cannot deadlock.
-- Returns the number of ops newly logged.

CREATE OR REPLACE FUNCTION wb_apply_batch(
    p_board text[], p_seq bigint[], p_op_id text[], p_client text[],
    p_kind smallint[], p_time_ms bigint[], p_payload bytea[],
    s_board text[], s_seq bigint[], s_id text[], s_color integer[],
    s_width real[], s_points bytea[], s_author text[],
    v_board text[], v_seq bigint[], v_id text[], v_hidden boolean[],
    d_seq bigint[], d_subject text[], d_payload bytea[], d_reason text[])
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    n integer := 0;
BEGIN
    INSERT INTO dead_letters (stream_seq, subject, payload, reason)
    SELECT * FROM unnest(d_seq, d_subject, d_payload, d_reason)
    ON CONFLICT DO NOTHING;

    IF coalesce(cardinality(p_seq), 0) = 0 THEN
        RETURN 0;
    END IF;

    -- Create and lock the board rows in id order.
    INSERT INTO boards AS b (id)
    SELECT DISTINCT x FROM unnest(p_board) AS x ORDER BY 1
    ON CONFLICT (id) DO UPDATE SET updated_at = now();

    INSERT INTO ops (board, seq, op_id, client_id, kind, time_ms, payload)
    SELECT * FROM unnest(p_board, p_seq, p_op_id, p_client, p_kind, p_time_ms, p_payload)
        AS t(board, seq, op_id, client_id, kind, time_ms, payload)
    ORDER BY t.seq
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;

    -- From here on, only ops present in the log under their own seq are applied
    -- (newly logged or redelivered, never a late resend of a logged op_id).
    INSERT INTO strokes AS s (board, stroke_id, add_seq, color, width, points, author)
    SELECT DISTINCT ON (a.board, a.id) a.board, a.id, a.seq, a.color, a.width, a.points, a.author
    FROM unnest(s_board, s_seq, s_id, s_color, s_width, s_points, s_author)
        AS a(board, seq, id, color, width, points, author)
    WHERE EXISTS (SELECT 1 FROM ops o WHERE o.board = a.board AND o.seq = a.seq)
    ORDER BY a.board, a.id, a.seq
    ON CONFLICT (board, stroke_id) DO UPDATE
        SET add_seq = excluded.add_seq, color = excluded.color, width = excluded.width,
            points = excluded.points, author = excluded.author
        WHERE s.add_seq IS NULL OR s.add_seq > excluded.add_seq;

    INSERT INTO strokes AS s (board, stroke_id, vis_seq, vis_hidden)
    SELECT DISTINCT ON (v.board, v.id) v.board, v.id, v.seq, v.hidden
    FROM unnest(v_board, v_seq, v_id, v_hidden) AS v(board, seq, id, hidden)
    WHERE EXISTS (SELECT 1 FROM ops o WHERE o.board = v.board AND o.seq = v.seq)
    ORDER BY v.board, v.id, v.seq DESC
    ON CONFLICT (board, stroke_id) DO UPDATE
        SET vis_seq = excluded.vis_seq, vis_hidden = excluded.vis_hidden
        WHERE excluded.vis_seq > s.vis_seq;

    UPDATE boards AS b
    SET max_clear_seq = greatest(b.max_clear_seq, c.clear_seq),
        max_seq = greatest(b.max_seq, c.max_seq)
    FROM (SELECT t.board, max(t.seq) FILTER (WHERE t.kind = 4) AS clear_seq, max(t.seq) AS max_seq
          FROM unnest(p_board, p_seq, p_kind) AS t(board, seq, kind)
          WHERE EXISTS (SELECT 1 FROM ops o WHERE o.board = t.board AND o.seq = t.seq)
          GROUP BY t.board) AS c
    WHERE b.id = c.board;

    RETURN n;
END
$fn$;

-- The visibility rule above, for people and tests (psql: SELECT ... WHERE wb_stroke_visible(...)).
CREATE OR REPLACE FUNCTION wb_stroke_visible(add_seq bigint, vis_seq bigint, vis_hidden boolean,
                                             max_clear_seq bigint)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $fn$
    SELECT add_seq IS NOT NULL AND NOT (
        (vis_seq > add_seq AND vis_hidden)
        OR (max_clear_seq > add_seq
            AND max_clear_seq > (CASE WHEN vis_seq > add_seq THEN vis_seq ELSE 0 END)))
$fn$;
