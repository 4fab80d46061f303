import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OpLog } from 'diamond-types-node';
import { describe, expect, it } from 'vitest';
import { TRACES_DIR } from '../../bench/lib/traces.js';
import { decodePatch, PatchFormatError } from '../../src/crdt/patchFormat.js';
import { patchAgents, varints, withChecksum, withChunk } from '../helpers/crdt.js';

const LIMITS = { maxTextBytes: 64 << 20 };
const TRACES = ['automerge-paper', 'seph-blog1', 'friendsforever', 'clownschool'];

/** How many operations the engine adds when it merges `bytes` into an empty log. */
function engineSize(bytes: Uint8Array): number {
  const log = new OpLog();
  try {
    log.addFromBytes(bytes);
    const v = log.getLocalVersion();
    return v.length === 0 ? 0 : Math.max(...v) + 1;
  } finally {
    log.free();
  }
}

function refusal(bytes: Uint8Array): string {
  try {
    decodePatch(bytes, LIMITS);
  } catch (e) {
    if (e instanceof PatchFormatError) return e.message;
    throw e;
  }
  return 'accepted';
}

const typed = (agent: string, text: string) => {
  const log = new OpLog(agent);
  log.ins(0, text);
  const patch = log.getPatchSince(new Uint32Array());
  log.free();
  return patch;
};

describe("the strict reader of diamond-types' patch format", () => {
  it('reads every real history, whole and from random versions, as the engine does', () => {
    let seed = 7;
    const next = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    for (const name of TRACES) {
      const bytes = readFileSync(path.join(TRACES_DIR, 'dt', `${name}.dt`));
      expect(decodePatch(bytes, LIMITS).size, name).toBe(engineSize(bytes));
      const log = OpLog.fromBytes(bytes);
      const last = log.getLocalVersion()[0]!;
      for (let i = 0; i < 20; i++) {
        const patch = log.getPatchSince(new Uint32Array([next(last)]));
        const read = decodePatch(patch, LIMITS);
        // Every operation the patch lists is one its spans name.
        expect(read.spans.reduce((n, s) => n + s.seqEnd - s.seqStart, 0)).toBe(read.size);
        expect(read.entries.at(-1)?.end ?? 0).toBe(read.size);
      }
      // Large inserted text comes LZ4-compressed.
      const big = log.getPatchSince(new Uint32Array());
      expect(decodePatch(big, LIMITS).size).toBe(last + 1);
      log.free();
    }
  });

  it('refuses a patch that names a document id: the engine would then refuse every patch naming another', () => {
    const withDocId = (patch: Uint8Array, id: string) => {
      const names = patchAgents(patch).flatMap((n) => [...varints([Buffer.byteLength(n)]), ...Buffer.from(n)]);
      const docId = [4, ...Buffer.from(id)];
      return withChunk(patch, 1, [...varints([2, docId.length]), ...docId, ...varints([3, names.length]), ...names]);
    };
    const first = withDocId(typed('alice', 'hi'), 'X');
    const second = withDocId(typed('bob', 'yo'), 'Y');
    // What the engine itself does with them.
    const log = new OpLog();
    log.addFromBytes(first);
    expect(() => log.addFromBytes(second)).toThrow(/DocIdMismatch/);
    log.free();
    expect(refusal(first)).toMatch(/document id/);
  });

  it('refuses bytes the encoder does not write: a wrong checksum, an unknown chunk, a long-form number, a cut', () => {
    const patch = typed('alice', 'hello');
    expect(refusal(patch)).toBe('accepted');
    const badSum = Buffer.from(patch);
    badSum[badSum.length - 1]! ^= 1;
    expect(refusal(badSum)).toMatch(/checksum/);
    // A chunk of a type the reader does not know, before the checksum (the engine would skip it).
    const unknown = withChecksum(Uint8Array.from([...patch.subarray(0, patch.length - 6), 99, 1, 0, 100, 4, 0, 0, 0, 0]));
    expect(refusal(unknown)).toMatch(/unexpected chunk 99/);
    const longForm = Buffer.from(patch);
    // The protocol version, 0, written in two bytes (0x80 0x00) instead of one.
    const widened = withChecksum(Buffer.concat([longForm.subarray(0, 8), Buffer.from([0x80, 0x00]), longForm.subarray(9)]));
    expect(refusal(widened)).toMatch(/overlong/);
    expect(refusal(patch.subarray(0, patch.length - 3))).not.toBe('accepted');
  });
});
