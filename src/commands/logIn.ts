import { eq } from 'drizzle-orm';
import { recordAudit } from '../audit/auditLog.js';
import { DUMMY_HASH, verifyPassword } from '../auth/passwords.js';
import type { ClientInfo } from '../auth/viewer.js';
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

/**
 * Signs in with email and password; the same error for an unknown email and a wrong password.
 * Attempts are limited per address and per account (brute force), and recorded either way.
 */
export async function logIn(services: Services, input: { email: string; password: string }, client: ClientInfo): Promise<AuthResult> {
  const email = checkText(input.email.trim(), 'email', 320).toLowerCase();
  checkText(input.password, 'password', 1024);
  await services.rateLimits.consume(['authPerIp', client.ip], ['authPerAccount', email]);
  const [row] = await services.db.select().from(users).where(eq(users.email, email));
  const ok = await verifyPassword(row?.passwordHash ?? DUMMY_HASH, input.password);
  if (!row || !ok) {
    await recordAudit(services.db, { action: 'session.sign_in_failed', actorId: row?.id ?? null, ip: client.ip, userAgent: client.userAgent, details: { email } });
    throw new AppError(ErrorCode.UNAUTHENTICATED, 'wrong email or password');
  }
  await services.rateLimits.reset('authPerAccount', email);
  const session = await services.sessions.create({ id: row.id, email: row.email, displayName: row.displayName }, client);
  await recordAudit(services.db, { action: 'session.signed_in', actorId: row.id, ip: client.ip, userAgent: client.userAgent, details: { sessionId: session.sessionId } });
  return { token: session.token, user: { id: row.id, email: row.email, displayName: row.displayName, createdAt: row.createdAt } };
}
