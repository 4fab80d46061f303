import { hash, verify } from '@node-rs/argon2';

/** OWASP's argon2id baseline (argon2id is the default algorithm): 19 MiB, 2 passes, 1 lane. */
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** A hash to verify against when the account does not exist, so both paths take the same time. */
export const DUMMY_HASH = await hashPassword('cowrite-timing-equaliser');
