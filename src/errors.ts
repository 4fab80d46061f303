import { GraphQLError } from 'graphql';

/** Every code a client can see in `extensions.code` (CONTRACT.md, "Errors"). */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNKNOWN_VERSION: 'UNKNOWN_VERSION',
  SEQ_GAP: 'SEQ_GAP',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const KNOWN = new Set<string>(Object.values(ErrorCode));

/** An expected failure: its message and code reach the client unmasked. */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extra, code } });
    this.code = code;
  }
}

export const badInput = (message: string, extra: Record<string, unknown> = {}) => new AppError(ErrorCode.BAD_USER_INPUT, message, extra);

export function isKnownCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN.has(code);
}

/** Finds the AppError inside whatever graphql-js or Yoga wrapped around it. */
export function findAppError(err: unknown): AppError | undefined {
  for (let e: unknown = err, i = 0; e && i < 5; i++) {
    if (e instanceof AppError) return e;
    e = (e as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/** True when the error comes from PostgreSQL or Redis being unreachable: safe for the client to retry. */
export function isUnavailable(err: unknown): boolean {
  // Drizzle wraps driver errors (`cause`), graphql-js wraps resolver errors (`originalError`).
  for (let e = err as Wrapped | undefined, i = 0; e && i < 5; e = e.cause ?? e.originalError, i++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_MESSAGE.test(typeof e.message === 'string' ? e.message : '')) return true;
  }
  return false;
}

type Wrapped = { code?: unknown; message?: unknown; cause?: Wrapped; originalError?: Wrapped };
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300', '08006', '08003', '08001']);
const UNAVAILABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed/i;
