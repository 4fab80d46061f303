import type { Participant } from '../collab/presenceTypes.js';

/** Every message that crosses instances, by topic. Thin: ids, orders and patch bytes, plus the sender. */
export interface Topics {
  /** New operation rows of a document were committed by `origin`. */
  'doc.ops': {
    origin: string;
    documentId: string;
    /** Server orders of the rows, inclusive. */
    fromOrder: number;
    toOrder: number;
    /** The rows, in order: positional edits as made, or base64 diamond-types patches. */
    entries: WireEntry[];
  };
  /** Participants who joined, moved or were renewed, and those who left, on `origin` (coalesced per tick). */
  'doc.presence': {
    origin: string;
    documentId: string;
    upserts: Participant[];
    leaves: string[];
  };
  /**
   * Who may do what with a document changed (shared, revoked, role changed, owner transferred,
   * deleted or restored), committed by `origin`. `userIds` null: anyone may be affected.
   */
  'doc.access': {
    origin: string;
    documentId: string;
    userIds: string[] | null;
    deleted: boolean;
  };
  /** Credentials (session or API key ids) were revoked: caches drop them and their subscriptions end. */
  'auth.revoked': {
    origin: string;
    credentialIds: string[];
  };
}

export type Topic = keyof Topics;

/** A LogEntry on the wire (JSON): patch bytes as base64. */
export type WireEntry =
  | { kind: 'ops'; agent: string; seqStart: number; parents: [string, number][]; ops: ({ kind: 'insert'; pos: number; text: string } | { kind: 'delete'; pos: number; len: number })[] }
  | { kind: 'patch'; patch: string };
