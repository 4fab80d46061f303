import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Participant } from './presenceTypes.js';

/**
 * Where an instance finds who is present in a document it has not been watching: a Redis hash per
 * document (agent -> participant), expiring with the participants when nobody renews it. Without
 * Redis there is one instance, and its own memory is the whole story.
 */
export interface PresenceStore {
  load(documentId: string): Promise<Participant[]>;
  save(documentId: string, upserts: Participant[], leaves: string[], ttlMs: number): void;
  stop(): Promise<void>;
}

export const memoryPresenceStore: PresenceStore = {
  load: async () => [],
  save: () => undefined,
  stop: async () => undefined,
};

const key = (documentId: string) => `cowrite:presence:${documentId}`;

export function createRedisPresenceStore(url: string, log: Logger, name: string): PresenceStore {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectionName: `${name}:presence` });
  redis.on('error', (err) => log.debug({ err: err.message }, 'presence store: redis error'));
  return {
    async load(documentId) {
      try {
        const now = Date.now();
        const all = await redis.hgetall(key(documentId));
        return Object.values(all)
          .map((v) => JSON.parse(v) as Participant)
          .filter((p) => p.expiresAt > now);
      } catch (err) {
        // Redis down: this instance starts from what the other instances announce next.
        log.debug({ err: String(err), documentId }, 'presence store: load failed');
        return [];
      }
    },
    save(documentId, upserts, leaves, ttlMs) {
      const k = key(documentId);
      const m = redis.multi();
      if (upserts.length > 0) m.hset(k, Object.fromEntries(upserts.map((p) => [p.agent, JSON.stringify(p)])));
      if (leaves.length > 0) m.hdel(k, ...leaves);
      m.pexpire(k, ttlMs);
      m.exec().catch((err) => log.debug({ err: String(err), documentId }, 'presence store: save failed'));
    },
    async stop() {
      redis.disconnect();
    },
  };
}
