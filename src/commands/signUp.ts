import { recordAudit } from '../audit/auditLog.js';
import { hashPassword } from '../auth/passwords.js';
import type { ClientInfo } from '../auth/viewer.js';
import type { Services } from '../context.js';
import { users } from '../db/schema.js';
import { AppError, ErrorCode } from '../errors.js';
import { checkEmail, checkPassword, checkText } from '../validation.js';
import type { AuthResult } from './logIn.js';

export interface SignUpInput {
  email: string;
  password: string;
  displayName: string;
}

/** Creates an account and signs it in. */
export async function signUp(services: Services, input: SignUpInput, client: ClientInfo): Promise<AuthResult> {
  const email = checkEmail(input.email);
  const password = checkPassword(input.password);
  const displayName = checkText(input.displayName.trim(), 'displayName', 100, { allowEmpty: false });
  await services.rateLimits.consume(['authPerIp', client.ip]);
  const passwordHash = await hashPassword(password);
  const row = await services.db.transaction(async (tx) => {
    const [created] = await tx
      .insert(users)
      .values({ email, passwordHash, displayName })
      .onConflictDoNothing({ target: users.email })
      .returning({ id: users.id, createdAt: users.createdAt });
    if (!created) throw new AppError(ErrorCode.BAD_USER_INPUT, 'an account with this email already exists', { field: 'email' });
    await recordAudit(tx, { action: 'user.signed_up', actorId: created.id, ip: client.ip, userAgent: client.userAgent });
    return created;
  });
  const session = await services.sessions.create({ id: row.id, email, displayName }, client);
  return { token: session.token, user: { id: row.id, email, displayName, createdAt: row.createdAt } };
}
