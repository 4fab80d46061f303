import type { IncomingMessage } from 'node:http';
import type { ClientInfo } from './viewer.js';

/**
 * Where a request came from: the peer address, or the first X-Forwarded-For hop when the server
 * sits behind a proxy it trusts (TRUST_PROXY). The User-Agent is kept for the audit log.
 */
export function clientInfo(req: Pick<IncomingMessage, 'headers' | 'socket'> | undefined, trustProxy: boolean): ClientInfo {
  if (!req) return { ip: null, userAgent: null };
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  const ua = req.headers['user-agent'];
  return { ip: first || req.socket?.remoteAddress || null, userAgent: typeof ua === 'string' ? ua : null };
}
