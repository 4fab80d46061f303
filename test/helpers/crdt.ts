import type { OpLog } from 'diamond-types-node';

/** The current text of a test client's own diamond-types replica. */
export function textOf(log: OpLog): string {
  const b = log.checkout();
  const t = b.get();
  b.free();
  return t;
}
