import dt from 'diamond-types-node';

/**
 * diamond-types, as the rest of the CRDT seam uses it: the only importer of the package.
 *
 * The engine is Rust compiled to WebAssembly, and its calls keep their frames on a stack of their own
 * in WASM memory, below a stack pointer the compiled code moves on entry and puts back on return.
 * A call that does not return (a trap: a panic on a malformed patch; or an error thrown from inside,
 * such as "recursive use of an object" from any call on an object that trapped) never puts it back.
 * Each such call lowers it for good, by a few hundred bytes (704 for one malformed patch), and after
 * about 1,500 the 1 MiB stack runs off the bottom of memory: from then on every call, on every
 * document of the thread, fails with "memory access out of bounds". Every method of OpLog and Branch is therefore wrapped here to
 * put the stack pointer back where it was when the call throws. (What the call had allocated on the
 * heap stays lost: Replica.applyPatch checks a client's patch so that none gets this far; see BrokenPatchError.)
 */
interface Wasm {
  __wbindgen_add_to_stack_pointer(delta: number): number;
  memory: WebAssembly.Memory;
}

const wasm = (dt as unknown as { __wasm: Wasm }).__wasm;
const WRAPPED = Symbol.for('cowrite.engineStackRestored');

function restoringStack(fn: (...args: unknown[]) => unknown) {
  return function (this: unknown, ...args: unknown[]) {
    const sp = wasm.__wbindgen_add_to_stack_pointer(0);
    try {
      return fn.apply(this, args);
    } catch (e) {
      const now = wasm.__wbindgen_add_to_stack_pointer(0);
      if (now !== sp) wasm.__wbindgen_add_to_stack_pointer(sp - now);
      throw e;
    }
  };
}

function wrapMethods(target: Record<string | symbol, unknown>): void {
  if (target[WRAPPED]) return;
  for (const name of Object.getOwnPropertyNames(target)) {
    if (name === 'constructor' || name === 'prototype' || name.startsWith('__')) continue;
    const d = Object.getOwnPropertyDescriptor(target, name);
    if (d && typeof d.value === 'function') Object.defineProperty(target, name, { ...d, value: restoringStack(d.value as (...args: unknown[]) => unknown) });
  }
  Object.defineProperty(target, WRAPPED, { value: true });
}

for (const cls of [dt.OpLog, dt.Branch]) {
  wrapMethods(cls.prototype as unknown as Record<string | symbol, unknown>);
  wrapMethods(cls as unknown as Record<string | symbol, unknown>);
}

/**
 * Runs `fn` with the engine's panic messages silenced. Its panic hook writes each one, with a stack,
 * to console.error; for a call whose failure is an expected answer to bad input (decoding a client's
 * patch), a client could otherwise fill the server's output with them.
 */
export function withoutPanicOutput<T>(fn: () => T): T {
  const error = console.error;
  console.error = () => {};
  try {
    return fn();
  } finally {
    console.error = error;
  }
}

/**
 * The size of this thread's engine memory (its WebAssembly memory). It never shrinks: it is the most
 * the thread's replicas, scratch copies and checkouts have needed at once, and freed objects' room is
 * reused. Flat while documents come and go; a steady climb is engine objects that are never freed.
 */
export function engineMemoryBytes(): number {
  return wasm.memory.buffer.byteLength;
}

export const { OpLog, Branch } = dt;
export type OpLog = dt.OpLog;
export type Branch = dt.Branch;
