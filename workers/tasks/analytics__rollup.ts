import { z } from 'zod';
import { defineTask } from '../defineTask.js';
import { inTransaction } from '../transaction.js';

/**
 * Counts, per document, user and day (UTC): edits (accepted writes; a folded row counts all of its), characters inserted and deleted,
 * and active minutes (minutes with at least one edit). Each run recomputes whole days from the day of
 * its previous run on, from the operation log, so running it twice gives the same figures, and a
 * late commit is counted by the next run.
 */
export const analytics__rollup = defineTask('analytics__rollup', z.object({}), async (_p, client, helpers) => {
  await inTransaction(client, async () => {
    await client.query(`INSERT INTO analytics_state (id, rolled_up_to) VALUES (1, 'epoch') ON CONFLICT (id) DO NOTHING`);
    const { rows } = await client.query<{ from_day: Date; now: Date }>(
      `SELECT date_trunc('day', rolled_up_to AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS from_day, now() AS now FROM analytics_state WHERE id = 1 FOR UPDATE`,
    );
    const { from_day: fromDay, now } = rows[0]!;
    const counted = await client.query(
      `INSERT INTO activity_daily (document_id, user_id, day, edits, inserted, deleted, active_minutes)
       SELECT o.document_id, o.author_id, (o.created_at AT TIME ZONE 'UTC')::date,
              sum(o.edits), sum(o.inserted), sum(o.deleted), count(DISTINCT date_trunc('minute', o.created_at))
         FROM operations o
        WHERE o.document_id IN (SELECT id FROM documents WHERE updated_at >= $1) AND o.created_at >= $1
        GROUP BY 1, 2, 3
       ON CONFLICT (document_id, user_id, day) DO UPDATE
          SET edits = EXCLUDED.edits, inserted = EXCLUDED.inserted, deleted = EXCLUDED.deleted, active_minutes = EXCLUDED.active_minutes`,
      [fromDay],
    );
    await client.query('UPDATE analytics_state SET rolled_up_to = $1 WHERE id = 1', [now]);
    helpers.logger.info(`analytics__rollup: ${counted.rowCount} (document, user, day) rows from ${fromDay.toISOString().slice(0, 10)}`);
  });
});
