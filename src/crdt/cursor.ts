import type { TextOp } from './replica.js';
import { codePointLength } from './text.js';

/**
 * Moves code-point positions through ops that turn one version's text into a later one, so each
 * stays in front of the same character: text inserted at or before a position pushes it right, a
 * deletion before it pulls it left, and a deletion around it leaves it where the deleted text was.
 */
export function transformPositions(positions: number[], ops: TextOp[]): number[] {
  const out = [...positions];
  for (const op of ops) {
    if (op.kind === 'insert') {
      const len = codePointLength(op.text);
      for (let i = 0; i < out.length; i++) if (op.pos <= out[i]!) out[i] = out[i]! + len;
    } else {
      for (let i = 0; i < out.length; i++) {
        const p = out[i]!;
        if (p >= op.pos + op.len) out[i] = p - op.len;
        else if (p > op.pos) out[i] = op.pos;
      }
    }
  }
  return out;
}
