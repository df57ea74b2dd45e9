-- 0005_elements: shapes, texts and updates (issue #16; docs/protocol.md §3
-- "Shapes and texts", "Updates", §4 "Board state").
--
-- Elements share the id space of strokes, so they live in the same table:
-- a row of `strokes` is an element, its base (the first add) in the columns
-- of its type (elem_kind NULL: a freehand stroke in color/width/points; 5: a
-- shape in shape_kind/x1..y2/color/width/fill; 6: a text in x/y/size/color/
-- body). add_seq / vis_seq / vis_hidden and placeholders work as before.
--
-- Updates are kept per element and field group, the newest seq winning:
-- element_updates (board, elem_id, grp) holds the value of the update with
-- the largest seq naming the element with that group, whatever the commit
-- order, also before the element's add is seen (the add may have a smaller
-- seq). A group applies iff its seq > add_seq and it applies to the type
-- (wb_board_elements below); the base is never overwritten, so a late first
-- add still finds every update.

ALTER TABLE strokes
    ADD COLUMN elem_kind  smallint,   -- NULL: stroke; 5: shape; 6: text (wb.v1.Kind of the add)
    ADD COLUMN shape_kind smallint,   -- wb.v1.ShapeKind: 1 rect, 2 ellipse, 3 line, 4 arrow
    ADD COLUMN x1   integer,          -- shape corners / end points, tenths
    ADD COLUMN y1   integer,
    ADD COLUMN x2   integer,
    ADD COLUMN y2   integer,
    ADD COLUMN fill integer,          -- shape fill 0xRRGGBB, NULL: none
    ADD COLUMN x    integer,          -- text top-left, tenths
    ADD COLUMN y    integer,
    ADD COLUMN size real,             -- text font size
    ADD COLUMN body text;             -- text content (1..4096 bytes)

-- Field groups (grp): 0 points, 1 box (x1..y2), 2 pos (x, y), 3 size, 4 text
-- (body), 5 color, 6 width, 7 fill (NULL fill: the update removed the fill).
CREATE TABLE element_updates (
    board   text     NOT NULL,
    elem_id text     NOT NULL,
    grp     smallint NOT NULL CHECK (grp BETWEEN 0 AND 7),
    seq     bigint   NOT NULL,        -- the update op's seq
    points  bytea,                    -- as strokes.points
    x1 integer, y1 integer, x2 integer, y2 integer,
    x integer, y integer,
    size    real,
    body    text,
    color   integer,
    width   real,
    fill    integer,
    PRIMARY KEY (board, elem_id, grp)
);

-- The batch writer, extended by element adds (e_*) and update groups (u_*).
-- The 22-argument form of 0002 stays callable (strokes only) and forwards here.
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
    -- later stroke add with the same id was stored).
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

    INSERT INTO strokes AS s (board, stroke_id, vis_seq, vis_hidden)
    SELECT DISTINCT ON (v.board, v.id) v.board, v.id, v.seq, v.hidden
    FROM unnest(v_board, v_seq, v_id, v_hidden) AS v(board, seq, id, hidden)
    WHERE EXISTS (SELECT 1 FROM ops o WHERE o.board = v.board AND o.seq = v.seq)
    ORDER BY v.board, v.id, v.seq DESC
    ON CONFLICT (board, stroke_id) DO UPDATE
        SET vis_seq = excluded.vis_seq, vis_hidden = excluded.vis_hidden
        WHERE excluded.vis_seq > s.vis_seq;

    -- Per element and group the update with the largest seq wins.
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

CREATE OR REPLACE FUNCTION wb_apply_batch(
    p_board text[], p_seq bigint[], p_op_id text[], p_client text[],
    p_kind smallint[], p_time_ms bigint[], p_payload bytea[],
    s_board text[], s_seq bigint[], s_id text[], s_color integer[],
    s_width real[], s_points bytea[], s_author text[],
    v_board text[], v_seq bigint[], v_id text[], v_hidden boolean[],
    d_seq bigint[], d_subject text[], d_payload bytea[], d_reason text[])
RETURNS integer
LANGUAGE sql AS $fn$
    SELECT wb_apply_batch(p_board, p_seq, p_op_id, p_client, p_kind, p_time_ms, p_payload,
                          s_board, s_seq, s_id, s_color, s_width, s_points, s_author,
                          v_board, v_seq, v_id, v_hidden, d_seq, d_subject, d_payload, d_reason,
                          '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
                          '{}', '{}', '{}', '{}', '{}',
                          '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
                          '{}', '{}', '{}', '{}')
$fn$;

-- The visible elements of a board with their current values (updates
-- applied per docs/protocol.md §4), in drawing order: for people, tests and
-- psql (SELECT * FROM wb_board_elements('board')).
CREATE OR REPLACE FUNCTION wb_board_elements(p_board text)
RETURNS TABLE (id text, add_seq bigint, elem_kind smallint, shape_kind smallint,
               x1 integer, y1 integer, x2 integer, y2 integer, x integer, y integer,
               size real, body text, color integer, width real, fill integer, points bytea,
               author text)
