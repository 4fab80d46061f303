-- Appends a batch of operation rows for several documents in one statement (one round trip, one
-- transaction). Documents are locked in id order (instances committing the same documents never
-- deadlock); each document's rows take the next server orders in the order given; a snapshot job is
-- queued, in the same transaction, for each document that crossed a multiple of every_ops rows or
-- every_events characters. Returns each document's base: its rows got base+1, base+2, ...
CREATE FUNCTION cowrite_append(
  p_docs uuid[], p_counts int[], p_events bigint[],
  r_doc uuid[], r_idx int[], r_agent text[], r_seq_start int[], r_seq_end int[], r_ops jsonb[], r_patch bytea[],
  r_parents jsonb[], r_author uuid[], r_ins int[], r_del int[],
  every_ops int, every_events int
) RETURNS TABLE (document_id uuid, base bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM documents d WHERE d.id = ANY(p_docs) ORDER BY d.id FOR UPDATE;
  RETURN QUERY
  WITH upd AS (
    UPDATE documents d
       SET op_count = d.op_count + v.n, event_count = d.event_count + v.e, updated_at = now()
      FROM unnest(p_docs, p_counts, p_events) AS v(id, n, e)
     WHERE d.id = v.id
    RETURNING d.id, d.op_count - v.n AS base, d.op_count AS ops_after, d.event_count - v.e AS events_before, d.event_count AS events_after
  ), ins AS (
    INSERT INTO operations (document_id, server_order, agent, seq_start, seq_end, ops, patch, parents, author_id, inserted, deleted)
    SELECT r.doc, u.base + r.idx, r.agent, r.seq_start, r.seq_end, r.ops, r.patch, r.parents, r.author, r.ins, r.del
      FROM unnest(r_doc, r_idx, r_agent, r_seq_start, r_seq_end, r_ops, r_patch, r_parents, r_author, r_ins, r_del)
           AS r(doc, idx, agent, seq_start, seq_end, ops, patch, parents, author, ins, del)
      JOIN upd u ON u.id = r.doc
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
