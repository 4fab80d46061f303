-- cowrite_append, as in 0001, plus automatic versions: when a document's rows start a new burst of
-- activity (its first rows after the last automatic version), a document__autoversion job is queued in
-- the same transaction, to run after quiet_ms; the job closes the burst into a version once the
-- document has been quiet that long. A burst that reaches max_ops rows is closed at once.
DROP FUNCTION cowrite_append(jsonb, int, int);
--> statement-breakpoint
CREATE FUNCTION cowrite_append(p_rows jsonb, every_ops int, every_events int, quiet_ms int, max_ops int)
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
    RETURNING d.id, d.op_count - v.n AS base, d.op_count AS ops_after, d.event_count - v.e AS events_before, d.event_count AS events_after,
              d.versioned_order
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
         END
     AND CASE
           WHEN u.ops_after - u.versioned_order >= max_ops AND u.base - u.versioned_order < max_ops
           THEN (graphile_worker.add_job('document__autoversion', json_build_object('documentId', u.id, 'quietMs', quiet_ms, 'maxOps', max_ops),
                   job_key := 'document__autoversion:' || u.id, run_at := now(), job_key_mode := 'replace')).id IS NOT NULL
           WHEN u.base = u.versioned_order
           THEN (graphile_worker.add_job('document__autoversion', json_build_object('documentId', u.id, 'quietMs', quiet_ms, 'maxOps', max_ops),
                   job_key := 'document__autoversion:' || u.id, run_at := now() + make_interval(secs => quiet_ms / 1000.0))).id IS NOT NULL
           ELSE true
         END;
END
$$;
