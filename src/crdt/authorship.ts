import { OpLog } from './engine.js';
import { findRun, type EngineOp, type HistoryEntry } from './runs.js';

/** A run of the text written by one agent: `length` code points whose seqs are `seqs` (in text order). */
export interface AuthorRun {
  agent: string;
  length: number;
  /** The seq of each code point of the run, in text order. */
  seqs: number[];
}

/** Local versions lv..lv+len-1 belong to `agent`, seqs seq..seq+len-1. */
export interface LvRun {
  lv: number;
  len: number;
  agent: string;
  seq: number;
}


/** Code points U+10000..U+10FFFF name local versions in the scratch text: a window of this many at a time. */
const WINDOW = 0x100000;
const FIRST = 0x10000;
/** Stands for a character whose local version is outside the current window. */
const OTHER = 'x';

/**
 * Which agent (and seq) wrote each character of the text at `target`. diamond-types does not say
 * where an operation's characters ended up, so the history up to `target` is replayed into a
 * scratch oplog with the same positions, parents and agents, but with each inserted character
 * replaced by a code point that names its local version; the scratch's merged text then reads off
 * every character's origin, the engine having done the merge. (Histories of more than about a
 * million operations are replayed once per window of a million.)
 *
 * `inTarget(lv)` says whether a local version belongs to the history of `target` (a prefix of each
 * linear span of the history); `runs` maps local versions to agents.
 */
export function authorshipAt(oplog: OpLog, total: number, inTarget: (lv: number) => boolean, runs: LvRun[]): AuthorRun[] {
  const ops = oplog.getOps() as EngineOp[];
  const history = oplog.getHistory() as HistoryEntry[];
  const agentAt = agentIndex(runs);
  const pieces = piecesOf(ops, history, inTarget, agentAt);
  const lvs = new Array<number>();
  for (let windowStart = 0; windowStart < total || windowStart === 0; windowStart += WINDOW) {
    const text = replay(pieces, windowStart);
    let i = 0;
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (windowStart === 0) lvs.push(-1);
      if (cp >= FIRST) lvs[i] = cp - FIRST + windowStart;
      i++;
    }
    if (total <= WINDOW) break;
  }
  const out: AuthorRun[] = [];
  for (const lv of lvs) {
    const { agent, seq } = agentAt(lv);
    const last = out[out.length - 1];
    if (last && last.agent === agent) {
      last.length++;
      last.seqs.push(seq);
    } else out.push({ agent, length: 1, seqs: [seq] });
  }
  return out;
}

/** One step of the replay: a whole operation, or the part of one inside a history span and the target. */
interface Piece {
  lv: number;
  len: number;
  agent: string;
  /** Local versions of the parents (null: the previous local version). */
  parents: number[] | null;
  kind: 'Ins' | 'Del';
  pos: number;
  /** For inserts: the local version of each character, in text order. */
  charLvs?: number[];
  /** For inserts: the characters themselves, in text order. */
  chars?: string[];
}

