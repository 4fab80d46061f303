import { authorshipAt, historyUpTo, type AuthorRun, type LvRun } from './authorship.js';
import { findRun, type EngineOp, type HistoryEntry } from './runs.js';
import { Branch, OpLog, withoutPanicOutput } from './engine.js';
import { AppError, ErrorCode, badInput } from '../errors.js';
import { codePointLength, hasLoneSurrogate } from './text.js';
import { decodePatch, PatchFormatError, type DecodedPatch } from './patchFormat.js';
import { checkPatchHistory, UnknownParentError } from './patchHistory.js';
import { canonicalVersion, isValidAgentName, type RemoteVersion } from './version.js';

/** A local version: sorted local op numbers of one replica (never shown to clients). */
export type Frontier = Uint32Array;

export type TextOp = { kind: 'insert'; pos: number; text: string } | { kind: 'delete'; pos: number; len: number };

export interface ReplicaLimits {
  /** Most code points inserted by one edit or patch. */
  maxInsertChars: number;
  /** Longest document, in code points. */
  maxDocumentChars: number;
  /** Most ops in one positional edit. */
  maxOpsPerEdit: number;
}

/**
 * One accepted write as it is stored and replicated: a positional edit (re-applied as made, against
 * its parents: no transform, so replaying a crowded history stays cheap) or a client's patch.
 */
export type LogEntry =
  | { kind: 'ops'; agent: string; seqStart: number; parents: RemoteVersion; ops: TextOp[] }
  | { kind: 'patch'; patch: Uint8Array };

/** The reads of a document's text and history that cost a checkout or more (see Replica.read). */
export interface Reads {
  /** The text at the frontier, moving the cached view of the current text there. */
  text: string;
  /** Its length in code points (cached; a checkout when not known). */
  length: number;
  /** The text at a frontier behind the current one, leaving that view where it is. */
  pastText: string;
  /** The text and who wrote each character of it. */
  authorship: { text: string; runs: AuthorRun[] };
  /** The history up to the frontier alone (oplog bytes and its agents), with its text. */
  history: { bytes: Uint8Array; agents: string[]; content: string };
}

/** A cheap estimate of the memory an entry holds (its text or patch bytes, plus a little per op). */
export function entryBytes(e: LogEntry): number {
  if (e.kind === 'patch') return 64 + e.patch.byteLength;
  let n = 64;
  for (const op of e.ops) n += 32 + (op.kind === 'insert' ? op.text.length * 2 : 0);
  return n;
}

/** What an accepted (or already applied) edit produced. */
export interface EditResult {
  /** True when the whole (agent, seq) range was already applied: nothing changed. */
  duplicate: boolean;
  /** The version the edit produced: its parents plus its operations. */
  version: RemoteVersion;
  /** What to store and replicate (null for a duplicate). */
  entry: LogEntry | null;
  /** Runs of new operations per agent: [agent, seqStart, seqEnd). */
  runs: AgentRun[];
  inserted: number;
  deleted: number;
}

export interface AgentRun {
  agent: string;
  seqStart: number;
  seqEnd: number;
}

/** The engine trapped: this replica is lost and must be rebuilt from storage. */
export class EngineFailure extends Error {
  constructor(cause: unknown) {
    super(`CRDT engine failure: ${String((cause as Error)?.message ?? cause)}`, { cause });
  }
}

/**
 * A patch that passed the strict decoder and the checks against the document, yet made the engine trap
 * on the scratch copy. None is known: the checks turn away every input found to crash the engine (see
 * patchFormat.ts). Refused as BAD_USER_INPUT like any bad patch, and told apart because it means the
 * checks missed something, and it cost the process the scratch copy's memory.
 */
export class BrokenPatchError extends AppError {
  constructor() {
    super(ErrorCode.BAD_USER_INPUT, 'patch could not be decoded', { field: 'patch' });
  }
}

/** Raised when a version names operations this replica has not seen (yet). */
export class UnknownVersionError extends AppError {
  constructor(what = 'version') {
    super(ErrorCode.UNKNOWN_VERSION, `${what} names operations this document does not have`);
  }
}

/** The seqs a patch adds, per agent (one range each: an agent's new seqs follow on without a gap). */
class NewOperations {
  readonly ranges = new Map<string, [number, number]>();
  /** How many operations. */
  count = 0;

