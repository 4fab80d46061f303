import { OpLog } from 'diamond-types-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Replica } from '../../src/crdt/replica.js';
import { codePointLength } from '../../src/crdt/text.js';
import { textOf } from '../helpers/crdt.js';

const LIMITS = { maxInsertChars: 1_000_000, maxDocumentChars: 10_000_000, maxOpsPerEdit: 1_000 };

/** One client's turn: maybe take the server's history first, then a few inserts and deletes, sent as one patch. */
const turnArb = fc.record({
  client: fc.integer({ min: 0, max: 2 }),
  sync: fc.boolean(),
  ops: fc.array(fc.record({ del: fc.boolean(), at: fc.nat(), len: fc.integer({ min: 1, max: 3 }), text: fc.constantFrom('a', 'bc', '😀', 'xyz') }), { minLength: 1, maxLength: 4 }),
});

describe('the CRDT seam keeps text lengths from the patches it checks', () => {
  // A patch's lengths are kept so that edits and patches on the versions it made need no checkout;
  // a wrong one would let an out-of-range operation through to the engine. Every kept one must be
  // the length of the text actually at that version.
  it('every length kept for a single-operation version is the real length there, under concurrent patches', () => {
    fc.assert(
      fc.property(fc.array(turnArb, { minLength: 1, maxLength: 25 }), (turns) => {
        const server = Replica.empty();
        const clients = [0, 1, 2].map((i) => {
          const log = new OpLog();
          log.setAgent(`c${i}`);
          return log;
        });
        try {
          for (const turn of turns) {
            const log = clients[turn.client]!;
            if (turn.sync) log.addFromBytes(server.toBytes());
            const before = log.getLocalVersion();
            for (const op of turn.ops) {
              const len = codePointLength(textOf(log));
              if (op.del && len > 0) {
                const pos = op.at % len;
                log.del(pos, Math.min(op.len, len - pos));
              } else log.ins(op.at % (len + 1), op.text);
            }
            server.applyPatch(log.getPatchSince(before), () => true, LIMITS);
          }
          const size = server.frontier().reduce((m, v) => Math.max(m, v + 1), 0);
          let kept = 0;
          for (let lv = 0; lv < size; lv++) {
            const f = new Uint32Array([lv]);
            if (!server.hasLengthAt(f)) continue;
            kept++;
            expect(server.read('length', f)).toBe(codePointLength(server.read('pastText', f)));
          }
          expect(kept).toBeGreaterThan(0);
        } finally {
          server.free();
          for (const c of clients) c.free();
        }
      }),
      { numRuns: 60 },
    );
  });
});
