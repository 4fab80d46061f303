import os from 'node:os';

/** Percentile of a sample (nearest rank); NaN for an empty sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (v: number[]) => percentile(v, 50);

export const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** Prints a header naming the benchmark and the command that reproduces it. */
export function header(name: string, command: string): void {
  console.log(`\n=== ${name}`);
  console.log(`    command: ${command}`);
  console.log(`    machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
}
