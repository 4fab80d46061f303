import type { RemoteVersion } from '../crdt/version.js';

export type PresenceStatus = 'ACTIVE' | 'IDLE';

export interface Cursor {
  /** Where the selection started (code points). */
  anchor: number;
  /** Where it ends: the caret. Equal to `anchor` for a bare caret. */
  head: number;
}

/** One editing session present in a document. */
export interface Participant {
  agent: string;
  userId: string;
  displayName: string;
  colour: string;
  cursor: Cursor | null;
  /** The version `cursor` positions refer to. */
  version: RemoteVersion;
  status: PresenceStatus;
  /** Last update the participant sent (ms since the epoch). */
  lastActiveAt: number;
  /** Gone after this (ms since the epoch) unless renewed: by an update, or by a subscription holding it. */
  expiresAt: number;
}

/**
 * Who joined or changed, and who left, since the previous event; or, when `full`, everyone present
 * (the first event, and the next one after a subscriber fell behind): anyone not listed has left.
 */
export interface PresenceEvent {
  documentId: string;
  participants: Participant[];
  left: string[];
  full: boolean;
}
