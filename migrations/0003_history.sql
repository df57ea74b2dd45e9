-- 0003_history: history reads (GET /api/boards/{board}?at=SEQ).
--
-- The ops table already keeps every op with its seq for good (the system of
-- record; the stream may be trimmed). A snapshot as of SEQ takes the strokes
-- with add_seq <= SEQ from `strokes` (index strokes_board_add_seq) and the
-- visibility from the erase/restore/clear ops <= SEQ, read through this
-- partial index, so a board of mostly strokes reads only its few
-- non-stroke ops.
CREATE INDEX ops_board_vis ON ops (board, seq) WHERE kind <> 1;
