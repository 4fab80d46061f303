import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OpLog } from '../src/crdt/engine.js';
import { Replica } from '../src/crdt/replica.js';
import { TRACES_DIR } from './lib/traces.js';
import { fmt, header, median } from './lib/stats.js';

const RUNS = 5;
const LIMITS = { maxInsertChars: 10_000_000, maxDocumentChars: 10_000_000, maxOpsPerEdit: 1000 };

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/**
 * A whole editing history sent as one patch (a client importing a document, or syncing a long
 * offline session), merged through the CRDT seam with every check a client's patch gets (strict
 * decoding, the history's form, positions against the text at each operation's parents), against the
 * engine merging the same bytes and checking out the text with no check at all, in the same process.
 */
export async function patchimport(): Promise<void> {
  header(`A trace's whole history as one patch: Replica.applyPatch (checked) against the bare engine, median of ${RUNS}`, 'npm run bench -- patchimport');
  for (const name of ['automerge-paper', 'seph-blog1', 'friendsforever', 'clownschool']) {
    const bytes = readFileSync(path.join(TRACES_DIR, 'dt', `${name}.dt`));
    const checked: number[] = [];
    const bare: number[] = [];
    let text = '';
    for (let i = 0; i < RUNS; i++) {
      const replica = Replica.empty();
      checked.push(time(() => replica.applyPatch(bytes, () => true, LIMITS)));
      text = replica.read('text', replica.frontier()) as string;
      replica.free();
      const log = new OpLog();
      bare.push(
        time(() => {
          log.addFromBytes(bytes);
          const b = log.checkout();
          if (b.get() !== text) throw new Error(`${name}: the checked merge gave another text`);
          b.free();
        }),
      );
      log.free();
    }
    const c = median(checked);
    const b = median(bare);
    console.log(`    ${name.padEnd(16)} ${String(bytes.length).padStart(7)} bytes: checked ${fmt(c, 1)} ms, bare engine ${fmt(b, 1)} ms (${fmt(c / b, 1)}x); same text`);
  }
}