  add(agent: string, from: number, to: number): void {
    const range = this.ranges.get(agent);
    if (range) range[1] = to;
    else this.ranges.set(agent, [from, to]);
    this.count += to - from;
  }

  /** Whether a run of operations is among them. */
  holds(run: AgentRun): boolean {
    const range = this.ranges.get(run.agent);
    return range !== undefined && run.seqStart >= range[0] && run.seqEnd <= range[1];
  }
}

interface Run {
  seq: number;
  lv: number;
  len: number;
}

const EMPTY = new Uint32Array(0);
const LENGTH_CACHE_MAX = 20_000;
/** Branches a patch's position check keeps moving forward (see checkPatchOps). */
const WALKERS = 4;

const keyOf = (f: ArrayLike<number>): string => Array.prototype.join.call(f, ',');

/**
 * One document's operation log in diamond-types, behind validation. Nothing unvalidated reaches the
 * engine: positions are checked against the text length at the parent version, parents are resolved
 * and normalised, agents and seqs are checked, patches are decoded strictly and merged into a scratch
 * copy first. It keeps the (agent, seq) -> local version index the engine lacks. Call free() when done.
 */
export class Replica {
  private oplog: OpLog;
  private readonly runs = new Map<string, Run[]>();
  private readonly lengths = new Map<string, number>();
  private view: Branch | null = null;
  private viewKey = '';
  private viewText = '';
  private poisoned = false;
  /** Number of operations (the next local version). */
  size = 0;

  private constructor(oplog: OpLog) {
    this.oplog = oplog;
    this.lengths.set('', 0);
  }

  /** An empty replica. */
  static empty(): Replica {
    return new Replica(new OpLog());
  }

  /** Builds a replica from stored oplog bytes (a snapshot), trusted to be valid. */
  static fromSnapshot(bytes: Uint8Array): Replica {
    const r = Replica.empty();
    r.mergeTrusted(bytes);
    return r;
  }

  /** Applies an entry that storage (or another instance, through storage) already accepted. Returns its agents. */
  applyTrusted(entry: LogEntry): string[] {
    if (entry.kind === 'patch') return this.mergeTrusted(entry.patch);
    if (this.nextSeq(entry.agent) > entry.seqStart) return [entry.agent]; // already here
    const base = this.resolve(entry.parents, 'parents');
    this.guard(() => {
      this.oplog.setAgent(entry.agent);
      let p: Uint32Array = base;
      for (const op of coalesce(entry.ops)) {
        const lv = op.kind === 'insert' ? this.oplog.ins(op.pos, op.text, p) : this.oplog.del(op.pos, op.len, p);
        p = new Uint32Array([lv]);
      }
    });
    const before = this.size;
    this.size = this.computeSize();
    this.addRun(entry.agent, entry.seqStart, before, this.size - before);
    return [entry.agent];
  }

  /** Merges operations that storage (or another instance, through storage) already accepted. Returns their agents. */
  mergeTrusted(patch: Uint8Array): string[] {
    const before = this.size;
    this.guard(() => {
      try {
        this.oplog.addFromBytes(patch);
      } catch (e) {
        if (typeof e === 'string') throw new Error(`stored patch rejected: ${e}`);
        throw e;
      }
    });
    this.size = this.computeSize();
    const agents = this.indexRange(before, this.size);
    return [...new Set(agents.map((r) => r.agent))];
  }

  /** The current local frontier. */
  frontier(): Frontier {
    return this.guard(() => this.oplog.getLocalVersion());
  }

  /** Converts a local frontier into the version clients see. */
  toRemote(f: Frontier): RemoteVersion {
    if (f.length === 0) return [];
    return canonicalVersion(this.guard(() => this.oplog.localToRemoteVersion(f) as RemoteVersion));
  }

  /** Resolves a client's version into a normalised local frontier (union, sorted, deduplicated). */
  resolve(version: RemoteVersion, what = 'version'): Frontier {
    if (version.length === 0) return EMPTY;
    let acc: Uint32Array = EMPTY;
    for (const [agent, seq] of version) {
      const lv = this.lvOf(agent, seq);
      if (lv === undefined) throw new UnknownVersionError(what);
      const one = new Uint32Array([lv]);
      acc = acc.length === 0 ? one : this.guard(() => this.oplog.mergeVersions(acc, one));
    }
    return acc;
  }

