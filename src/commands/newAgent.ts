import { randomBytes } from 'node:crypto';

/** A fresh agent name: unique, well under diamond-types' 50-byte limit, never "ROOT". */
export function newAgent(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}
