import { isUtf8 } from 'node:buffer';
import { crc32c } from '@node-rs/crc32';
import { uncompressSync } from 'lz4-napi';
import { isValidAgentName, type RemoteVersion } from './version.js';

/**
 * A strict reader of diamond-types' binary patch format (what `getPatchSince` and `toBytes` write),
 * run on a client's patch before any of it reaches the engine.
 *
 * The engine's own decoder trusts much of what it reads: an agent index past the file's agent list,
 * a parent further back than the patch's start, a zero-length run, or parents that outrun the
 * patch's operations make it panic (a WASM trap, which costs the process memory it never gets back)
 * instead of answering an error, and it checks the CRC only after merging. This reader accepts only
 * what the engine's encoder writes: every chunk where it belongs and nothing else, lengths that add
 * up across the four parallel streams (agents and seqs, positions, parents, text), every index in
 * range, no document id, text that is well-formed UTF-8 with as many characters as the operations
 * need, and a CRC-32C that matches. What it returns lets the replica check the rest against the
 * document before the engine is called: versions known, agents the caller's, seqs without a gap
 * (Replica.checkPatch), and a history in the form the engine relies on (patchHistory.ts).
 */

/** A run of consecutive seqs of one agent, in the order the patch lists them. */
export interface PatchSpan {
  agent: string;
  seqStart: number;
  seqEnd: number;
}

/**
 * A run of the patch's operations, each after the one before it; the first is after `parents`: other
 * operations of the patch (by their index in it) or operations from outside it (by agent and seq).
 */
export interface PatchEntry {
  start: number;
  end: number;
  parents: (number | [string, number])[];
}

export interface DecodedPatch {
  /** The version the patch starts from (empty for the document's beginning). */
  start: RemoteVersion;
  /** Which agent and seqs each of the patch's operations carries, in the patch's order. */
  spans: PatchSpan[];
  /** The runs of operations and their parents, in the patch's order (which is causal). */
  entries: PatchEntry[];
  /** Number of operations (characters inserted or deleted) in the patch. */
  size: number;
}

/** The patch is not one the engine's encoder could have written. */
export class PatchFormatError extends Error {}

export interface PatchFormatLimits {
  /** Most bytes of text the patch may unpack to (LZ4-compressed text is checked before it is unpacked). */
  maxTextBytes: number;
}

const MAGIC = Buffer.from('DMNDTYPS');

/** Chunk types (diamond-types' ListChunkType). */
const Chunk = {
  CompressedFieldsLZ4: 5,
  FileInfo: 1,
  DocId: 2,
  AgentNames: 3,
  UserData: 4,
  StartBranch: 10,
  Version: 12,
  Content: 13,
  ContentCompressed: 14,
  Patches: 20,
  OpVersions: 21,
  OpTypeAndPosition: 22,
  OpParents: 23,
  PatchContent: 24,
  ContentIsKnown: 25,
  Crc: 100,
} as const;

const PLAIN_TEXT = 4;
/** Bigger than any count or position a document can reach, and far from the engine's 32-bit limit. */
const MAX_VALUE = 2 ** 31 - 1;

function fail(why: string): never {
  throw new PatchFormatError(why);
}

