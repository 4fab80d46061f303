import type { LogEntry, Reads, TextOp } from './replica.js';
import type { RemoteVersion } from './version.js';

/** One event of a document's change log. */
export interface FeedChange {
  documentId: string;
  version: RemoteVersion;
  ops: TextOp[];
  /** base64 diamond-types patch of the new operations; '' when no subscriber asked for it. */
  patch: string;
  agents: string[];
}

/** Cursor positions moved to a later version of the text: they sit before the same characters there. */
export interface Rebased {
  version: RemoteVersion;
  positions: number[];
}

/** Messages to the change-feed thread. `feed` names one loaded copy of a document. */
export type ToFeed =
  | { t: 'load'; feed: string; documentId: string; snapshot: Uint8Array | null; entries: LogEntry[] }
  | { t: 'apply'; feed: string; entries: LogEntry[] }
  | { t: 'flush'; feed: string }
  | { t: 'attach'; feed: string; stream: number; since: RemoteVersion | null; wantsPatch: boolean }
  | { t: 'detach'; feed: string; stream: number; wantsPatch: boolean }
  | { t: 'unload'; feed: string }
  /** Emit every pending event now, then answer `settled`: everything sent before has gone out. */
  | { t: 'settle'; id: number }
  /** One of the costly reads (Replica.read) at `version`, one the entries sent before reach; answered as `read`. */
  | { t: 'read'; feed: string; id: number; version: RemoteVersion; what: keyof Reads }
  /** Positions at `from` moved through every later edit the feed holds; answered as `rebased`. */
  | { t: 'rebase'; feed: string; id: number; from: RemoteVersion; positions: number[] }
  /** The size of the thread's engine memory; answered as `engineMemory`. */
  | { t: 'engineMemory'; id: number };

/** Messages from the change-feed thread. */
export type FromFeed =
  /**
   * `length`: the text's length at the event's version (unset when `attached` has no event). Clients
   * send versions from events back as parents and cursor versions; knowing their lengths spares the
   * main thread a checkout for each.
   */
  | { t: 'change'; feed: string; change: FeedChange; length: number }
  | { t: 'attached'; feed: string; stream: number; change: FeedChange | null; length: number }
  | { t: 'attachFailed'; feed: string; stream: number; code: string; message: string }
  | { t: 'failed'; feed: string; message: string }
  | { t: 'settled'; id: number }
  | { t: 'read'; id: number; result: Reads[keyof Reads] }
  | { t: 'rebased'; id: number; result: Rebased }
  | { t: 'engineMemory'; id: number; result: number }
  | { t: 'readFailed'; id: number; message: string };
