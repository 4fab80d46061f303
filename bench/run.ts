import { buildDist } from '../test/helpers/build.js';
import { closeAgent } from './lib/http.js';
import { coldload } from './coldload.js';
import { crowded } from './crowded.js';
import { failover } from './failover.js';
import { firstread } from './firstread.js';
import { fanout } from './fanout.js';
import { history } from './history.js';
import { patchimport } from './patchimport.js';
import { presence } from './presence.js';
import { replay } from './replay.js';
import { throughput } from './throughput.js';

/** `npm run bench` runs every benchmark; `npm run bench -- NAME...` runs some. */
const all: Record<string, () => Promise<void>> = { throughput, crowded: () => crowded(), follower: () => crowded({ follower: true }), firstread, fanout, replay, coldload, presence, failover, history, patchimport };
const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(all);
// The servers run what `npm start` runs: the build of the current sources.
buildDist();
for (const name of names) {
  const run = all[name];
  if (!run) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(all).join(', ')}`);
    process.exit(2);
  }
  await run();
}
closeAgent();
process.exit(0);
