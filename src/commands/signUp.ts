import { hashPassword } from '../auth/passwords.js';
import type { Services } from '../context.js';
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
  const client = await services.pool.connect();
  try {
    await client.query('BEGIN');
    const res = await client.query<{ id: string; created_at: Date }>(
      'INSERT INTO users (email, password_hash, display_name) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING RETURNING id, created_at',
      [email, passwordHash, displayName],
    );
    const row = res.rows[0];
    if (!row) throw new AppError(ErrorCode.BAD_USER_INPUT, 'an account with this email already exists', { field: 'email' });
    const session = await services.sessions.create(row.id, client);
    await client.query('COMMIT');
    return { token: session.token, user: { id: row.id, email, displayName, createdAt: row.created_at } };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
