import { PatchFormatError, type DecodedPatch, type PatchEntry } from './patchFormat.js';

/**
 * Checks the history a decoded patch gives its operations against the document's, before the engine
 * merges it: every parent names an operation that exists, each operation's parents are a version in
 * its simplest form (no repeats, none an ancestor of another), operations the document has come
 * before those it lacks, and each agent's new operations follow on from its previous one.
 *
 * diamond-types writes parents in that form and trusts them when it reads them back: parents that
 * repeat an operation, or name one of another parent's ancestors, make it panic while it merges the
 * patch (found by a fuzzer that rewrites patches' parents; see test/core/patchFuzz.test.ts).
 */

/** What the check needs of the document's own history. */
export interface KnownHistory {
  /** The document has an agent's operations with seqs below this one. */
  nextSeq(agent: string): number;
  /** The local version of one of the document's operations, or undefined when it has no such operation. */
  lvOf(agent: string, seq: number): number | undefined;
  /** The version of the union of two versions (local, in simplest form). */
  merge(a: Uint32Array, b: Uint32Array): Uint32Array;
  /** Whether version `a` includes everything in `b`. */
  descends(a: Uint32Array, b: Uint32Array): boolean;
}

/** A parent names an operation the document does not have (yet). */
export class UnknownParentError extends Error {}

/** Most agents whose new operations one patch may carry (their causal order is tracked per agent). */
export const MAX_PATCH_AGENTS = 16;

function fail(why: string): never {
  throw new PatchFormatError(why);
}

/** Of an entry holding new operations: where they start, and what is known of the operations before. */
interface Before {
  /** The patch index of its first new operation (those before it in the entry are the document's). */
  firstNew: number;
  /** Per new agent, how many of its seqs (from 0) are among them: the agent's new operations form a chain. */
  counts: Int32Array;
  /** The document's operations among them, as a version. */
  known: Uint32Array;
}

