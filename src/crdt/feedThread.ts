import { parentPort } from 'node:worker_threads';
import { AppError } from '../errors.js';
import { transformPositions } from './cursor.js';
import { engineMemoryBytes } from './engine.js';
import { lengthChange } from './text.js';
import type { FeedChange, FromFeed, ToFeed } from './feedProtocol.js';
import { Replica, type Frontier } from './replica.js';

/**
 * The change-feed thread. It keeps its own replica of every loaded document (fed the same committed
 * entries as the main thread, in the same order) and computes subscribers' events from it. Computing
 * positional ops is a transform, which costs the whole concurrent history on a crowded document; here
 * it never blocks edits, and while one runs, new entries pile up and go out as one coalesced event.
 */
interface Feed {
  documentId: string;
  replica: Replica;
  emitted: Frontier;
  agents: Set<string>;
  dirty: boolean;
  patchWanted: number;
  /** Attached streams: with none, there is nobody to compute events for. */
  streams: number;
}

const feeds = new Map<string, Feed>();
const dirty = new Set<string>();
let scheduled = false;

function post(m: FromFeed) {
  parentPort!.postMessage(m);
}

function flush(id: string, feed: Feed) {
  dirty.delete(id);
  feed.dirty = false;
  const current = feed.replica.frontier();
  if (feed.replica.descends(feed.emitted, current)) return;
  if (feed.streams === 0) {
    feed.emitted = current;
    feed.agents.clear();
    return;
  }
  const change: FeedChange = {
    documentId: feed.documentId,
    version: feed.replica.toRemote(current),
    ops: feed.replica.changesSince(feed.emitted),
    patch: feed.patchWanted > 0 ? Buffer.from(feed.replica.patchSince(feed.emitted)).toString('base64') : '',
    agents: [...feed.agents],
  };
  // Known from the last event's (a checkout here the first time only), then carried by each event's ops.
  const length = feed.replica.lengthAt(feed.emitted) + lengthChange(change.ops);
  feed.replica.noteLength(current, length);
  feed.emitted = current;
  feed.agents.clear();
  post({ t: 'change', feed: id, change, length });
}

function runFlushes() {
  scheduled = false;
  for (const id of [...dirty]) {
    const feed = feeds.get(id);
    if (feed) guarded(id, () => flush(id, feed));
  }
}

/** Answers a question about a loaded feed's replica, or says why it could not (`readFailed`). */
function answer(feedId: string, id: number, compute: (replica: Replica) => FromFeed) {
  const feed = feeds.get(feedId);
  if (!feed) return post({ t: 'readFailed', id, message: 'document is reloading; retry' });
  try {
    post(compute(feed.replica));
  } catch (err) {
    post({ t: 'readFailed', id, message: String((err as Error)?.message ?? err) });
  }
}

function guarded(id: string, fn: () => void) {
  try {
    fn();
  } catch (err) {
    const feed = feeds.get(id);
    feeds.delete(id);
    dirty.delete(id);
    feed?.replica.free();
    post({ t: 'failed', feed: id, message: String((err as Error)?.message ?? err) });
  }
}

function handle(m: ToFeed) {
  switch (m.t) {
    case 'load': {
      feeds.get(m.feed)?.replica.free();
      guarded(m.feed, () => {
        const replica = m.snapshot ? Replica.fromSnapshot(m.snapshot) : Replica.empty();
        feeds.set(m.feed, { documentId: m.documentId, replica, emitted: new Uint32Array(0), agents: new Set(), dirty: false, patchWanted: 0, streams: 0 });
        for (const e of m.entries) replica.applyTrusted(e);
        feeds.get(m.feed)!.emitted = replica.frontier();
      });
      return;
    }
    case 'apply': {
      const feed = feeds.get(m.feed);
      if (!feed) return;
      guarded(m.feed, () => {
        for (const e of m.entries) for (const a of feed.replica.applyTrusted(e)) feed.agents.add(a);
      });
      return;
    }
    case 'flush': {
      if (!feeds.has(m.feed)) return;
      dirty.add(m.feed);
      if (!scheduled) {
        scheduled = true;
        setImmediate(runFlushes);
      }
      return;
    }
    case 'attach': {
      const feed = feeds.get(m.feed);
      if (!feed) return post({ t: 'attachFailed', feed: m.feed, stream: m.stream, code: 'UNAVAILABLE', message: 'document is reloading; resubscribe' });
      guarded(m.feed, () => {
        // Everything before this point goes out to the streams already attached.
        flush(m.feed, feed);
        if (m.wantsPatch) feed.patchWanted++;
        let change: FeedChange | null = null;
        if (m.since !== null) {
          let from: Frontier;
          try {
            from = feed.replica.resolve(m.since, 'since');
          } catch (err) {
            if (m.wantsPatch) feed.patchWanted--;
            const e = err as AppError;
            return post({ t: 'attachFailed', feed: m.feed, stream: m.stream, code: String(e.extensions?.code ?? 'BAD_USER_INPUT'), message: e.message });
          }
          if (!feed.replica.descends(from, feed.emitted)) {
            change = {
              documentId: feed.documentId,
              version: feed.replica.toRemote(feed.emitted),
              ops: feed.replica.changesSince(from),
              patch: m.wantsPatch ? Buffer.from(feed.replica.patchSince(from)).toString('base64') : '',
              agents: feed.replica.agentsSince(from),
            };
          }
        }
        feed.streams++;
        post({ t: 'attached', feed: m.feed, stream: m.stream, change, length: change ? feed.replica.lengthAt(feed.emitted) : 0 });
      });
      return;
    }
    case 'detach': {
      const feed = feeds.get(m.feed);
      if (!feed) return;
      if (m.wantsPatch) feed.patchWanted = Math.max(0, feed.patchWanted - 1);
      feed.streams = Math.max(0, feed.streams - 1);
      return;
    }
    case 'settle': {
      if (scheduled) runFlushes();
      return post({ t: 'settled', id: m.id });
    }
    case 'read':
      return answer(m.feed, m.id, (replica) => ({ t: 'read', id: m.id, result: replica.read(m.what, replica.resolve(m.version, 'version')) }));
    case 'rebase':
      return answer(m.feed, m.id, (replica) => {
        const positions = transformPositions(m.positions, replica.changesSince(replica.resolve(m.from, 'version')));
        return { t: 'rebased', id: m.id, result: { version: replica.toRemote(replica.frontier()), positions } };
      });
    case 'engineMemory':
      return post({ t: 'engineMemory', id: m.id, result: engineMemoryBytes() });
    case 'unload': {
      feeds.get(m.feed)?.replica.free();
      feeds.delete(m.feed);
      dirty.delete(m.feed);
      return;
    }
  }
}

parentPort!.on('message', handle);
