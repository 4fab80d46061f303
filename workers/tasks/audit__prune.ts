import type { Task } from 'graphile-worker';

/** Deletes audit records older than the retention period (the log is otherwise append-only). */
export const audit__prune: Task = async (payload, helpers) => {
  const days = (payload as { retentionDays?: unknown } | null)?.retentionDays;
  if (typeof days !== 'number' || !(days > 0)) {
    helpers.logger.error(`audit__prune: bad payload ${JSON.stringify(payload)}`);
    return;
  }
  const { rowCount } = await helpers.query('DELETE FROM audit_log WHERE at < now() - make_interval(secs => $1 * 86400)', [days]);
  if (rowCount) helpers.logger.info(`audit__prune: ${rowCount} record(s) deleted`);
};
