import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * Traces are read from the team's shared folder, never copied into the repository: TRACES_DIR, else
 * the nearest `shared/traces` beside the checkout or one of its parents (../shared/traces for a
 * checkout next to it), else this machine's /work/shared/traces.
 */
export const TRACES_DIR = process.env.TRACES_DIR ?? findTraces();

function findTraces(): string {
  for (let dir = path.resolve(process.cwd(), '..'); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'traces');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  return '/work/shared/traces';
}

export type Patch = [number, number, string];
export interface SequentialTrace {
  endContent: string;
  txns: { patches: Patch[] }[];
}
export interface ConcurrentTrace {
  endContent: string;
  numAgents: number;
  txns: { parents: number[]; agent: number; patches: Patch[] }[];
}

export function readTrace<T>(rel: string): T {
  return JSON.parse(gunzipSync(readFileSync(path.join(TRACES_DIR, rel))).toString('utf8')) as T;
}

export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** The sha256 of endContent that traces/README.md lists. */
export const EXPECTED_SHA: Record<string, string> = {
  'sequential/automerge-paper.json.gz': 'a489e9022976c14e46627aea174d07797edcb3fd17df42605956d4cf01bf9039',
  'concurrent/friendsforever.json.gz': '4720ec330c91e288c00b71cab318f7a1cdde689dfc401f269c353acfd6cb03f6',
  'concurrent/clownschool.json.gz': 'd0812d3d6bfd59eab997e16187c9f1f575c65c84b4b539b033ab499c2edc79d5',
};

export type WireOp = { insert: { pos: number; text: string } } | { delete: { pos: number; len: number } };

/** A splice patch as ops: delete first, then insert, at one position. */
export function toOps(p: Patch): WireOp[] {
  const [pos, del, ins] = p;
  const out: WireOp[] = [];
  if (del > 0) out.push({ delete: { pos, len: del } });
  if (ins.length > 0) out.push({ insert: { pos, text: ins } });
  return out;
}

/** Events (diamond-types local versions) an op takes: one per inserted or deleted code point. */
export const eventsOf = (op: WireOp) => ('insert' in op ? Array.from(op.insert.text).length : op.delete.len);
