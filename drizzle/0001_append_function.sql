-- Appends a batch of operation rows for several documents in one statement (one round trip, one
-- transaction). The rows come as one JSON array (cheaper to send than a dozen typed arrays):
-- [{ "d": document id, "i": index among that document's rows (1-based), "a": agent, "s": seq start,
--    "e": seq end, "o": ops or null, "p": base64 patch or null, "r": parents, "u": author,
--    "n": inserted, "x": deleted }, ...]
-- Documents are locked in id order (instances committing the same documents never deadlock); each
-- document's rows take the next server orders in index order; a snapshot job is queued, in the same
-- transaction, for each document that crossed a multiple of every_ops rows or every_events characters.
-- Returns each document's base: its rows got base+1, base+2, ...
CREATE FUNCTION cowrite_append(p_rows jsonb, every_ops int, every_events int)
RETURNS TABLE (document_id uuid, base bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM documents d
   WHERE d.id IN (SELECT DISTINCT (x->>'d')::uuid FROM jsonb_array_elements(p_rows) AS x)
   ORDER BY d.id FOR UPDATE;
  RETURN QUERY
  WITH batch AS (
    SELECT r.d AS doc, r.i AS idx, r.a AS agent, r.s AS seq_start, r.e AS seq_end, r.o AS ops, r.p AS patch, r.r AS parents,
           r.u AS author, r.n AS ins, r.x AS del
      FROM jsonb_to_recordset(p_rows) AS r(d uuid, i int, a text, s int, e int, o jsonb, p text, r jsonb, u uuid, n int, x int)
  ), per_doc AS (
    SELECT b.doc AS id, count(*)::int AS n, sum(b.ins + b.del)::bigint AS e FROM batch b GROUP BY b.doc
  ), upd AS (
    UPDATE documents d
       SET op_count = d.op_count + v.n, event_count = d.event_count + v.e, updated_at = now()
      FROM per_doc v
     WHERE d.id = v.id
    RETURNING d.id, d.op_count - v.n AS base, d.op_count AS ops_after, d.event_count - v.e AS events_before, d.event_count AS events_after
  ), ins AS (
    INSERT INTO operations (document_id, server_order, agent, seq_start, seq_end, ops, patch, parents, author_id, inserted, deleted)
    SELECT b.doc, u.base + b.idx, b.agent, b.seq_start, b.seq_end, b.ops, decode(b.patch, 'base64'), b.parents, b.author, b.ins, b.del
      FROM batch b JOIN upd u ON u.id = b.doc
  )
  SELECT u.id, u.base
    FROM upd u
   WHERE CASE
           WHEN u.ops_after / every_ops > u.base / every_ops OR u.events_after / every_events > u.events_before / every_events
           THEN (graphile_worker.add_job('document__snapshot', json_build_object('documentId', u.id),
                   job_key := 'document__snapshot:' || u.id, run_at := now() + interval '2 seconds')).id IS NOT NULL
           ELSE true
         END;
END
$$;
