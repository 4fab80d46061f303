import { buildDist } from './helpers/build.js';

/**
 * Builds dist/ once before the tests (what `npm start` and `npm run worker` run): tests that start
 * the server or the worker as a process run the compiled code, as users do.
 */
export default function setup(): void {
  buildDist();
}
