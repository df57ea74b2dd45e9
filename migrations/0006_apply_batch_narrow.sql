-- 0006_apply_batch_narrow: wb_apply_batch (0005) again, with the same
-- result, doing less for the batches most boards send: a batch without
-- shapes and texts takes the narrow stroke insert of 0002 (a stroke that
-- takes over a shape's or a text's row clears their columns), and a batch
-- without updates skips the element_updates statement. The order-independent
-- rules are those of 0002 and 0005 (docs/protocol.md §4).

CREATE OR REPLACE FUNCTION wb_apply_batch(
    p_board text[], p_seq bigint[], p_op_id text[], p_client text[],
    p_kind smallint[], p_time_ms bigint[], p_payload bytea[],
    s_board text[], s_seq bigint[], s_id text[], s_color integer[],
    s_width real[], s_points bytea[], s_author text[],
    v_board text[], v_seq bigint[], v_id text[], v_hidden boolean[],
    d_seq bigint[], d_subject text[], d_payload bytea[], d_reason text[],
    e_board text[], e_seq bigint[], e_id text[], e_kind smallint[], e_shape smallint[],
    e_x1 integer[], e_y1 integer[], e_x2 integer[], e_y2 integer[], e_fill integer[],
    e_x integer[], e_y integer[], e_size real[], e_body text[],
    e_color integer[], e_width real[], e_author text[],
    u_board text[], u_seq bigint[], u_id text[], u_grp smallint[], u_points bytea[],
    u_x1 integer[], u_y1 integer[], u_x2 integer[], u_y2 integer[], u_x integer[], u_y integer[],
    u_size real[], u_body text[], u_color integer[], u_width real[], u_fill integer[])
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

    -- Adds of every type in one statement: per id the smallest seq wins, and
    -- it replaces every base column (a shape's first add may come after a
    -- later stroke add with the same id was stored). A batch without shapes
    -- and texts (most) takes the narrower stroke insert of 0002.
    IF coalesce(cardinality(e_seq), 0) = 0 THEN
        INSERT INTO strokes AS s (board, stroke_id, add_seq, color, width, points, author)
        SELECT DISTINCT ON (a.board, a.id) a.board, a.id, a.seq, a.color, a.width, a.points,
               a.author
        FROM unnest(s_board, s_seq, s_id, s_color, s_width, s_points, s_author)
            AS a(board, seq, id, color, width, points, author)
        WHERE EXISTS (SELECT 1 FROM ops o WHERE o.board = a.board AND o.seq = a.seq)
        ORDER BY a.board, a.id, a.seq
        ON CONFLICT (board, stroke_id) DO UPDATE
            SET add_seq = excluded.add_seq, color = excluded.color, width = excluded.width,
                points = excluded.points, author = excluded.author, elem_kind = NULL,
                shape_kind = NULL, x1 = NULL, y1 = NULL, x2 = NULL, y2 = NULL, fill = NULL,
                x = NULL, y = NULL, size = NULL, body = NULL
            WHERE s.add_seq IS NULL OR s.add_seq > excluded.add_seq;
    ELSE
    INSERT INTO strokes AS s (board, stroke_id, add_seq, elem_kind, color, width, points, author,
                              shape_kind, x1, y1, x2, y2, fill, x, y, size, body)
    SELECT DISTINCT ON (a.board, a.id) a.board, a.id, a.seq, a.kind, a.color, a.width, a.points,
           a.author, a.shape, a.x1, a.y1, a.x2, a.y2, a.fill, a.x, a.y, a.size, a.body
    FROM (SELECT t.board, t.seq, t.id, NULL::smallint AS kind, t.color, t.width, t.points,
                 t.author, NULL::smallint AS shape, NULL::integer AS x1, NULL::integer AS y1,
                 NULL::integer AS x2, NULL::integer AS y2, NULL::integer AS fill,
                 NULL::integer AS x, NULL::integer AS y, NULL::real AS size, NULL::text AS body
          FROM unnest(s_board, s_seq, s_id, s_color, s_width, s_points, s_author)
              AS t(board, seq, id, color, width, points, author)
          UNION ALL
          SELECT t.board, t.seq, t.id, t.kind, t.color, t.width, NULL::bytea, t.author, t.shape,
                 t.x1, t.y1, t.x2, t.y2, t.fill, t.x, t.y, t.size, t.body
          FROM unnest(e_board, e_seq, e_id, e_kind, e_shape, e_x1, e_y1, e_x2, e_y2, e_fill,
                      e_x, e_y, e_size, e_body, e_color, e_width, e_author)
              AS t(board, seq, id, kind, shape, x1, y1, x2, y2, fill, x, y, size, body, color,
                   width, author)) AS a
    WHERE EXISTS (SELECT 1 FROM ops o WHERE o.board = a.board AND o.seq = a.seq)
    ORDER BY a.board, a.id, a.seq
    ON CONFLICT (board, stroke_id) DO UPDATE
        SET add_seq = excluded.add_seq, elem_kind = excluded.elem_kind, color = excluded.color,
            width = excluded.width, points = excluded.points, author = excluded.author,
            shape_kind = excluded.shape_kind, x1 = excluded.x1, y1 = excluded.y1,
            x2 = excluded.x2, y2 = excluded.y2, fill = excluded.fill, x = excluded.x,
            y = excluded.y, size = excluded.size, body = excluded.body
        WHERE s.add_seq IS NULL OR s.add_seq > excluded.add_seq;
    END IF;

    INSERT INTO strokes AS s (board, stroke_id, vis_seq, vis_hidden)
    SELECT DISTINCT ON (v.board, v.id) v.board, v.id, v.seq, v.hidden
    FROM unnest(v_board, v_seq, v_id, v_hidden) AS v(board, seq, id, hidden)
    WHERE EXISTS (SELECT 1 FROM ops o WHERE o.board = v.board AND o.seq = v.seq)
    ORDER BY v.board, v.id, v.seq DESC
    ON CONFLICT (board, stroke_id) DO UPDATE
        SET vis_seq = excluded.vis_seq, vis_hidden = excluded.vis_hidden
        WHERE excluded.vis_seq > s.vis_seq;

    -- Per element and group the update with the largest seq wins.
    IF coalesce(cardinality(u_seq), 0) > 0 THEN
    INSERT INTO element_updates AS u (board, elem_id, grp, seq, points, x1, y1, x2, y2, x, y,
                                      size, body, color, width, fill)
    SELECT DISTINCT ON (t.board, t.id, t.grp) t.board, t.id, t.grp, t.seq, t.points, t.x1, t.y1,
           t.x2, t.y2, t.x, t.y, t.size, t.body, t.color, t.width, t.fill
    FROM unnest(u_board, u_seq, u_id, u_grp, u_points, u_x1, u_y1, u_x2, u_y2, u_x, u_y, u_size,
                u_body, u_color, u_width, u_fill)
        AS t(board, seq, id, grp, points, x1, y1, x2, y2, x, y, size, body, color, width, fill)
    WHERE EXISTS (SELECT 1 FROM ops o WHERE o.board = t.board AND o.seq = t.seq)
    ORDER BY t.board, t.id, t.grp, t.seq DESC
    ON CONFLICT (board, elem_id, grp) DO UPDATE
        SET seq = excluded.seq, points = excluded.points, x1 = excluded.x1, y1 = excluded.y1,
            x2 = excluded.x2, y2 = excluded.y2, x = excluded.x, y = excluded.y,
            size = excluded.size, body = excluded.body, color = excluded.color,
            width = excluded.width, fill = excluded.fill
        WHERE excluded.seq > u.seq;
    END IF;

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
