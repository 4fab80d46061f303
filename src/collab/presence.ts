import type { Logger } from 'pino';
import type { Rebased } from '../crdt/feedProtocol.js';
import type { RemoteVersion } from '../crdt/version.js';
import type { Bus } from '../realtime/bus.js';
import type { Topics } from '../realtime/topics.js';
import type { Documents } from './documents.js';
import type { LiveDocument } from './liveDocument.js';
import type { PresenceStore } from './presenceStore.js';
import { PresenceStream } from './presenceStream.js';
import type { Cursor, Participant, PresenceEvent, PresenceStatus } from './presenceTypes.js';

export interface PresenceOptions {
  bus: Bus;
  store: PresenceStore;
  documents: Documents;
  log: Logger;
  instanceId: string;
  /** A participant nobody renews for this long is gone (ms). */
  ttlMs: number;
  /** Updates are coalesced and sent at most this often per document (ms). */
  tickMs: number;
  /** A participant with no update for this long shows as IDLE (ms). */
  idleMs: number;
}

/** How a participant's cursor looks on this instance: moved through the edits made since it was sent. */
interface Shown {
  /** The update it was moved from (sourceOf): once the participant sends another, this is stale. */
  from: string;
  version: RemoteVersion;
  cursor: Cursor;
}

/** One cursor to move, from where it is known to be. */
interface Moving {
  agent: string;
  from: string;
  cursor: Cursor;
}

/** Presence of one document on this instance. */
interface DocPresence {
  participants: Map<string, Participant>;
  shown: Map<string, Shown>;
  streams: Set<PresenceStream>;
  /** Agents kept present by subscriptions on this instance, with how many. */
  held: Map<string, number>;
  /** Changes made here, to announce to other instances. */
  outUpserts: Set<string>;
  outLeaves: Set<string>;
  /** Changes to deliver to this instance's subscribers. */
  changed: Set<string>;
  left: Set<string>;
  /** Participants already announced as IDLE for their silence. */
  idle: Set<string>;
  /** Everyone present, as one `full` event; rebuilt after any change. Shared by every stream that needs it. */
  snapshot: PresenceEvent | null;
  /** The document version cursors were last moved to. */
  lastVersion: string;
  /**
   * Cursors are being moved on the change-feed thread: the next move waits for it, and after it for
   * three times as long (until `rebaseAfter`), so moving cursors takes at most a quarter of that
   * thread's time, which it shares with the document's subscribers' events.
   */
  rebasing: boolean;
  rebaseAfter: number;
  loaded: Promise<void> | null;
}

/**
 * Who is in each document and where their cursors are. Updates are kept in memory, coalesced per
 * document and sent at most every `tickMs`, to this instance's subscribers and (with Redis) to other
 * instances and the presence store; nothing touches PostgreSQL. A participant stays while a
 * documentPresence subscription holds it (renewed every ttl/3) or while it keeps sending updates;
 * it leaves when its subscription closes, or after `ttlMs` of silence, on every instance.
 */
export class Presence {
  private readonly docs = new Map<string, DocPresence>();
  private tickTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private busSub: number | null = null;

  constructor(private readonly opts: PresenceOptions) {}