function piecesOf(ops: EngineOp[], history: HistoryEntry[], inTarget: (lv: number) => boolean, agentAt: (lv: number) => { agent: string; end: number }): Piece[] {
  const spanStarts = new Map<number, number[]>();
  const cuts = new Set<number>();
  for (const h of history) {
    spanStarts.set(h.span[0], h.parents);
    cuts.add(h.span[0]);
  }
  const pieces: Piece[] = [];
  let lv = 0;
  for (const op of ops) {
    const len = op.end - op.start;
    const content = op.kind === 'Ins' ? Array.from(op.content ?? '') : [];
    let o = 0;
    while (o < len) {
      const at = lv + o;
      if (!inTarget(at)) {
        o++;
        continue;
      }
      // A piece ends at the op's end, the next history span, the next agent run, or a reversed run's next character.
      let k = 1;
      const agentRun = agentAt(at);
      const single = (op.kind === 'Ins' && !op.fwd);
      while (!single && o + k < len && !cuts.has(at + k) && at + k < agentRun.end && inTarget(at + k)) k++;
      const parents = spanStarts.get(at) ?? null;
      if (op.kind === 'Ins') {
        const charLvs = Array.from({ length: k }, (_, j) => at + j);
        // A reversed run (each character typed before the previous one) lists its content in text order.
        const chars = op.fwd ? content.slice(o, o + k) : [content[len - 1 - o]!];
        pieces.push({ lv: at, len: k, agent: agentRun.agent, parents, kind: 'Ins', pos: op.fwd ? op.start + o : op.start, charLvs, chars });
      } else {
        // A forward delete removes the character at `start` each time; a backspace run, the one before the last removed.
        pieces.push({ lv: at, len: k, agent: agentRun.agent, parents, kind: 'Del', pos: op.fwd ? op.start : op.end - o - k });
      }
      o += k;
    }
    lv += len;
  }
  return pieces;
}

/** Replays the pieces into a scratch oplog, inserted characters naming their local versions within the window. */
function replay(pieces: Piece[], windowStart: number): string {
  const scratch = rebuild(pieces, (p) => p.charLvs!.map((lv) => (lv >= windowStart && lv < windowStart + WINDOW ? String.fromCodePoint(FIRST + lv - windowStart) : OTHER)).join(''));
  try {
    const branch = scratch.checkout();
    try {
      return branch.get();
    } finally {
      branch.free();
    }
  } finally {
    scratch.free();
  }
}

/**
 * The history of `target` alone, as a new oplog (the caller frees it): the same operations, agents,
 * positions and parents, without what came after or beside it (forkDocument keeping history).
 */
export function historyUpTo(oplog: OpLog, inTarget: (lv: number) => boolean, runs: LvRun[]): OpLog {
  const pieces = piecesOf(oplog.getOps() as EngineOp[], oplog.getHistory() as HistoryEntry[], inTarget, agentIndex(runs));
  return rebuild(pieces, (p) => p.chars!.join(''));
}

/** Applies the pieces, in order, to a new oplog; `textOf` gives each insert's characters. */
function rebuild(pieces: Piece[], textOf: (p: Piece) => string): OpLog {
  const scratch = new OpLog();
  try {
    // Original local version -> scratch local version, as runs (pieces arrive in local-version order).
    const map: { orig: number; scratch: number; len: number }[] = [];
    let next = 0;
    const toScratch = (lv: number): number => {
      const r = findRun(map, lv, (x) => x.orig, (x) => x.len);
      if (!r) throw new Error(`local version ${lv} is not in the replayed history`);
      return r.scratch + (lv - r.orig);
    };
    for (const p of pieces) {
      const parents = new Uint32Array((p.parents ?? [p.lv - 1]).filter((x) => x >= 0).map(toScratch));
      scratch.setAgent(p.agent);
      if (p.kind === 'Ins') {
        scratch.ins(p.pos, textOf(p), parents);
      } else {
        scratch.del(p.pos, p.len, parents);
      }
      const last = map[map.length - 1];
      if (last && last.orig + last.len === p.lv && last.scratch + last.len === next) last.len += p.len;
      else map.push({ orig: p.lv, scratch: next, len: p.len });
      next += p.len;
    }
    return scratch;
  } catch (err) {
    scratch.free();
    throw err;
  }
}

/** Local version -> its agent, seq, and the end of its agent run. */
function agentIndex(runs: LvRun[]): (lv: number) => { agent: string; seq: number; end: number } {
  const sorted = [...runs].sort((a, b) => a.lv - b.lv);
  return (lv) => {
    const r = findRun(sorted, lv, (x) => x.lv, (x) => x.len);
    if (!r) throw new Error(`no agent for local version ${lv}`);
    return { agent: r.agent, seq: r.seq + (lv - r.lv), end: r.lv + r.len };
  };
}
