import { badInput } from './errors.js';
import { codePointLength, hasLoneSurrogate } from './crdt/text.js';

/** Checks user-supplied text: no lone surrogates, at most `max` code points. Returns it unchanged. */
export function checkText(value: string, field: string, max: number, { allowEmpty = true } = {}): string {
  if (hasLoneSurrogate(value)) throw badInput(`${field} contains a lone surrogate`, { field });
  const n = codePointLength(value);
  if (!allowEmpty && value.trim().length === 0) throw badInput(`${field} must not be empty`, { field });
  if (n > max) throw badInput(`${field} is longer than ${max} characters`, { field, max });
  return value;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{1,63}$/;

export function checkEmail(value: string): string {
  const email = checkText(value.trim(), 'email', 320).toLowerCase();
  if (!EMAIL.test(email)) throw badInput('email is not a valid address', { field: 'email' });
  return email;
}

export function checkPassword(value: string): string {
  checkText(value, 'password', 1024);
  if (value.length < 8) throw badInput('password must have at least 8 characters', { field: 'password' });
  return value;
}
