import { z } from 'zod';
import { defineTask } from '../defineTask.js';

/** Deletes audit records older than the retention period (the log is otherwise append-only). */
export const audit__prune = defineTask('audit__prune', z.object({ retentionDays: z.number().positive() }), async ({ retentionDays }, client, helpers) => {
  const { rowCount } = await client.query('DELETE FROM audit_log WHERE at < now() - make_interval(secs => $1 * 86400)', [retentionDays]);
  if (rowCount) helpers.logger.info(`audit__prune: ${rowCount} record(s) deleted`);
});