class Reader {
  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}

  get empty(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned LEB128 varint of at most 32 bits, in its shortest form (as the encoder writes it). */
  uint(what: string): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) fail(`${what}: unexpected end`);
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) fail(`${what}: overlong number`);
        if (value > 0xffffffff) fail(`${what}: number out of range`);
        return value;
      }
    }
    return fail(`${what}: number too long`);
  }

  /** A signed varint (zigzag-encoded). */
  int(what: string): number {
    return zigzag(this.uint(what));
  }

  bytes(n: number, what: string): Uint8Array {
    if (n > this.end - this.pos) fail(`${what}: unexpected end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  rest(): Uint8Array {
    return this.bytes(this.end - this.pos, 'rest');
  }

  /** The next chunk, which must be of one of `types`; null at the end or at another type when `optional`. */
  chunk(types: readonly number[], what: string, optional = false): { type: number; body: Reader } | null {
    if (this.empty) return optional ? null : fail(`${what} missing`);
    const at = this.pos;
    const type = this.uint('chunk type');
    if (!types.includes(type)) {
      if (optional) {
        this.pos = at;
        return null;
      }
      fail(`unexpected chunk ${type} where ${what} belongs`);
    }
    const len = this.uint(`${what} length`);
    if (len > this.end - this.pos) fail(`${what} runs past its container`);
    const body = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return { type, body };
  }

  expectEnd(what: string): void {
    if (!this.empty) fail(`unexpected bytes after ${what}`);
  }
}

/** diamond-types' signed varint: the magnitude shifted left, the sign in the low bit (its "old" zigzag). */
function zigzag(n: number): number {
  if (n === 1) fail('negative zero');
  return n % 2 === 0 ? n / 2 : -(n - 1) / 2;
}

function checkedValue(v: number, what: string): number {
  if (v < 0 || v > MAX_VALUE) fail(`${what} out of range`);
  return v;
}

/** The number of characters (Unicode scalar values) in well-formed UTF-8 bytes. */
function charCount(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if ((b & 0xc0) !== 0x80) n++;
  return n;
}

function wellFormedText(bytes: Uint8Array, what: string): Uint8Array {
  if (!isUtf8(bytes)) fail(`${what} is not well-formed UTF-8`);
  return bytes;
}

/** Text stored in the LZ4 block at the file's start, handed out in the order the chunks ask for it. */
class Unpacked {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array | null) {}

  take(n: number, what: string): Uint8Array {
    if (!this.bytes) fail(`${what} refers to compressed data the patch does not carry`);
    if (n > this.bytes.length - this.pos) fail(`${what} runs past the compressed data`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  expectUsed(): void {
    if (this.bytes && this.pos !== this.bytes.length) fail('compressed data left unused');
  }
}

function unpack(r: Reader, limits: PatchFormatLimits): Uint8Array {
  const size = r.uint('compressed data size');
  const block = r.rest();
  // LZ4 expands at most about 255 times; the limit stops a patch from asking for a huge allocation.
  if (size > limits.maxTextBytes || size > block.length * 255 + 16) fail('compressed data too large');
  const framed = Buffer.allocUnsafe(4 + block.length);
  framed.writeUInt32LE(size, 0);
  framed.set(block, 4);
  let out: Buffer;
  try {
    out = uncompressSync(framed);
  } catch {
    return fail('compressed data could not be unpacked');
  }
  if (out.length !== size) fail('compressed data does not unpack to its stated size');
  return out;
}

/** A content chunk's text (plain, or taken from the compressed data). */
function contentText(c: { type: number; body: Reader }, unpacked: Unpacked, what: string): Uint8Array {
  if (c.body.uint(`${what} data type`) !== PLAIN_TEXT) fail(`${what} is not plain text`);
  if (c.type === Chunk.Content) return wellFormedText(c.body.rest(), what);
  const len = c.body.uint(`${what} length`);
  c.body.expectEnd(what);
  return wellFormedText(unpacked.take(len, what), what);
}

/** Reads one PatchContent chunk: which kind of operation it is for, and how many of them it covers. */
function readPatchContent(r: Reader, unpacked: Unpacked): { insert: boolean; units: number; allKnown: boolean } {
  const tag = r.uint('patch content kind');
  if (tag !== 0 && tag !== 1) fail('patch content of an unknown kind');
  const text = contentText(r.chunk([Chunk.Content, Chunk.ContentCompressed], 'patch content text')!, unpacked, 'patch content text');
  const runs = r.chunk([Chunk.ContentIsKnown], 'content-is-known runs')!.body;
  r.expectEnd('patch content');
  let chars = charCount(text);
  let units = 0;
  let allKnown = true;
  while (!runs.empty) {
    const n = runs.uint('content run');
    const len = Math.floor(n / 2);
    if (len === 0) fail('empty content run');
    units = checkedValue(units + len, 'content length');
    if (n % 2 === 1) {
      chars -= len;
      if (chars < 0) fail('content runs need more text than the patch carries');
    } else {
      allKnown = false;
    }
  }
  if (chars !== 0) fail('patch carries text no operation uses');
  return { insert: tag === 0, units, allKnown };
}

/** Decodes and checks a patch's bytes. Throws PatchFormatError when they are not a well-formed patch. */
export function decodePatch(bytes: Uint8Array, limits: PatchFormatLimits): DecodedPatch {
  if (bytes.length < MAGIC.length + 1 || !MAGIC.equals(bytes.subarray(0, MAGIC.length))) fail('not a diamond-types patch');
  const top = new Reader(bytes, MAGIC.length, bytes.length);
  if (top.uint('protocol version') !== 0) fail('unsupported protocol version');

  const compressed = top.chunk([Chunk.CompressedFieldsLZ4], 'compressed data', true);
  const unpacked = new Unpacked(compressed ? unpack(compressed.body, limits) : null);

  // File info: an optional document id, the agent names, optional user data.
  const info = top.chunk([Chunk.FileInfo], 'file info')!.body;
  // The engine keeps the first document id it is given and refuses every later patch naming another:
  // one client's could lock the others out. diamond-types' JavaScript API never writes one.
  if (info.chunk([Chunk.DocId], 'document id', true)) fail('a patch may not name a document id');
  const names = info.chunk([Chunk.AgentNames], 'agent names')!.body;
  info.chunk([Chunk.UserData], 'user data', true);
  info.expectEnd('file info');
  const agents: string[] = [];
  while (!names.empty) {
    const len = names.uint('agent name length');
    const name = utf8Name(names.bytes(len, 'agent name'));
    if (!isValidAgentName(name)) fail('an agent name the engine cannot hold');
    if (agents.includes(name)) fail(`agent "${name}" is listed twice`);
    agents.push(name);
  }
  const agentAt = (n: number, what: string): string => {
    if (n < 1 || n > agents.length) fail(`${what} names an agent the patch does not list`);
    return agents[n - 1]!;
  };

  // Start branch: the version the patch starts from (none: the beginning), and optionally the text there.
  const branch = top.chunk([Chunk.StartBranch], 'start branch')!.body;
  const start: RemoteVersion = [];
  const version = branch.chunk([Chunk.Version], 'start version', true);
  if (version) {
    const v = version.body;
    for (;;) {
      const n = v.uint('start version agent');
      const seq = checkedValue(v.uint('start version seq'), 'start version seq');
      const agentIndex = Math.floor(n / 2);
      if (agentIndex === 0) {
        if (start.length > 0 || n % 2 === 1) fail('start version names the beginning among other operations');
        break;
      }
      start.push([agentAt(agentIndex, 'start version'), seq]);
      if (n % 2 === 0) break;
    }
    v.expectEnd('start version');
  }
  // (The encoder can also store the text at the start version; the engine reads it and ignores it,
  // and neither getPatchSince nor toBytes writes it.)
  branch.expectEnd('start branch');

  // The operations, as four parallel streams.
  const patches = top.chunk([Chunk.Patches], 'operations')!.body;
  let insertContent: ReturnType<typeof readPatchContent> | null = null;
  let deleteContent: ReturnType<typeof readPatchContent> | null = null;
  for (let c; (c = patches.chunk([Chunk.PatchContent], 'patch content', true)); ) {
    const content = readPatchContent(c.body, unpacked);
    if (content.insert ? insertContent : deleteContent) fail('patch content given twice');
    if (content.insert) insertContent = content;
    else deleteContent = content;
  }
  const spans = readSpans(patches.chunk([Chunk.OpVersions], 'operation agents')!.body, agentAt);
  const ops = readOps(patches.chunk([Chunk.OpTypeAndPosition], 'operation positions')!.body);
  const history = readParents(patches.chunk([Chunk.OpParents], 'operation parents')!.body, agentAt);
  patches.expectEnd('operations');

  const size = spans.reduce((n, s) => n + (s.seqEnd - s.seqStart), 0);
  if (ops.inserted + ops.deleted !== size || history.size !== size) fail('operation streams of different lengths');
  if (ops.inserted > 0 && !insertContent) fail('inserted text missing');
  if (insertContent && (insertContent.units !== ops.inserted || !insertContent.allKnown)) fail('inserted text does not match the insertions');
  if (deleteContent && deleteContent.units !== ops.deleted) fail('deleted text does not match the deletions');
  unpacked.expectUsed();

  // The checksum covers everything before its chunk.
  const crcAt = top.pos;
  const crc = top.chunk([Chunk.Crc], 'checksum')!.body;
  const sum = crc.bytes(4, 'checksum');
  crc.expectEnd('checksum');
  top.expectEnd('checksum');
  if (Buffer.from(sum).readUInt32LE(0) !== crc32c(bytes.subarray(0, crcAt))) fail('checksum does not match');

  return { start, spans, entries: history.entries, size };
}

function utf8Name(bytes: Uint8Array): string {
  return Buffer.from(wellFormedText(bytes, 'an agent name').buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** OpVersions: runs of (agent, seqs), each agent's seqs counted on from where its last run ended. */
function readSpans(r: Reader, agentAt: (n: number, what: string) => string): PatchSpan[] {
  const spans: PatchSpan[] = [];
  const cursor = new Map<string, number>();
  while (!r.empty) {
    const n = r.uint('operation agent');
    const len = r.uint('operation run length');
    const jump = n % 2 === 1 ? r.int('operation seq jump') : 0;
    if (n % 2 === 1 && jump === 0) fail('operation seq jump of zero');
    const agent = agentAt(Math.floor(n / 2), 'an operation');
    if (len === 0) fail('empty operation run');
    const from = cursor.get(agent) ?? 0;
    const seqStart = checkedValue(from + jump, 'operation seq');
    // An agent's operations come in the order of their seqs, each once.
    if (seqStart < from) fail(`agent "${agent}" has seqs out of order`);
    const seqEnd = checkedValue(seqStart + len, 'operation seq');
    cursor.set(agent, seqEnd);
    spans.push({ agent, seqStart, seqEnd });
  }
  return spans;
}

/** OpTypeAndPosition: each run's kind, length and position, positions relative to the run before. */
function readOps(r: Reader): { inserted: number; deleted: number } {
  let cursor = 0;
  let inserted = 0;
  let deleted = 0;
  while (!r.empty) {
    let n = r.uint('operation');
    const hasLength = n % 2 === 1;
    n = Math.floor(n / 2);
    const diffNotZero = n % 2 === 1;
    n = Math.floor(n / 2);
    const isDelete = n % 2 === 1;
    n = Math.floor(n / 2);
    let len = 1;
    let diff: number;
    let forward = true;
    if (hasLength) {
      if (isDelete) {
        forward = n % 2 === 1;
        n = Math.floor(n / 2);
      }
      len = n;
      diff = diffNotZero ? r.int('operation position') : 0;
    } else {
      diff = zigzag(n);
    }
    if (diffNotZero !== (diff !== 0)) fail('operation position flag does not match its position');
    if (len === 0) fail('empty operation');
    const rawStart = checkedValue(cursor + diff, 'operation position');
    let start = rawStart;
    if (isDelete && !forward) start = checkedValue(rawStart - len, 'operation position');
    checkedValue(start + len, 'operation end');
    cursor = !isDelete ? rawStart + len : start;
    if (isDelete) deleted = checkedValue(deleted + len, 'deletions');
    else inserted = checkedValue(inserted + len, 'insertions');
  }
  return { inserted, deleted };
}

/**
 * OpParents: runs of operations, each after the one before it but the first, whose parents are
 * operations earlier in the patch (by how far back) or from outside it (by agent and seq).
 */
function readParents(r: Reader, agentAt: (n: number, what: string) => string): { size: number; entries: PatchEntry[] } {
  let size = 0;
  const entries: PatchEntry[] = [];
  while (!r.empty) {
    const len = r.uint('parents run length');
    if (len === 0) fail('empty parents run');
    const parents: PatchEntry['parents'] = [];
    for (;;) {
      let n = r.uint('parent');
      const foreign = n % 2 === 1;
      n = Math.floor(n / 2);
      const more = n % 2 === 1;
      n = Math.floor(n / 2);
      if (foreign && n === 0) {
        if (parents.length > 0 || more) fail('parents name the beginning among other operations');
        break;
      }
      if (foreign) parents.push([agentAt(n, 'a parent'), checkedValue(r.uint('parent seq'), 'parent seq')]);
      else if (n < 1 || n > size) fail('a parent outside the patch given as inside it');
      else parents.push(size - n);
      if (!more) break;
    }
    const start = size;
    size = checkedValue(size + len, 'operations');
    entries.push({ start, end: size, parents });
  }
  return { size, entries };
}