export function checkPatchHistory(patch: DecodedPatch, doc: KnownHistory): void {
  const { spans, entries } = patch;
  const spanStarts: number[] = [];
  let total = 0;
  for (const s of spans) {
    spanStarts.push(total);
    total += s.seqEnd - s.seqStart;
  }
  const nextSeq = new Map<string, number>();
  const known = (agent: string) => {
    let n = nextSeq.get(agent);
    if (n === undefined) nextSeq.set(agent, (n = doc.nextSeq(agent)));
    return n;
  };
  const spanAt = (i: number) => lastAtOrBelow(spanStarts, i);
  const idOf = (i: number): [string, number] => {
    const k = spanAt(i);
    const s = spans[k]!;
    return [s.agent, s.seqStart + (i - spanStarts[k]!)];
  };
  const isNew = (i: number) => {
    const [agent, seq] = idOf(i);
    return seq >= known(agent);
  };
  const lvOfKnown = (p: number | [string, number]): number => {
    const [agent, seq] = typeof p === 'number' ? idOf(p) : p;
    const lv = doc.lvOf(agent, seq);
    if (lv === undefined) throw new UnknownParentError();
    return lv;
  };

  const agentIndex = new Map<string, number>();
  for (const s of spans) {
    if (s.seqEnd > known(s.agent) && !agentIndex.has(s.agent)) {
      if (agentIndex.size === MAX_PATCH_AGENTS) fail(`a patch may carry new operations of at most ${MAX_PATCH_AGENTS} agents`);
      agentIndex.set(s.agent, agentIndex.size);
    }
  }

  const entryStarts = entries.map((e) => e.start);
  const before = new Map<PatchEntry, Before>();
  const entryOf = (i: number) => entries[lastAtOrBelow(entryStarts, i)]!;

  /** Per new agent, how many of its seqs are at or before new operation `i`. */
  const countsAt = (i: number): Int32Array => {
    const e = entryOf(i);
    const b = before.get(e)!;
    const counts = b.counts.slice();
    for (let k = spanAt(b.firstNew); k < spans.length && spanStarts[k]! <= i; k++) {
      const s = spans[k]!;
      const a = agentIndex.get(s.agent)!;
      const last = s.seqStart + (Math.min(i, spanStarts[k]! + (s.seqEnd - s.seqStart) - 1) - spanStarts[k]!);
      counts[a] = Math.max(counts[a]!, last + 1);
    }
    return counts;
  };
  const knownBefore = (i: number): Uint32Array => before.get(entryOf(i))!.known;
  const union = (a: Uint32Array, b: Uint32Array): Uint32Array => (a.length === 0 ? b : b.length === 0 ? a : doc.merge(a, b));

  for (const e of entries) {
    // Which of its operations are new: the document's come first (each is the next one's parent).
    let f = e.end;
    for (let k = spanAt(e.start); k < spans.length && spanStarts[k]! < e.end; k++) {
      const s = spans[k]!;
      const from = Math.max(spanStarts[k]!, e.start);
      const to = Math.min(spanStarts[k]! + (s.seqEnd - s.seqStart), e.end);
      const firstNewHere = Math.max(from, spanStarts[k]! + (known(s.agent) - s.seqStart));
      if (f < e.end && firstNewHere > from) fail('an operation the document has comes after one it lacks');
      if (f === e.end && firstNewHere < to) f = firstNewHere;
    }
    const keys = new Set<string>();
    for (const p of e.parents) {
      const id = typeof p === 'number' ? idOf(p) : p;
      const key = `${id[0]}\u0000${id[1]}`;
      if (keys.has(key)) fail('an operation is named twice among its parents');
      keys.add(key);
      if (typeof p !== 'number' || !isNew(p)) lvOfKnown(p);
      else if (f > e.start) fail('an operation the document has comes after one it lacks');
    }
    if (f === e.end) continue;

    let b: Before;
    if (f > e.start) {
      b = { firstNew: f, counts: new Int32Array(agentIndex.size), known: new Uint32Array([lvOfKnown(f - 1)]) };
    } else {
      const knownParents: number[] = [];
      const newParents: number[] = [];
      for (const p of e.parents) {
        if (typeof p === 'number' && isNew(p)) newParents.push(p);
        else knownParents.push(lvOfKnown(p));
      }
      const counts = new Int32Array(agentIndex.size);
      let version: Uint32Array = new Uint32Array(0);
      for (const lv of knownParents) version = union(version, new Uint32Array([lv]));
      if (version.length !== knownParents.length) fail("an operation's parents include one of another's ancestors");
      const countsOf = newParents.map(countsAt);
      for (let x = 0; x < newParents.length; x++) {
        const c = countsOf[x]!;
        for (let a = 0; a < c.length; a++) counts[a] = Math.max(counts[a]!, c[a]!);
        const [agent, seq] = idOf(newParents[x]!);
        const a = agentIndex.get(agent)!;
        // An agent's new operations form a chain, so counts say exactly which come before another.
        for (let y = 0; y < newParents.length; y++) if (y !== x && countsOf[y]![a]! > seq) fail("an operation's parents include one of another's ancestors");
        const inherited = knownBefore(newParents[x]!);
        for (const lv of knownParents) if (doc.descends(inherited, new Uint32Array([lv]))) fail("an operation's parents include one of another's ancestors");
        version = union(version, inherited);
      }
      b = { firstNew: f, counts, known: version };
    }
    before.set(e, b);

    // Each agent's next new operation comes after its previous one.
    for (let k = spanAt(f); k < spans.length && spanStarts[k]! < e.end; k++) {
      const s = spans[k]!;
      const from = Math.max(spanStarts[k]!, f);
      const seq = s.seqStart + (from - spanStarts[k]!);
      if (seq <= known(s.agent)) continue;
      const counts = from === f ? b.counts : countsAt(from - 1);
      if (counts[agentIndex.get(s.agent)!]! < seq) fail(`agent "${s.agent}" has an operation that does not follow on from its previous one`);
    }
  }
}

/** The index of the last value at or below `x` in ascending `values` (which start at or below it). */
function lastAtOrBelow(values: number[], x: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (values[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
