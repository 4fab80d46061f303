import type { ExecutionResult } from 'graphql';
import { WebSocket } from 'ws';
import { ATTACH_SINK, isPushable } from '../pushable.js';
import { sharedJson } from './sharedExecution.js';
import type { WriteCoalescer } from './writeCoalescer.js';

/** `next` messages already built, by shared result data and subscription id. */
const messages = new WeakMap<object, Map<string, Buffer>>();

/** The graphql-ws `next` message for a shared result (the bytes graphql-ws itself would send), or null for any other result. */
function messageOf(result: ExecutionResult, id: string): Buffer | null {
  const data = result.data;
  if (result.errors || result.extensions || !data) return null;
  const json = sharedJson(data);
  if (json === null) return null;
  let byId = messages.get(data);
  if (!byId) messages.set(data, (byId = new Map()));
  let message = byId.get(id);
  if (!message) byId.set(id, (message = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":{"data":${json}}}`)));
  return message;
}

/**
 * graphql-ws sends each result through its own pipeline: a hook, a stringify, a send and a wait for
 * the write, per subscriber and event. For a result shared by many subscribers (sharedExecution.ts)
 * that is most of an event's cost, so this puts the `next` message (built once per result and
 * subscription id) straight into the socket's outbox and goes on to the next event. Anything else
 * (an error, a result of the subscriber's own) is handed back to graphql-ws, after the messages
 * before it. A socket with too much unwritten stops the pulling until it drains, so a reader
 * that stops reading leaves its events in its bounded stream, as before.
 *
 * When the results can be pushed (src/pushable.ts), events go to the socket in one synchronous
 * call each, without a promise; whatever the sink refuses (an error, a full socket) and the end of
 * the stream are taken through next() as above, and then pushing resumes.
 */
export function deliverDirect(results: AsyncIterableIterator<ExecutionResult>, socket: WebSocket, id: string, coalescer: WriteCoalescer): AsyncIterableIterator<ExecutionResult> {
  /** Queues a shared result's message; false for any other result, which graphql-ws sends. */
  const send = (result: ExecutionResult): boolean => {
    const message = messageOf(result, id);
    if (!message) return false;
    if (socket.readyState === WebSocket.OPEN) coalescer.sendText(socket, message);
    return true;
  };
  const take = (result: ExecutionResult): boolean => !coalescer.full(socket) && send(result);
  const direct: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      for (;;) {
        if (isPushable(results) && !coalescer.full(socket)) await new Promise<void>((wake) => results[ATTACH_SINK](take, wake));
        if (coalescer.full(socket)) await coalescer.drained(socket);
        const r = await results.next();
        if (r.done || !send(r.value)) return r;
      }
    },
    return: () => results.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    throw: (e?: unknown) => results.throw?.(e) ?? Promise.reject(e),
    [Symbol.asyncIterator]() {
      return direct;
    },
  };
  return direct;
}
