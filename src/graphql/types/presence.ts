import { requireDocument } from '../../auth/access.js';
import { guardSubscription } from '../../auth/guardSubscription.js';
import { isStreamFailure, type StreamFailure } from '../../collab/changeStream.js';
import type { Participant, PresenceEvent } from '../../collab/presenceTypes.js';
import { updatePresence } from '../../commands/updatePresence.js';
import { builder, scopes } from '../builder.js';

const PresenceStatusRef = builder.enumType('PresenceStatus', {
  values: { ACTIVE: { value: 'ACTIVE' }, IDLE: { value: 'IDLE', description: 'Away, or silent for a while.' } } as const,
});

const CursorInput = builder.inputType('CursorInput', {
  fields: (t) => ({
    anchor: t.int({ required: true, description: 'Where the selection starts (code points).' }),
    head: t.int({ required: true, description: 'Where it ends, the caret; equal to anchor for a bare caret.' }),
  }),
});

const CursorRef = builder.objectRef<NonNullable<Participant['cursor']>>('Cursor').implement({
  fields: (t) => ({
    anchor: t.exposeInt('anchor'),
    head: t.exposeInt('head'),
  }),
});

const ParticipantRef = builder.objectRef<Participant>('Participant').implement({
  description: 'An editing session present in a document.',
  fields: (t) => ({
    agent: t.exposeString('agent'),
    userId: t.exposeID('userId'),
    displayName: t.exposeString('displayName'),
    colour: t.exposeString('colour', { description: "The user's colour, the same on every client (#rrggbb)." }),
    cursor: t.field({ type: CursorRef, nullable: true, resolve: (p) => p.cursor }),
    version: t.field({
      type: 'Version',
      description: 'The version the cursor positions refer to (moved through later edits by the server, so they stay on the same characters).',
      resolve: (p) => p.version,
    }),
    status: t.field({ type: PresenceStatusRef, resolve: (p) => p.status }),
    lastActiveAt: t.field({ type: 'DateTime', resolve: (p) => new Date(p.lastActiveAt) }),
  }),
});

const PresenceEventRef = builder.objectRef<PresenceEvent>('PresenceEvent').implement({
  description: 'Who joined or changed, and who left, since the previous event; or, when `full`, everyone present.',
  fields: (t) => ({
    documentId: t.exposeID('documentId'),
    full: t.exposeBoolean('full', {
      description: 'True when `participants` lists everyone present (the first event, and the next one after you fell behind): forget anyone not listed.',
    }),
    participants: t.field({ type: [ParticipantRef], resolve: (e) => e.participants }),
    left: t.exposeStringList('left', { description: 'Agents that left.' }),
  }),
});

builder.mutationField('updatePresence', (t) =>
  t.field({
    type: ParticipantRef,
    description: 'Shows your cursor and status to the others in the document. Throttled and coalesced; never stored.',
    args: {
      documentId: t.arg.id({ required: true }),
      agent: t.arg.string({ required: true, description: 'Your agent for this document (joinDocument).' }),
      cursor: t.arg({ type: CursorInput, required: false, description: 'Omitted: unchanged; null: no cursor.' }),
      version: t.arg({ type: 'Version', required: false, description: 'The version the cursor positions refer to (default: the current one).' }),
      status: t.arg({ type: PresenceStatusRef, required: false, description: 'Default ACTIVE.' }),
    },
    // Presence is shown under an agent, and agents are issued by joinDocument: an editor's.
    authScopes: (_r, { documentId }) => scopes.write(documentId),
    resolve: (_r, args, ctx) =>
      updatePresence(ctx, {
        documentId: String(args.documentId),
        agent: args.agent,
        cursor: args.cursor,
        version: args.version,
        status: args.status,
      }),
  }),
);

builder.subscriptionField('documentPresence', (t) =>
  t.field({
    type: PresenceEventRef,
    description: 'Who is in the document and where their cursors are: everyone first, then changes. With `agent`, you are present while subscribed.',
    args: {
      documentId: t.arg.id({ required: true }),
      agent: t.arg.string({ required: false, description: 'Your agent (joinDocument): keeps you present while this subscription is open.' }),
    },
    authScopes: (_r, { documentId }) => scopes.read(documentId),
    subscribe: async (_r, { documentId, agent }, ctx) => {
      const doc = await requireDocument(ctx, String(documentId));
      const viewer = ctx.viewer!;
      if (agent) await doc.requireAgent(viewer.userId, agent);
      return guardSubscription(ctx, doc.id, await ctx.services.presence.subscribe(doc, agent ? { agent, userId: viewer.userId, displayName: viewer.displayName } : null));
    },
    resolve: (e: PresenceEvent | StreamFailure) => {
      if (isStreamFailure(e as never)) throw (e as StreamFailure).failure;
      return e as PresenceEvent;
    },
  }),
);
