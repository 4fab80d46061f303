import { hashPassword } from '../auth/passwords.js';
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
export async function signUp(services: Services, input: SignUpInput): Promise<AuthResult> {
  const email = checkEmail(input.email);
  const password = checkPassword(input.password);
  const displayName = checkText(input.displayName.trim(), 'displayName', 100, { allowEmpty: false });
  const passwordHash = await hashPassword(password);
  return services.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(users)
      .values({ email, passwordHash, displayName })
      .onConflictDoNothing({ target: users.email })
      .returning({ id: users.id, createdAt: users.createdAt });
    if (!row) throw new AppError(ErrorCode.BAD_USER_INPUT, 'an account with this email already exists', { field: 'email' });
    const session = await services.sessions.create(row.id, tx);
    return { token: session.token, user: { id: row.id, email, displayName, createdAt: row.createdAt } };
  });
}
