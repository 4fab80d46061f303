import { eq } from 'drizzle-orm';
import { DUMMY_HASH, verifyPassword } from '../auth/passwords.js';
import type { Services } from '../context.js';
import { users } from '../db/schema.js';
import { AppError, ErrorCode } from '../errors.js';
import { checkText } from '../validation.js';

export interface UserRecord {
  id: string;
  email: string;
  displayName: string;
  createdAt: Date;
}

export interface AuthResult {
  token: string;
  user: UserRecord;
}

/** Signs in with email and password; the same error for an unknown email and a wrong password. */
export async function logIn(services: Services, input: { email: string; password: string }): Promise<AuthResult> {
  const email = checkText(input.email.trim(), 'email', 320).toLowerCase();
  checkText(input.password, 'password', 1024);
  const [row] = await services.db.select().from(users).where(eq(users.email, email));
  const ok = await verifyPassword(row?.passwordHash ?? DUMMY_HASH, input.password);
  if (!row || !ok) throw new AppError(ErrorCode.UNAUTHENTICATED, 'wrong email or password');
  const session = await services.sessions.create(row.id);
  return { token: session.token, user: { id: row.id, email: row.email, displayName: row.displayName, createdAt: row.createdAt } };
}