LANGUAGE sql STABLE AS $fn$
    SELECT s.stroke_id, s.add_seq, s.elem_kind, s.shape_kind,
           CASE WHEN ub.seq IS NULL THEN s.x1 ELSE ub.x1 END,
           CASE WHEN ub.seq IS NULL THEN s.y1 ELSE ub.y1 END,
           CASE WHEN ub.seq IS NULL THEN s.x2 ELSE ub.x2 END,
           CASE WHEN ub.seq IS NULL THEN s.y2 ELSE ub.y2 END,
           CASE WHEN ux.seq IS NULL THEN s.x ELSE ux.x END,
           CASE WHEN ux.seq IS NULL THEN s.y ELSE ux.y END,
           CASE WHEN uz.seq IS NULL THEN s.size ELSE uz.size END,
           CASE WHEN ut.seq IS NULL THEN s.body ELSE ut.body END,
           CASE WHEN uc.seq IS NULL THEN s.color ELSE uc.color END,
           CASE WHEN uw.seq IS NULL THEN s.width ELSE uw.width END,
           CASE WHEN uf.seq IS NULL THEN s.fill ELSE uf.fill END,
           CASE WHEN up.seq IS NULL THEN s.points ELSE up.points END,
           s.author
    FROM strokes s
    JOIN boards b ON b.id = s.board
    LEFT JOIN element_updates up ON up.board = s.board AND up.elem_id = s.stroke_id
        AND up.grp = 0 AND up.seq > s.add_seq AND s.elem_kind IS NULL
    LEFT JOIN element_updates ub ON ub.board = s.board AND ub.elem_id = s.stroke_id
        AND ub.grp = 1 AND ub.seq > s.add_seq AND s.elem_kind = 5
    LEFT JOIN element_updates ux ON ux.board = s.board AND ux.elem_id = s.stroke_id
        AND ux.grp = 2 AND ux.seq > s.add_seq AND s.elem_kind = 6
    LEFT JOIN element_updates uz ON uz.board = s.board AND uz.elem_id = s.stroke_id
        AND uz.grp = 3 AND uz.seq > s.add_seq AND s.elem_kind = 6
    LEFT JOIN element_updates ut ON ut.board = s.board AND ut.elem_id = s.stroke_id
        AND ut.grp = 4 AND ut.seq > s.add_seq AND s.elem_kind = 6
    LEFT JOIN element_updates uc ON uc.board = s.board AND uc.elem_id = s.stroke_id
        AND uc.grp = 5 AND uc.seq > s.add_seq
    LEFT JOIN element_updates uw ON uw.board = s.board AND uw.elem_id = s.stroke_id
        AND uw.grp = 6 AND uw.seq > s.add_seq AND (s.elem_kind IS NULL OR s.elem_kind = 5)
    LEFT JOIN element_updates uf ON uf.board = s.board AND uf.elem_id = s.stroke_id
        AND uf.grp = 7 AND uf.seq > s.add_seq AND s.elem_kind = 5
    WHERE s.board = p_board
      AND wb_stroke_visible(s.add_seq, s.vis_seq, s.vis_hidden, b.max_clear_seq)
    ORDER BY s.add_seq
$fn$;

-- Placeholders (0004) and updates that can never apply: once every op up to
-- the floor F is committed, no add with a seq below F can still come, so an
-- update with seq <= F of an element not added before it never applies.
-- An update that applies once applies for good (add_seq only decreases), so
-- each update is looked at once: those with seq in (the previous floor, F].
CREATE TABLE element_updates_pruned (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    floor bigint  NOT NULL
);
CREATE INDEX element_updates_seq ON element_updates (seq);

CREATE OR REPLACE FUNCTION wb_prune_placeholders(p_floor bigint)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    n integer := 0;
    m integer := 0;
    prev bigint;
BEGIN
    DELETE FROM strokes WHERE add_seq IS NULL AND vis_seq <= p_floor;
    GET DIAGNOSTICS n = ROW_COUNT;
    SELECT floor INTO prev FROM element_updates_pruned;
    DELETE FROM element_updates u
    WHERE u.seq <= p_floor AND u.seq > coalesce(prev, 0)
      AND NOT EXISTS (SELECT 1 FROM strokes s WHERE s.board = u.board AND s.stroke_id = u.elem_id
                      AND s.add_seq < u.seq);
    GET DIAGNOSTICS m = ROW_COUNT;
    INSERT INTO element_updates_pruned AS p (floor) VALUES (p_floor)
    ON CONFLICT (one) DO UPDATE SET floor = greatest(p.floor, excluded.floor);
    RETURN n + m;
END
$fn$;
