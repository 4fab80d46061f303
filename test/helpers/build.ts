import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

/** Compiles the sources to dist/ as `npm run build` does (incremental: quick when nothing changed). */
export function buildDist(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
