import type { TaskList } from 'graphile-worker';
import { document__autoversion } from './tasks/document__autoversion.js';
import { document__snapshot } from './tasks/document__snapshot.js';

/** Every task the worker runs, by identifier. */
export const taskList: TaskList = {
  document__snapshot,
  document__autoversion,
};

/** Recurring jobs (graphile-worker crontab syntax). */
export const crontab = '# no recurring jobs yet\n';
