import { OpLog } from 'diamond-types-node';

/** The current text of a test client's own diamond-types replica. */
export function textOf(log: OpLog): string {
  const b = log.checkout();
  const t = b.get();
  b.free();
  return t;
}

/** A client-side replica holding a document's history (each agent typing its text at the start), to build patches from. */
export function replicaOf(history: { agent: string; text: string }[]): OpLog {
  const log = new OpLog();
  for (const h of history) {
    log.setAgent(h.agent);
    log.ins(0, h.text);
  }
  return log;
}
