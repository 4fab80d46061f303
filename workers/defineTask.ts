import type { JobHelpers, Task } from 'graphile-worker';
import type pg from 'pg';
import type { z } from 'zod';

/**
 * A task whose payload is checked before it runs: one that does not fit its schema is logged and
 * dropped, since retrying it can never succeed. `run` gets the payload and a client of the
 * worker's pool (its own transaction is `inTransaction`'s to open).
 */
export function defineTask<S extends z.ZodType>(
  name: string,
  payload: S,
  run: (p: z.infer<S>, client: pg.PoolClient, helpers: JobHelpers) => Promise<void>,
): Task {
  return async (raw, helpers) => {
    const parsed = payload.safeParse(raw ?? {});
    if (!parsed.success) {
      helpers.logger.error(`${name}: bad payload ${JSON.stringify(raw)}`);
      return;
    }
    await helpers.withPgClient((c) => run(parsed.data, c as unknown as pg.PoolClient, helpers));
  };
}
