/** Helpers for text measured in Unicode code points, the unit of every position and length. */

/** Number of code points in `s` (a surrogate pair counts once). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = s.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) n--;
    }
  }
  return n;
}

/** How much positional ops change a text's length, in code points. */
export function lengthChange(ops: readonly ({ kind: 'insert'; text: string } | { kind: 'delete'; len: number })[]): number {
  let n = 0;
  for (const op of ops) n += op.kind === 'insert' ? codePointLength(op.text) : -op.len;
  return n;
}

/** True when `s` holds a high surrogate not followed by a low one, or a low one not preceded by a high one. */
export function hasLoneSurrogate(s: string): boolean {
  return !s.isWellFormed();
}
