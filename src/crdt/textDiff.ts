import { diffArrays, structuredPatch } from 'diff';
import type { TextOp } from './replica.js';

/** Characters compared at most by the character diff; past this the changed middle is replaced whole. */
const MAX_EDIT_LENGTH = 5_000;

/**
 * Positional ops (code points, each seeing the text after the previous) that turn `from` into `to`.
 * The unchanged start and end are trimmed first; the middle gets a character diff, or, when that
 * would cost too much, is replaced whole. Either way applying the ops to `from` gives exactly `to`.
 */
export function textDiffOps(from: string, to: string): TextOp[] {
  const a = Array.from(from);
  const b = Array.from(to);
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const am = a.slice(p, a.length - s);
  const bm = b.slice(p, b.length - s);
  const changes = am.length > 0 && bm.length > 0 ? diffArrays(am, bm, { maxEditLength: MAX_EDIT_LENGTH, timeout: 200 }) : undefined;
  const ops: TextOp[] = [];
  if (!changes) {
    if (am.length > 0) ops.push({ kind: 'delete', pos: p, len: am.length });
    if (bm.length > 0) ops.push({ kind: 'insert', pos: p, text: bm.join('') });
    return ops;
  }
  let pos = p;
  for (const c of changes) {
    if (c.added) {
      ops.push({ kind: 'insert', pos, text: c.value.join('') });
      pos += c.value.length;
    } else if (c.removed) {
      ops.push({ kind: 'delete', pos, len: c.value.length });
    } else {
      pos += c.value.length;
    }
  }
  return ops;
}

/** One line-level hunk for display: lines prefixed with ' ', '-' or '+', as in a unified diff. */
export interface LineHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}

/** Line-level hunks between two texts, with `context` unchanged lines around each change. */
export function lineHunks(from: string, to: string, context = 3): LineHunk[] {
  return structuredPatch('a', 'b', from, to, '', '', { context }).hunks.map((h) => ({
    oldStart: h.oldStart,
    oldLines: h.oldLines,
    newStart: h.newStart,
    newLines: h.newLines,
    lines: h.lines,
  }));
}
