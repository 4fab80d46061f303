import type { TaskList } from 'graphile-worker';
import { analytics__rollup } from './tasks/analytics__rollup.js';
import { audit__prune } from './tasks/audit__prune.js';
import { document__autoversion } from './tasks/document__autoversion.js';
import { document__compact } from './tasks/document__compact.js';
import { document__purge } from './tasks/document__purge.js';
import { document__snapshot } from './tasks/document__snapshot.js';
import { session__expire } from './tasks/session__expire.js';

/** Every task the worker runs, by identifier. */
export const taskList: TaskList = {
  document__snapshot,
  document__autoversion,
  document__compact,
  document__purge,
  session__expire,
  audit__prune,
  analytics__rollup,
};

/** How long deleted documents and audit records are kept (from the config). */
export interface Retention {
  trashDays: number;
  auditDays: number;
}

/** Recurring jobs (graphile-worker crontab syntax), with the retention periods as payloads. */
export function crontab({ trashDays, auditDays }: Retention): string {
  return [
    `5 * * * * analytics__rollup ?max=1`,
    `15 * * * * document__purge ?max=1 ${JSON.stringify({ retentionDays: trashDays })}`,
    `30 3 * * * session__expire ?max=1`,
    `45 3 * * * audit__prune ?max=1 ${JSON.stringify({ retentionDays: auditDays })}`,
    '',
  ].join('\n');
}
