import { diffArrays, structuredPatch } from 'diff';
import type { TextOp } from './replica.js';
import { codePointLength } from './text.js';

/**
 * Most edits the character diff looks for (its cost grows with text length times this); past it the
 * changed middle is replaced whole, which is still exact, only coarser.
 */
const MAX_EDIT_LENGTH = 200;
/** Most changed lines the line diff looks for before it shows the changed middle as one hunk. */
const MAX_LINE_EDITS = 500;

/**
 * Positional ops (code points, each seeing the text after the previous) that turn `from` into `to`.
 * The unchanged start and end are trimmed first; the middle gets a character diff, or, when that
 * would cost too much, is replaced whole. Either way applying the ops to `from` gives exactly `to`.
 */
export function textDiffOps(from: string, to: string): TextOp[] {
  // Trim on UTF-16 units (cheap on long texts), never inside a surrogate pair; only the middle is split into code points.
  const { start, endA, endB } = commonEnds(from, to);
  const am = Array.from(from.slice(start, endA));
  const bm = Array.from(to.slice(start, endB));
  const p = codePointLength(from.slice(0, start));
  const changes = am.length > 0 && bm.length > 0 ? diffArrays(am, bm, { maxEditLength: MAX_EDIT_LENGTH, timeout: 50 }) : undefined;
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

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Length of the common start, and where the common end begins in each text (UTF-16 indexes, whole code points). */
function commonEnds(a: string, b: string): { start: number; endA: number; endB: number } {
  let start = 0;
  const max = Math.min(a.length, b.length);
  while (start < max && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  if (start > 0 && start < a.length + 1 && isHigh(a.charCodeAt(start - 1))) start--;
  let s = 0;
  while (s < a.length - start && s < b.length - start && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  if (s > 0 && isLow(a.charCodeAt(a.length - s))) s--;
  return { start, endA: a.length - s, endB: b.length - s };
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
  if (from === to) return [];
  // Only the lines around the changed middle are split and compared: the unchanged start (back to a
  // line start) and end (forward to a line end) are cut off first, keeping `context` lines of each.
  const { start, endA, endB } = commonEnds(from, to);
  // (lastIndexOf with a negative start still looks at index 0, hence the guard.)
  const lineStart = (i: number) => (i <= 0 ? 0 : from.lastIndexOf('\n', i - 1) + 1);
  let cut = lineStart(start); // the start of the line where the change begins
  for (let i = 0; i < context && cut > 0; i++) cut = lineStart(cut - 1);
  let tailA = endA;
  let tailB = endB;
  for (let i = 0; i <= context; i++) {
    const next = from.indexOf('\n', tailA);
    if (next < 0) {
      tailB += from.length - tailA;
      tailA = from.length;
      break;
    }
    tailB += next + 1 - tailA;
    tailA = next + 1;
  }
  const skip = countLines(from, cut);
  const a = splitLines(from.slice(cut, tailA));
  const b = splitLines(to.slice(cut, tailB));
  const patch = structuredPatch('a', 'b', a.join(''), b.join(''), '', '', { context, maxEditLength: MAX_LINE_EDITS, timeout: 50 });
  if (patch) {
    return patch.hunks.map((h) => ({ oldStart: h.oldStart + skip, oldLines: h.oldLines, newStart: h.newStart + skip, newLines: h.newLines, lines: h.lines }));
  }
  // Too many changes to line up: one hunk with the changed middle, old lines out and new lines in.
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const strip = (l: string) => l.replace(/\r?\n$/, '');
  const lines = [
    ...a.slice(0, p).map((l) => ` ${strip(l)}`),
    ...a.slice(p, a.length - s).map((l) => `-${strip(l)}`),
    ...b.slice(p, b.length - s).map((l) => `+${strip(l)}`),
    ...a.slice(a.length - s).map((l) => ` ${strip(l)}`),
  ];
  return [{ oldStart: skip + 1, oldLines: a.length, newStart: skip + 1, newLines: b.length, lines }];
}

/** Line breaks before `end`. */
function countLines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Lines with their line breaks kept (so joining them gives the text back). */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}
