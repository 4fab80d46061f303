import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on a module of this codebase, given as the URL of its `.ts` or `.js` file
 * (the extension this file runs with). Run from TypeScript sources (tsx), the thread registers tsx
 * before it imports the module.
 */
export function startModuleThread(entry: URL, workerData?: unknown): Worker {
  const ts = import.meta.url.endsWith('.ts');
  const href = ts ? entry.href : entry.href.replace(/\.ts$/, '.js');
  const boot = ts ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(href)}); })` : `import(${JSON.stringify(href)})`;
  return new Worker(boot, { eval: true, workerData });
}
