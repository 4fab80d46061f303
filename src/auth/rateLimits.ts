import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import { AppError, ErrorCode } from '../errors.js';

/** What is limited, and by what key. */
export type LimitKind = 'authPerIp' | 'authPerAccount' | 'editsPerUser' | 'editsPerIp' | 'connectionsPerIp';

/**
 * Fixed-window rate limits (rate-limiter-flexible), per minute. With
 * Redis they are counted in Redis, so they hold across instances; if Redis fails, each instance
 * counts on its own meanwhile (the insurance limiter) rather than refusing or letting everything through.
 */
export class RateLimits {
  private readonly limiters: Record<LimitKind, RateLimiterAbstract>;

  constructor(limits: Config['rateLimits'], redis: Redis | null, prefix = 'cowrite:') {
    const make = (kind: LimitKind): RateLimiterAbstract => {
      const opts = { keyPrefix: `${prefix}rl:${kind}`, points: limits[kind], duration: 60 };
      return redis ? new RateLimiterRedis({ ...opts, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(opts) }) : new RateLimiterMemory(opts);
    };
    this.limiters = {
      authPerIp: make('authPerIp'),
      authPerAccount: make('authPerAccount'),
      editsPerUser: make('editsPerUser'),
      editsPerIp: make('editsPerIp'),
      connectionsPerIp: make('connectionsPerIp'),
    };
  }

  /** Counts one attempt against each (kind, key); RATE_LIMITED with retryAfterMs when any is spent. */
  async consume(...checks: [LimitKind, string | null | undefined][]): Promise<void> {
    for (const [kind, key] of checks) {
      if (!key) continue;
      try {
        await this.limiters[kind].consume(key);
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        throw limited(kind, res);
      }
    }
  }

  /** Clears one key's count (a successful sign-in resets the account's failures). */
  async reset(kind: LimitKind, key: string): Promise<void> {
    await this.limiters[kind].delete(key).catch(() => undefined);
  }
}

function limited(kind: LimitKind, res: RateLimiterRes): AppError {
  const retryAfterMs = Math.max(1, Math.ceil(res.msBeforeNext));
  return new AppError(ErrorCode.RATE_LIMITED, `too many requests; retry in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs, limit: kind });
}

/** Counts one edit, patch or join against the caller's and their address's limits. */
export function limitEdits(ctx: { services: { rateLimits: RateLimits }; viewer: { userId: string } | null; client: { ip: string | null } }): Promise<void> {
  return ctx.services.rateLimits.consume(['editsPerUser', ctx.viewer?.userId], ['editsPerIp', ctx.client.ip]);
}