  async start(): Promise<void> {
    this.busSub = await this.opts.bus.subscribe('doc.presence', (m) => this.onRemote(m));
    this.tickTimer = setInterval(() => this.tick(), this.opts.tickMs);
    this.tickTimer.unref();
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(200, Math.floor(this.opts.ttlMs / 6)));
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.busSub !== null) this.opts.bus.unsubscribe(this.busSub);
    // Everyone this instance kept present leaves now, rather than after the TTL.
    for (const [id, d] of this.docs) {
      for (const agent of d.held.keys()) this.remove(d, agent);
      d.held.clear();
      this.publish(id, d);
      for (const s of d.streams) void s.return();
    }
    this.docs.clear();
  }

  /** Participants present (in the documents this instance tracks, from every instance) and open documentPresence subscriptions here. */
  stats(): { participants: number; subscriptions: number } {
    let participants = 0;
    let subscriptions = 0;
    for (const d of this.docs.values()) {
      participants += d.participants.size;
      subscriptions += d.streams.size;
    }
    return { participants, subscriptions };
  }

  /** Records a participant's cursor and status (validated against the document by the caller). */
  update(doc: LiveDocument, who: { agent: string; userId: string; displayName: string }, cursor: Cursor | null | undefined, version: RemoteVersion, status: PresenceStatus | null | undefined): Participant {
    const d = this.doc(doc.id);
    const now = Date.now();
    const prev = d.participants.get(who.agent);
    const p: Participant = {
      agent: who.agent,
      userId: who.userId,
      displayName: who.displayName,
      colour: colourOf(who.userId),
      cursor: cursor === undefined ? (prev?.cursor ?? null) : cursor,
      version: cursor === undefined ? (prev?.version ?? version) : version,
      status: status ?? 'ACTIVE',
      lastActiveAt: now,
      expiresAt: now + this.opts.ttlMs,
    };
    d.participants.set(p.agent, p);
    d.idle.delete(p.agent);
    d.left.delete(p.agent);
    d.outLeaves.delete(p.agent);
    d.outUpserts.add(p.agent);
    d.changed.add(p.agent);
    return p;
  }

  /**
   * A documentPresence subscription. Its first event lists everyone present; later ones who joined,
   * moved or left. With `agent`, that participant is present while the subscription is open.
   */
  async subscribe(doc: LiveDocument, holder: { agent: string; userId: string; displayName: string } | null): Promise<PresenceStream> {
    const loading = this.doc(doc.id);
    await (loading.loaded ??= this.load(doc.id, loading));
    // The sweep may have dropped it (empty) while the store was read: carry what was loaded over.
    const d = this.doc(doc.id);
    if (d !== loading) {
      d.loaded = loading.loaded;
      for (const [agent, p] of loading.participants) if (!d.participants.has(agent)) d.participants.set(agent, p);
    }
    const stream = new PresenceStream(doc.id, holder?.agent ?? null, () => this.snapshot(doc.id, d));
    if (holder) {
      d.held.set(holder.agent, (d.held.get(holder.agent) ?? 0) + 1);
      if (!d.participants.has(holder.agent)) this.update(doc, holder, null, doc.version(), 'ACTIVE');
    }
    this.rebase(doc.id, d, true);
    d.snapshot = null; // it gets everyone as of now; the next tick's changes follow
    d.streams.add(stream);
    const release = doc.hold(); // its cursors are moved through its edits
    stream.onClose = () => {
      release();
      d.streams.delete(stream);
      if (!holder) return;
      const n = (d.held.get(holder.agent) ?? 1) - 1;
      if (n > 0) d.held.set(holder.agent, n);
      else {
        d.held.delete(holder.agent);
        this.remove(d, holder.agent);
      }
    };
    return stream;
  }

  private snapshot(id: string, d: DocPresence): PresenceEvent {
    return (d.snapshot ??= { documentId: id, participants: [...d.participants.values()].map((p) => this.view(d, p)), left: [], full: true });
  }

  private doc(id: string): DocPresence {
    let d = this.docs.get(id);
    if (!d) {
      d = { participants: new Map(), shown: new Map(), streams: new Set(), held: new Map(), outUpserts: new Set(), outLeaves: new Set(), changed: new Set(), left: new Set(), idle: new Set(), snapshot: null, lastVersion: '', rebasing: false, rebaseAfter: 0, loaded: null };
      this.docs.set(id, d);
    }
    return d;
  }

  /** Who other instances have present, from the store, for a document this instance was not watching. */
  private async load(id: string, d: DocPresence): Promise<void> {
    for (const p of await this.opts.store.load(id)) if (!d.participants.has(p.agent)) d.participants.set(p.agent, p);
  }

  /** A participant leaves: this instance's subscribers are told, and (`announce`) the other instances. */
  private remove(d: DocPresence, agent: string, announce = true): void {
    if (!d.participants.delete(agent)) return;
    d.shown.delete(agent);
    d.idle.delete(agent);
    d.changed.delete(agent);
    d.left.add(agent);
    if (!announce) return;
    d.outUpserts.delete(agent);
    d.outLeaves.add(agent);
  }

  private onRemote(m: Topics['doc.presence']): void {
    if (m.origin === this.opts.instanceId) return;
    const d = this.docs.get(m.documentId);
    if (!d) return; // not watched here: the store has it for when it is
    for (const p of m.upserts) {
      const prev = d.participants.get(p.agent);
      d.participants.set(p.agent, p);
      d.left.delete(p.agent);
      // A renewal alone (same update, later expiry) changes nothing a subscriber sees.
      if (!prev || prev.lastActiveAt !== p.lastActiveAt || prev.status !== p.status) {
        d.changed.add(p.agent);
        d.idle.delete(p.agent);
      }
    }
    for (const agent of m.leaves) if (!d.held.has(agent)) this.remove(d, agent, false);
  }

  /** Sends what changed in each document since the last tick. */
  private tick(): void {
    for (const [id, d] of this.docs) {
      this.publish(id, d);
      if (d.streams.size === 0) {
        if (d.changed.size > 0 || d.left.size > 0) d.snapshot = null;
        d.changed.clear();
        d.left.clear();
        continue;
      }
      this.rebase(id, d, false);
      if (d.changed.size === 0 && d.left.size === 0) continue;
      d.snapshot = null;
      const participants: Participant[] = [];
      for (const agent of d.changed) {
        const p = d.participants.get(agent);
        if (p) participants.push(this.view(d, p));
      }
      const event: PresenceEvent = { documentId: id, participants, left: [...d.left], full: false };
      d.changed.clear();
      d.left.clear();
      for (const s of d.streams) s.push(event);
    }
  }

  /** Announces this instance's changes to the others and to the store. */
  private publish(id: string, d: DocPresence): void {
    if (d.outUpserts.size === 0 && d.outLeaves.size === 0) return;
    const upserts = [...d.outUpserts].map((a) => d.participants.get(a)).filter((p): p is Participant => !!p);
    const leaves = [...d.outLeaves];
    d.outUpserts.clear();
    d.outLeaves.clear();
    if (this.opts.bus.kind === 'memory') return;
    this.opts.store.save(id, upserts, leaves, this.opts.ttlMs);
    this.opts.bus.publish('doc.presence', { origin: this.opts.instanceId, documentId: id, upserts, leaves }).catch((err) => this.opts.log.debug({ err: String(err) }, 'presence publish failed'));
  }

  /**
   * Moves every cursor through the edits committed since it was last shown (or sent, if it is newer),
   * so it stays on its character; those that moved are delivered again. Cursors at one version share
   * one walk of the history. On a document whose transforms are slow this runs on the change-feed
   * thread, and what it moves is delivered at a later tick.
   */
  private rebase(id: string, d: DocPresence, force: boolean): void {
    const live = this.opts.documents.peek(id);
    if (!live || d.rebasing || performance.now() < d.rebaseAfter) return;
    const now = JSON.stringify(live.version());
    if (!force && now === d.lastVersion && d.changed.size === 0) return;
    d.lastVersion = now;
    const groups = new Map<string, { version: RemoteVersion; moving: Moving[] }>();
    for (const p of d.participants.values()) {
      if (!p.cursor) continue;
      const from = sourceOf(p);
      const start = this.moved(d, p) ?? { version: p.version, cursor: p.cursor };
      const k = JSON.stringify(start.version);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { version: start.version, moving: [] }));
      g.moving.push({ agent: p.agent, from, cursor: start.cursor });
    }
    const later: Promise<void>[] = [];
    for (const g of groups.values()) {
      const moved = live.rebase(g.version, g.moving.flatMap((m) => [m.cursor.anchor, m.cursor.head]));
      if (moved instanceof Promise) later.push(moved.then((r) => this.show(d, g.moving, r)));
      else this.show(d, g.moving, moved);
    }
    if (later.length === 0) return;
    d.rebasing = true;
    const started = performance.now();
    void Promise.all(later).finally(() => {
      d.rebasing = false;
      const ended = performance.now();
      d.rebaseAfter = ended + 3 * (ended - started);
    });
  }

  /** Records where cursors moved to; those whose participant has sent a newer update since are left alone. */
  private show(d: DocPresence, moving: Moving[], moved: Rebased | null): void {
    if (!moved) {
      d.lastVersion = ''; // not now (an edit was being committed, say): the next tick tries again
      return;
    }
    moving.forEach((m, i) => {
      const p = d.participants.get(m.agent);
      if (!p?.cursor || sourceOf(p) !== m.from) return;
      const cursor = { anchor: moved.positions[2 * i]!, head: moved.positions[2 * i + 1]! };
      const before = this.moved(d, p)?.cursor ?? p.cursor;
      d.shown.set(m.agent, { from: m.from, version: moved.version, cursor });
      if (before.anchor !== cursor.anchor || before.head !== cursor.head) d.changed.add(m.agent);
    });
  }

  /** Where a participant's cursor was last moved to, unless it has sent a newer one (or none) since. */
  private moved(d: DocPresence, p: Participant): Shown | null {
    const shown = d.shown.get(p.agent);
    return shown && p.cursor && shown.from === sourceOf(p) ? shown : null;
  }

  /** A participant as this instance's subscribers see it: cursor moved to the current version, idle when quiet. */
  private view(d: DocPresence, p: Participant): Participant {
    const moved = this.moved(d, p);
    const idle = Date.now() - p.lastActiveAt > this.opts.idleMs;
    return {
      ...p,
      cursor: moved?.cursor ?? p.cursor,
      version: moved?.version ?? p.version,
      status: idle ? 'IDLE' : p.status,
    };
  }

  /** Renews the participants held here, expires the silent ones, and marks the newly idle. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, d] of this.docs) {
      for (const [agent, p] of d.participants) {
        if (d.held.has(agent)) {
          if (p.expiresAt - now < (this.opts.ttlMs * 2) / 3) {
            p.expiresAt = now + this.opts.ttlMs;
            d.outUpserts.add(agent);
          }
        } else if (p.expiresAt <= now) {
          this.remove(d, agent);
        }
        if (p.status === 'ACTIVE' && now - p.lastActiveAt > this.opts.idleMs && !d.idle.has(agent)) {
          d.idle.add(agent);
          d.changed.add(agent);
        }
      }
      if (d.streams.size === 0 && d.participants.size === 0 && d.left.size === 0 && d.outLeaves.size === 0) this.docs.delete(id);
    }
  }
}

/** Names the cursor update a participant last sent (positions and the version they refer to). */
function sourceOf(p: Participant): string {
  return p.cursor ? `${p.cursor.anchor}:${p.cursor.head}@${JSON.stringify(p.version)}` : '';
}

/** A stable colour per user (so every client shows the same one): a hue from the id, as #rrggbb. */
export function colourOf(userId: string): string {
  let h = 2166136261;
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 16777619);
  const hue = (h >>> 0) % 360;
  const s = 0.65;
  const l = 0.45;
  const f = (n: number) => {
    const k = (n + hue / 30) % 12;
    const c = l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(c * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}
