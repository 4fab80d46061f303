/** An operation as diamond-types reports it (getOps, getXFSince): a run of inserted or deleted code points. */
export interface EngineOp {
  kind: 'Ins' | 'Del';
  start: number;
  end: number;
  fwd: boolean;
  content?: string;
}

/** A linear span of diamond-types' history (getHistory): local versions [span[0], span[1]) after `parents`. */
export interface HistoryEntry {
  span: [number, number];
  parents: number[];
}

/**
 * The run containing `x` in a list of runs sorted by start and not overlapping ([start, start + len)),
 * or undefined.
 */
export function findRun<T>(runs: readonly T[], x: number, start: (r: T) => number, len: (r: T) => number): T | undefined {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (x < start(r)) hi = mid - 1;
    else if (x >= start(r) + len(r)) lo = mid + 1;
    else return r;
  }
  return undefined;
}
