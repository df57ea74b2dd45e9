-- 0004_prune_placeholders: unknown ids cost nothing permanent.
--
-- wb_apply_batch (0002) records an erase/restore of a stroke it has not seen
-- as a placeholder row (add_seq NULL), because another worker may commit the
-- stroke's add (an earlier seq) later. Once every op up to seq F is committed
-- (F: the worker consumer's ack floor; acks follow commits), no add with a
-- seq below F can still come, and an erase/restore never applies to a stroke
-- added after it. So a placeholder whose vis_seq <= F can never matter again:
-- wb_prune_placeholders(F) deletes it. The worker calls it as its ack floor
-- moves. Returns the number of rows deleted.

CREATE OR REPLACE FUNCTION wb_prune_placeholders(p_floor bigint)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    n integer := 0;
BEGIN
    DELETE FROM strokes WHERE add_seq IS NULL AND vis_seq <= p_floor;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

-- Placeholders are found without reading every stroke.
CREATE INDEX strokes_placeholders ON strokes (vis_seq) WHERE add_seq IS NULL;