  /** The seq an agent's next operation must take. */
  nextSeq(agent: string): number {
    const r = this.runs.get(agent);
    if (!r || r.length === 0) return 0;
    const last = r[r.length - 1]!;
    return last.seq + last.len;
  }

  /** Length in code points of the text at a frontier (cached; computed by a checkout when unknown). */
  lengthAt(f: Frontier): number {
    const key = keyOf(f);
    const cached = this.lengths.get(key);
    if (cached !== undefined) return cached;
    const len = codePointLength(this.textAt(f));
    this.rememberLength(key, len);
    return len;
  }

  /** Whether the length of the text at a frontier is known without a checkout. */
  hasLengthAt(f: Frontier): boolean {
    return this.lengths.has(keyOf(f));
  }

  /** Records the length of the text at a frontier, learnt elsewhere (the change-feed thread). */
  noteLength(f: Frontier, len: number): void {
    this.rememberLength(keyOf(f), len);
  }

  /** Whether the text at a frontier is at hand without a checkout. */
  hasTextAt(f: Frontier): boolean {
    return this.view !== null && keyOf(f) === this.viewKey;
  }

  /** The text at a frontier. Moving forward from the last read reuses its branch. */
  textAt(f: Frontier): string {
    const key = keyOf(f);
    if (this.view && key === this.viewKey) return this.viewText;
    return this.guard(() => {
      if (this.view && this.descends(f, this.view.getLocalVersion())) {
        this.view.merge(this.oplog, f);
      } else {
        this.view?.free();
        this.view = new Branch();
        this.view.merge(this.oplog, f);
      }
      this.viewKey = key;
      this.viewText = this.view.get();
      this.rememberLength(key, codePointLength(this.viewText));
      return this.viewText;
    });
  }

  /**
   * The text at a past frontier (time travel), checked out on a branch of its own so the cached
   * view of the current text stays where it is.
   */
  textAtPast(f: Frontier): string {
    if (this.view && keyOf(f) === this.viewKey) return this.viewText;
    return this.guard(() => textIn(this.oplog, f));
  }

