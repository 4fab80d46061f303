import { crc32c } from '@node-rs/crc32';
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

/**
 * A patch's bytes with its closing checksum (a CRC-32C chunk over everything before it) made to match
 * them again; bytes that do not end in such a chunk are returned as they are.
 */
export function withChecksum(bytes: Uint8Array): Uint8Array {
  const at = bytes.length - 6;
  if (at < 0 || bytes[at] !== 100 || bytes[at + 1] !== 4) return bytes;
  const out = Buffer.from(bytes);
  out.writeUInt32LE(crc32c(out.subarray(0, at)), at + 2);
  return out;
}

/** Unsigned LEB128 varints, as diamond-types writes its numbers. */
export function varints(values: number[]): number[] {
  const out: number[] = [];
  for (let n of values) {
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      out.push(b);
    } while (n > 0);
  }
  return out;
}

const CONTAINERS = new Set([1, 10, 20]);

function readVarint(b: Uint8Array, p: { i: number }): number {
  let r = 0;
  for (let m = 1; ; m *= 128) {
    const x = b[p.i++]!;
    r += (x & 0x7f) * m;
    if (!(x & 0x80)) return r;
  }
}

/**
 * A patch with the body of its chunk of `type` replaced (at whatever depth: file info, start branch
 * and operations hold chunks of their own), every length around it and its checksum made to match.
 * diamond-types' chunk types: 3 agent names, 21 agents and seqs, 22 positions, 23 parents.
 */
export function withChunk(patch: Uint8Array, type: number, body: number[]): Uint8Array {
  const rewrite = (start: number, end: number): number[] => {
    const out: number[] = [];
    const p = { i: start };
    while (p.i < end) {
      const t = readVarint(patch, p);
      const len = readVarint(patch, p);
      const inner = t === type ? body : CONTAINERS.has(t) ? rewrite(p.i, p.i + len) : [...patch.subarray(p.i, p.i + len)];
      p.i += len;
      if (t !== 100) out.push(...varints([t, inner.length]), ...inner);
    }
    return out;
  };
  const bytes = [...patch.subarray(0, 9), ...rewrite(9, patch.length), 100, 4, 0, 0, 0, 0];
  return withChecksum(Uint8Array.from(bytes));
}

/** The agent names a patch lists, in its order (its parents and seqs name agents by 1-based index into them). */
export function patchAgents(patch: Uint8Array): string[] {
  const find = (start: number, end: number): string[] | null => {
    const p = { i: start };
    while (p.i < end) {
      const t = readVarint(patch, p);
      const len = readVarint(patch, p);
      if (t === 3) {
        const names: string[] = [];
        const q = { i: p.i };
        while (q.i < p.i + len) {
          const n = readVarint(patch, q);
          names.push(Buffer.from(patch.subarray(q.i, q.i + n)).toString('utf8'));
          q.i += n;
        }
        return names;
      }
      if (CONTAINERS.has(t)) {
        const found = find(p.i, p.i + len);
        if (found) return found;
      }
      p.i += len;
    }
    return null;
  };
  return find(9, patch.length) ?? [];
}
