import { RedisPubSub } from 'graphql-redis-subscriptions';
import { PubSub } from 'graphql-subscriptions';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Topic, Topics } from './topics.js';

/** Publish/subscribe between server instances: in-process for one instance, Redis for several. */
export interface Bus {
  readonly kind: 'memory' | 'redis';
  publish<T extends Topic>(topic: T, message: Topics[T]): Promise<void>;
  subscribe<T extends Topic>(topic: T, onMessage: (message: Topics[T]) => void): Promise<number>;
  unsubscribe(id: number): void;
  /** True when messages can currently be delivered. */
  healthy(): Promise<boolean>;
  stop(): Promise<void>;
}

const PREFIX = 'cowrite:';

export function createMemoryBus(): Bus {
  const pubsub = new PubSub();
  return {
    kind: 'memory',
    publish: (topic, message) => pubsub.publish(PREFIX + topic, message),
    subscribe: (topic, onMessage) => pubsub.subscribe(PREFIX + topic, onMessage as (m: unknown) => void),
    unsubscribe: (id) => pubsub.unsubscribe(id),
    healthy: async () => true,
    stop: async () => undefined,
  };
}

/** `name` labels the connections (CLIENT LIST), so an operator can tell instances apart. */
export function createRedisBus(url: string, log: Logger, name: string): Bus {
  const options = { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: false };
  const publisher = new Redis(url, { ...options, connectionName: `${name}:pub` });
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true, connectionName: `${name}:sub` });
  for (const [name, c] of [['publisher', publisher], ['subscriber', subscriber]] as const) {
    c.on('error', (err) => log.warn({ err: err.message, client: name }, 'redis error'));
  }
  const pubsub = new RedisPubSub({ publisher, subscriber });
  return {
    kind: 'redis',
    publish: (topic, message) => pubsub.publish(PREFIX + topic, message),
    subscribe: (topic, onMessage) => pubsub.subscribe(PREFIX + topic, onMessage as (m: unknown) => void),
    unsubscribe: (id) => pubsub.unsubscribe(id),
    healthy: async () => {
      try {
        return (await publisher.ping()) === 'PONG' && subscriber.status === 'ready';
      } catch {
        return false;
      }
    },
    stop: async () => {
      await pubsub.close().catch(() => undefined);
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