  /**
   * Applies a positional edit by `agent` starting at `seq`, made against `parents`. Validates every op
   * against the text length at that version first; nothing reaches the engine unless all ops are valid.
   */
  applyEdit(agent: string, seq: number, parents: RemoteVersion, ops: TextOp[], limits: ReplicaLimits): EditResult {
    if (!isValidAgentName(agent)) throw badInput('agent is not a valid agent name', { field: 'agent' });
    if (!Number.isSafeInteger(seq) || seq < 0) throw badInput('seq must be a non-negative integer', { field: 'seq' });
    if (ops.length === 0) throw badInput('ops must not be empty', { field: 'ops' });
    if (ops.length > limits.maxOpsPerEdit) {
      throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `an edit may carry at most ${limits.maxOpsPerEdit} ops`, { field: 'ops', max: limits.maxOpsPerEdit });
    }
    let events = 0;
    let inserted = 0;
    for (const op of ops) {
      if (op.kind === 'insert') {
        if (hasLoneSurrogate(op.text)) throw badInput('insert text contains a lone surrogate', { field: 'ops' });
        const n = codePointLength(op.text);
        if (n === 0) throw badInput('an insert must insert at least one character', { field: 'ops' });
        inserted += n;
        events += n;
      } else {
        if (!Number.isSafeInteger(op.len) || op.len < 1) throw badInput('a delete must delete at least one character', { field: 'ops' });
        events += op.len;
      }
    }
    if (inserted > limits.maxInsertChars) {
      throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `an edit may insert at most ${limits.maxInsertChars} characters`, { field: 'ops', max: limits.maxInsertChars });
    }
    const next = this.nextSeq(agent);
    const lastSeq = seq + events - 1;
    if (seq + events <= next) {
      return { duplicate: true, version: [[agent, lastSeq]], entry: null, runs: [], inserted: 0, deleted: 0 };
    }
    if (seq < next) throw badInput(`seq range ${seq}..${lastSeq} overlaps operations already applied (next seq is ${next})`, { field: 'seq', nextSeq: next });
    if (seq > next) throw new AppError(ErrorCode.SEQ_GAP, `seq ${seq} skips ahead of this agent's next seq ${next}`, { field: 'seq', nextSeq: next });

    const base = this.resolve(parents, 'parents');
    let len = this.lengthAt(base);
    let deleted = 0;
    for (const [i, op] of ops.entries()) {
      if (!Number.isSafeInteger(op.pos) || op.pos < 0) throw badInput(`op ${i}: position must be a non-negative integer`, { field: 'ops', index: i });
      if (op.kind === 'insert') {
        if (op.pos > len) throw badInput(`op ${i}: insert at ${op.pos} is past the end (length ${len})`, { field: 'ops', index: i });
        len += codePointLength(op.text);
      } else {
        if (op.pos + op.len > len) throw badInput(`op ${i}: delete of ${op.len} at ${op.pos} runs past the end (length ${len})`, { field: 'ops', index: i });
        len -= op.len;
        deleted += op.len;
      }
    }
    if (len > limits.maxDocumentChars) {
      throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `a document may hold at most ${limits.maxDocumentChars} characters`, { max: limits.maxDocumentChars });
    }

    this.guard(() => {
      this.oplog.setAgent(agent);
      let p: Uint32Array = base;
      let l = this.lengthAt(base);
      for (const op of coalesce(ops)) {
        let lv: number;
        if (op.kind === 'insert') {
          lv = this.oplog.ins(op.pos, op.text, p);
          l += codePointLength(op.text);
        } else {
          lv = this.oplog.del(op.pos, op.len, p);
          l -= op.len;
        }
        p = new Uint32Array([lv]);
        this.rememberLength(String(lv), l);
      }
    });
    const start = this.size;
    this.size += events;
    this.addRun(agent, seq, start, events);
    const entry: LogEntry = { kind: 'ops', agent, seqStart: seq, parents, ops };
    return { duplicate: false, version: [[agent, lastSeq]], entry, runs: [{ agent, seqStart: seq, seqEnd: seq + events }], inserted, deleted };
  }

  /**
   * Merges a client's patch. Before the engine sees it, it is decoded strictly and checked against
   * this document (checkPatch): its new operations must belong to `mayWrite` agents and continue each
   * agent's seq without a gap. Then it is merged into a scratch copy, where its operations must stay
   * inside the text at their parents. Only then is it merged here. Operations the replica already has
   * are ignored.
   */
  applyPatch(bytes: Uint8Array, mayWrite: (agent: string) => boolean, limits: ReplicaLimits): EditResult {
    const fresh = this.checkPatch(bytes, mayWrite, limits);
    if (fresh.count === 0) return { duplicate: true, version: this.toRemote(this.frontier()), entry: null, runs: [], inserted: 0, deleted: 0 };
    const scratch = this.guard(() => this.oplog.clone());
    let trapped = false;
    try {
      try {
        // A patch the engine cannot decode may make it panic: that is an answer here, not an incident.
        withoutPanicOutput(() => scratch.addFromBytes(bytes));
      } catch (e) {
        if (typeof e === 'string' && /BaseVersionUnknown/.test(e)) throw new UnknownVersionError('patch parents');
        if (typeof e === 'string') throw badInput(`patch could not be decoded: ${e}`, { field: 'patch' });
        throw e;
      }
      const after = computeSize(scratch);
      // The engine must have merged exactly the operations the checks above let through.
      const runs = agentRuns(scratch, this.size, after);
      if (after - this.size !== fresh.count || !runs.every((r) => fresh.holds(r))) throw badInput('patch operations could not be accounted for', { field: 'patch' });
      const { inserted, deleted, spanEnds } = this.checkPatchOps(scratch, this.size, after);
      if (inserted > limits.maxInsertChars) {
        throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `a patch may insert at most ${limits.maxInsertChars} characters`, { field: 'patch', max: limits.maxInsertChars });
      }
      // The text holds at most as many characters as were ever inserted, which the history's size
      // bounds: only a document that may be near the limit pays for a checkout of the merged text.
      if (after > limits.maxDocumentChars && codePointLength(textIn(scratch, scratch.getLocalVersion())) > limits.maxDocumentChars) {
        throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `a document may hold at most ${limits.maxDocumentChars} characters`, { max: limits.maxDocumentChars });
      }
      // Valid: merge it into the live log. Operations the log already has are skipped.
      const before = this.size;
      this.guard(() => this.oplog.addFromBytes(bytes));
      this.size = this.computeSize();
      this.indexRange(before, this.size);
      // The live log numbers the patch's operations as the scratch copy did: the lengths found while
      // checking them hold here, so the client's next patch (on the version this one made) needs no checkout.
      for (const [lv, len] of spanEnds) this.rememberLength(String(lv), len);
      return { duplicate: false, version: this.toRemote(this.frontier()), entry: { kind: 'patch', patch: bytes }, runs, inserted, deleted };
    } catch (e) {
      // The live log's own calls go through guard(), which turns a trap into EngineFailure: a trap
      // here is the scratch copy's, made by the patch.
      if (!isWasmTrap(e)) throw e;
      trapped = true;
      throw new BrokenPatchError();
    } finally {
      // A copy that trapped cannot be freed: the engine refuses every call on it, and its memory stays
      // lost. The checks before the engine are there so that no patch gets this far (see BrokenPatchError).
      if (!trapped) scratch.free();
    }
  }

  /**
   * Reads a client's patch strictly (patchFormat.ts) and checks it against this document before the
   * engine sees it: the version it starts from is known here; operations this document lacks belong
   * to agents the caller may write as, and continue each agent's seqs without a gap; and the history
   * it gives them is well formed and joins this document's (patchHistory.ts). Returns the seqs of its
   * operations that are new here.
   */
  private checkPatch(bytes: Uint8Array, mayWrite: (agent: string) => boolean, limits: ReplicaLimits): NewOperations {
    let patch: DecodedPatch;
    try {
      // Its text is what it inserts and deletes: operations new here, or already here (at most 4 bytes each).
      patch = decodePatch(bytes, { maxTextBytes: 2 * 4 * (limits.maxInsertChars + this.size) });
    } catch (e) {
      throw patchRefusal(e);
    }
    const startLvs: number[] = [];
    for (const [agent, seq] of patch.start) {
      const lv = this.lvOf(agent, seq);
      if (lv === undefined) throw new UnknownVersionError('patch parents');
      startLvs.push(lv);
    }
    // The engine merges a patch that starts at exactly this version without looking for operations
    // it already has (diamond-types' non-overlapping case): such a patch must carry none.
    const frontier = this.frontier();
    startLvs.sort((a, b) => a - b);
    const fromHere = startLvs.length === frontier.length && startLvs.every((lv, i) => lv === frontier[i]);
    const fresh = new NewOperations();
    for (const span of patch.spans) {
      const known = this.nextSeq(span.agent);
      if (fromHere && span.seqStart < known) throw badInput('patch repeats operations the document has, from its current version', { field: 'patch' });
      const from = Math.max(span.seqStart, known);
      if (from >= span.seqEnd) continue;
      if (!mayWrite(span.agent)) {
        throw new AppError(ErrorCode.FORBIDDEN, `patch carries new operations by agent "${span.agent}", which was not issued to you for this document`, { field: 'patch' });
      }
      const next = fresh.ranges.get(span.agent)?.[1] ?? known;
      if (from !== next) {
        throw new AppError(ErrorCode.SEQ_GAP, `patch operations of agent "${span.agent}" start at seq ${from}, expected ${next}`, { field: 'patch', nextSeq: next });
      }
      fresh.add(span.agent, from, span.seqEnd);
    }
    if (fresh.count > limits.maxInsertChars) {
      throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `a patch may carry at most ${limits.maxInsertChars} new operations`, { field: 'patch', max: limits.maxInsertChars });
    }
    try {
      checkPatchHistory(patch, {
        nextSeq: (agent) => this.nextSeq(agent),
        lvOf: (agent, seq) => this.lvOf(agent, seq),
        merge: (a, b) => this.guard(() => this.oplog.mergeVersions(a, b)),
        descends: (a, b) => this.descends(a, b),
      });
    } catch (e) {
      throw patchRefusal(e);
    }
    return fresh;
  }

  /** Positional changes that turn the text at `from` into the current text. */
  changesSince(from: Frontier): TextOp[] {
    const xf = this.guard(() => this.oplog.getXFSince(from)) as EngineOp[];
    const out: TextOp[] = [];
    for (const item of xf) {
      if (item.kind === 'Ins') out.push({ kind: 'insert', pos: item.start, text: item.content ?? '' });
      else out.push({ kind: 'delete', pos: item.start, len: item.end - item.start });
    }
    return out;
  }

  /** A patch carrying every operation not in `from`. */
  patchSince(from: Frontier): Uint8Array {
    return this.guard(() => this.oplog.getPatchSince(from));
  }

  /** Agents with operations that `from` does not include. */
  agentsSince(from: Frontier): string[] {
    const out: string[] = [];
    for (const [agent, runs] of this.runs) {
      const last = runs[runs.length - 1];
      if (last && !this.descends(from, new Uint32Array([last.lv + last.len - 1]))) out.push(agent);
    }
    return out;
  }

  /** The whole oplog, for a snapshot. */
  toBytes(): Uint8Array {
    return this.guard(() => this.oplog.toBytes());
  }

  /** True when the frontier `a` includes everything in `b`. */
  descends(a: Frontier, b: Frontier): boolean {
    return this.guard(() => includes(this.oplog, a, b));
  }

  /** One of the costly reads at `f`, by name (so it can be asked of another thread's replica). */
  read<K extends keyof Reads>(what: K, f: Frontier): Reads[K] {
    const result: { [P in keyof Reads]: () => Reads[P] } = {
      text: () => this.textAt(f),
      length: () => this.lengthAt(f),
      pastText: () => this.textAtPast(f),
      authorship: () => ({ text: this.textAtPast(f), runs: this.authorship(f) }),
      history: () => ({ ...this.historyBytes(f), content: this.textAtPast(f) }),
    };
    return result[what]();
  }

  /** Which agent and seq wrote each character of the text at `f` (blame). */
  authorship(f: Frontier): AuthorRun[] {
    return this.guard(() => authorshipAt(this.oplog, this.size, this.filterFor(f), this.lvRuns()));
  }

  /**
   * The history of `f` alone, as oplog bytes (a snapshot for a fork that keeps history), with the
   * agents it holds. Checked: its text must be the text at `f`.
   */
  historyBytes(f: Frontier): { bytes: Uint8Array; agents: string[] } {
    return this.guard(() => {
      const inTarget = this.filterFor(f);
      const runs = this.lvRuns();
      const log = historyUpTo(this.oplog, inTarget, runs);
      try {
        const branch = log.checkout();
        const text = branch.get();
        branch.free();
        if (text !== this.textAtPast(f)) throw new EngineFailure('the history rebuilt up to the version does not give its text');
        return { bytes: log.toBytes(), agents: [...new Set(runs.filter((r) => inTarget(r.lv)).map((r) => r.agent))] };
      } finally {
        log.free();
      }
    });
  }

  private filterFor(f: Frontier): (lv: number) => boolean {
    return this.descends(f, this.frontier()) ? () => true : this.historyOf(f);
  }

  private lvRuns(): LvRun[] {
    const runs: LvRun[] = [];
    for (const [agent, list] of this.runs) for (const r of list) runs.push({ lv: r.lv, len: r.len, agent, seq: r.seq });
    return runs;
  }

  /** Whether a local version is in the history of `f`: within each linear span of the history, a prefix is. */
  private historyOf(f: Frontier): (lv: number) => boolean {
    const spans = (this.oplog.getHistory() as HistoryEntry[]).map((h) => {
      const [s, e] = h.span;
      let cut = s;
      if (this.descends(f, new Uint32Array([e - 1]))) cut = e;
      else if (this.descends(f, new Uint32Array([s]))) {
        let lo = s;
        let hi = e - 1; // lo is in, hi is not
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (this.descends(f, new Uint32Array([mid]))) lo = mid;
          else hi = mid;
        }
        cut = lo + 1;
      }
      return { s, cut };
    });
    return (lv) => {
      let lo = 0;
      let hi = spans.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (spans[mid]!.s <= lv) lo = mid;
        else hi = mid - 1;
      }
      return lv < spans[lo]!.cut;
    };
  }

  /** Releases the WASM memory. The replica is unusable afterwards. */
  free(): void {
    if (this.poisoned) return;
    this.poisoned = true;
    try {
      this.view?.free();
      this.oplog.free();
    } catch {
      // a trapped instance cannot free; it is dropped either way
    }
    this.view = null;
  }

  private lvOf(agent: string, seq: number): number | undefined {
    const r = findRun(this.runs.get(agent) ?? [], seq, (x) => x.seq, (x) => x.len);
    return r && r.lv + (seq - r.seq);
  }

  private addRun(agent: string, seq: number, lv: number, len: number): void {
    let list = this.runs.get(agent);
    if (!list) this.runs.set(agent, (list = []));
    const last = list[list.length - 1];
    if (last && last.seq + last.len === seq && last.lv + last.len === lv) last.len += len;
    else list.push({ seq, lv, len });
  }

  private indexRange(from: number, to: number): AgentRun[] {
    if (to <= from) return [];
    const runs = agentRunsWithLv(this.oplog, from, to);
    for (const r of runs) this.addRun(r.agent, r.seqStart, r.lv, r.seqEnd - r.seqStart);
    return runs;
  }

  private computeSize(): number {
    return computeSize(this.oplog);
  }

  private rememberLength(key: string, len: number): void {
    if (this.lengths.size >= LENGTH_CACHE_MAX) {
      const first = this.lengths.keys().next().value;
      if (first !== undefined && first !== '') this.lengths.delete(first);
    }
    this.lengths.set(key, len);
  }

  /**
   * Checks every new operation in [from, to) of `scratch` against the text length at its parents.
   * The engine itself accepts out-of-range positions and then crashes on every later checkout.
   */
  private checkPatchOps(scratch: OpLog, from: number, to: number): { inserted: number; deleted: number; spanEnds: [number, number][] } {
    const history = (scratch.getHistory() as HistoryEntry[]).filter((h) => h.span[1] > from);
    const ops = scratch.getOpsSince(this.frontier()) as EngineOp[];
    // Lengths at versions inside the patch are computed on the scratch log by a few branches, each
    // moved forward to the next merge whose parents include where it is (as they do while writers
    // take turns); a branch made afresh costs a checkout, which costs the whole history.
    const walkers: { branch: Branch; at: Frontier }[] = [];
    const lengthOn = (parents: number[]): number => {
      const key = keyOf(parents);
      const known = this.lengths.get(key);
      if (known !== undefined && parents.every((p) => p < from)) return known;
      const at = new Uint32Array(parents);
      let i = walkers.findIndex((w) => includes(scratch, at, w.at));
      if (i < 0) {
        if (walkers.length === WALKERS) walkers.shift()!.branch.free();
        walkers.push({ branch: new Branch(), at: EMPTY });
        i = walkers.length - 1;
      }
      const w = walkers.splice(i, 1)[0]!;
      walkers.push(w);
      w.branch.merge(scratch, at);
      w.at = at;
      return codePointLength(w.branch.get());
    };
    // Split the ops into pieces that each lie inside one history span: a span's first op sits on
    // the span's parents, every later one on the op before it.
    let lv = from;
    let hIdx = 0;
    let len = -1;
    let inserted = 0;
    let deleted = 0;
    // The length at the last operation of each piece: the text at a single-operation version.
    const spanEnds: [number, number][] = [];
    try {
      for (const op of ops) {
        const total = op.end - op.start;
        let done = 0;
        while (done < total) {
          while (hIdx < history.length && history[hIdx]!.span[1] <= lv) hIdx++;
          const h = history[hIdx];
          if (!h) throw badInput('patch operations could not be accounted for', { field: 'patch' });
          if (lv === h.span[0]) len = lengthOn(h.parents);
          else if (len < 0) len = lengthOn([lv - 1]);
          const n = Math.min(total - done, h.span[1] - lv);
          if (op.kind === 'Ins') {
            const pos = op.fwd ? op.start + done : op.start;
            if (pos < 0 || pos > len) throw badInput('patch inserts past the end of the text', { field: 'patch' });
            len += n;
            inserted += n;
          } else {
            const end = op.fwd ? op.start + n : op.end - done;
            const start = op.fwd ? op.start : end - n;
            if (start < 0 || end > len) throw badInput('patch deletes past the end of the text', { field: 'patch' });
            len -= n;
            deleted += n;
          }
          done += n;
          lv += n;
          spanEnds.push([lv - 1, len]);
        }
      }
    } finally {
      for (const w of walkers) w.branch.free();
    }
    if (lv !== to) throw badInput('patch operations could not be accounted for', { field: 'patch' });
    return { inserted, deleted, spanEnds };
  }

  private guard<T>(fn: () => T): T {
    if (this.poisoned) throw new EngineFailure('replica was already lost');
    try {
      return fn();
    } catch (e) {
      if (isWasmTrap(e)) {
        this.poisoned = true;
        throw new EngineFailure(e);
      }
      throw e;
    }
  }
}

