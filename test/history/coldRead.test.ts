import { quickAddJob, runOnce } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { taskList } from '../../workers/index.js';
import { content, edit, newDocument, newUser } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';
import { startServer } from '../helpers/server.js';

const s = useServer();

describe('reading a document that is not resident', () => {
  it('answers from its newest snapshot when nothing follows it (no history loaded), and loads the log when rows follow it', async () => {
    const u = await newUser(s.url);
    const doc = await newDocument(s.url, u.token, 'from the snapshot');
    await quickAddJob({ pgPool: s.pool }, 'document__snapshot', { documentId: doc.id });
    await runOnce({ pgPool: s.pool, taskList });
    const expected = await content(s.url, u.token, doc.id);

    const cold = await startServer(s.db.url);
    try {
      expect(await content(cold.url, u.token, doc.id)).toEqual(expected);
      expect(cold.app.services.documents.peek(doc.id)).toBeUndefined();
      // An edit elsewhere adds a row after the snapshot: the next cold read loads the log and sees it.
      const r = await edit(s.url, u.token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: expected.version, ops: [{ insert: { pos: 0, text: '> ' } }] });
      expect(r.errors).toBeUndefined();
      expect((await content(cold.url, u.token, doc.id)).content).toBe('> from the snapshot');
      expect(cold.app.services.documents.peek(doc.id)).toBeDefined();
    } finally {
      await cold.stop();
    }
  });
});
