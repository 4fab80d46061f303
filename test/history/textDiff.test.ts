import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TextOp } from '../../src/crdt/replica.js';
import { lineHunks, textDiffOps } from '../../src/crdt/textDiff.js';

function apply(text: string, ops: TextOp[]): string {
  let chars = Array.from(text);
  for (const op of ops) {
    if (op.kind === 'insert') chars = [...chars.slice(0, op.pos), ...Array.from(op.text), ...chars.slice(op.pos)];
    else chars.splice(op.pos, op.len);
  }
  return chars.join('');
}

/** The new text, rebuilt from the old one and the hunks (' ' and '+' lines kept, '-' lines dropped). */
function applyHunks(from: string, hunks: ReturnType<typeof lineHunks>): string {
  const old = from.split('\n');
  const out: string[] = [];
  let at = 0;
  for (const h of hunks) {
    const start = h.oldLines === 0 ? h.oldStart : h.oldStart - 1;
    out.push(...old.slice(at, start));
    for (const l of h.lines) if (l[0] === ' ' || l[0] === '+') out.push(l.slice(1));
    at = start + h.oldLines;
  }
  out.push(...old.slice(at));
  return out.join('\n');
}

const text = fc.array(fc.constantFrom('a', 'b', '\n', '😀', 'é', ' '), { maxLength: 80 }).map((a) => a.join(''));

describe('text diff', () => {
  it('the ops turn the old text into the new one exactly (code points, emoji included)', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(apply(a, textDiffOps(a, b))).toBe(b);
      }),
      { numRuns: 500 },
    );
  });

  it('a large change still gives exact ops, coarser', () => {
    const a = Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('');
    const b = Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(97 + ((i * 11) % 26))).join('');
    expect(apply(a, textDiffOps(a, b))).toBe(b);
  });

  it('the line hunks list every changed line, with context', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const hunks = lineHunks(a, b);
        if (a === b) expect(hunks).toEqual([]);
        // Texts ending without a line break get jsdiff's "\\ No newline" marker: compare the others.
        if (a.endsWith('\n') && b.endsWith('\n')) expect(applyHunks(a, hunks)).toBe(b);
      }),
      { numRuns: 500 },
    );
  });
});