function isWasmTrap(e: unknown): boolean {
  return e instanceof Error && (e.name === 'RuntimeError' || /unreachable|recursive use of an object/.test(e.message));
}

/**
 * Joins runs that the engine stores as one operation anyway: typing (each insert right after the
 * previous one) and forward deletes at one position. The result is the same operations, with the
 * same (agent, seq) numbering, in fewer engine calls.
 */
export function coalesce(ops: TextOp[]): TextOp[] {
  const out: TextOp[] = [];
  let last: TextOp | undefined;
  let lastLen = 0;
  for (const op of ops) {
    if (last && last.kind === 'insert' && op.kind === 'insert' && op.pos === last.pos + lastLen) {
      const n = codePointLength(op.text);
      last = { kind: 'insert', pos: last.pos, text: last.text + op.text };
      out[out.length - 1] = last;
      lastLen += n;
      continue;
    }
    if (last && last.kind === 'delete' && op.kind === 'delete' && op.pos === last.pos) {
      last = { kind: 'delete', pos: last.pos, len: last.len + op.len };
      out[out.length - 1] = last;
      continue;
    }
    out.push(op);
    last = op;
    lastLen = op.kind === 'insert' ? codePointLength(op.text) : 0;
  }
  return out;
}

/** A log's text at a frontier, checked out on a branch of its own. */
function textIn(oplog: OpLog, f: Frontier): string {
  const branch = new Branch();
  try {
    branch.merge(oplog, f);
    return branch.get();
  } finally {
    branch.free();
  }
}

