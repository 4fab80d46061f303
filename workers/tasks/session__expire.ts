import { z } from 'zod';
import { defineTask } from '../defineTask.js';

/**
 * Deletes PostgreSQL sessions that expired or were revoked more than a day ago (a day's grace keeps
 * them listable for whoever investigates a sign-out). Redis sessions expire by themselves.
 */
export const session__expire = defineTask('session__expire', z.object({}), async (_p, client, helpers) => {
  const { rowCount } = await client.query(`DELETE FROM sessions WHERE expires_at < now() - interval '1 day' OR revoked_at < now() - interval '1 day'`);
  if (rowCount) helpers.logger.info(`session__expire: ${rowCount} session(s) deleted`);
});