/** What a client is told of a patch the strict reader or the history check refused. */
function patchRefusal(e: unknown): unknown {
  if (e instanceof UnknownParentError) return new UnknownVersionError('patch parents');
  if (e instanceof PatchFormatError) return badInput(`patch could not be decoded: ${e.message}`, { field: 'patch' });
  return e;
}

/** Whether local version `a` of `log` includes everything in `b` (their union is `a`, as the engine sorts it). */
function includes(log: OpLog, a: Frontier, b: Frontier): boolean {
  if (b.length === 0) return true;
  const union = log.mergeVersions(a, b);
  return union.length === a.length && union.every((x, i) => x === a[i]);
}

function computeSize(oplog: OpLog): number {
  const f = oplog.getLocalVersion();
  let max = -1;
  for (const v of f) if (v > max) max = v;
  return max + 1;
}

function agentRuns(oplog: OpLog, from: number, to: number): AgentRun[] {
  return agentRunsWithLv(oplog, from, to).map(({ agent, seqStart, seqEnd }) => ({ agent, seqStart, seqEnd }));
}

/** Splits local range [from, to) into runs of one agent with consecutive seqs, with few engine calls. */
function agentRunsWithLv(oplog: OpLog, from: number, to: number): (AgentRun & { lv: number })[] {
  const out: (AgentRun & { lv: number })[] = [];
  const stampOf = (lv: number) => (oplog.localToRemoteVersion(new Uint32Array([lv])) as RemoteVersion)[0]!;
  const visit = (a: number, b: number, sa: [string, number], sb: [string, number]) => {
    // [a, b] inclusive. One run when both ends belong to one agent and seqs advance with local versions.
    if (sa[0] === sb[0] && sb[1] - sa[1] === b - a) {
      const last = out[out.length - 1];
      if (last && last.agent === sa[0] && last.seqEnd === sa[1] && last.lv + (last.seqEnd - last.seqStart) === a) last.seqEnd = sb[1] + 1;
      else out.push({ agent: sa[0], seqStart: sa[1], seqEnd: sb[1] + 1, lv: a });
      return;
    }
    const mid = (a + b) >> 1;
    const sm = stampOf(mid);
    const sm1 = stampOf(mid + 1);
    visit(a, mid, sa, sm);
    visit(mid + 1, b, sm1, sb);
  };
  if (to > from) visit(from, to - 1, stampOf(from), stampOf(to - 1));
  return out;
}
