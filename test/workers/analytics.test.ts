import { quickAddJob, runOnce } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { taskList } from '../../workers/index.js';
import { edit, join, newDocument, newUser, ok, share } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const s = useServer();

async function rollup() {
  await quickAddJob({ pgPool: s.pool }, 'analytics__rollup', {});
  await runOnce({ pgPool: s.pool, taskList });
}

const ACTIVITY = 'query($d: ID!, $from: DateTime!, $to: DateTime!) { document(id: $d) { activity(from: $from, to: $to) { day userId edits inserted deleted activeMinutes } } }';

describe('analytics__rollup', () => {
  it('counts edits, characters and active minutes per document, user and day; twice is the same as once; later edits are counted by the next run', async () => {
    const ada = await newUser(s.url, 'ada');
    const bo = await newUser(s.url, 'bo');
    const doc = await newDocument(s.url, ada.token, 'abc'); // one row by ada: 3 inserted
    await share(s.url, ada.token, doc.id, bo.email);
    const mine = await join(s.url, bo.token, doc.id);
    let v: unknown = mine.version;
    for (let i = 0; i < 4; i++) {
      const r = await edit(s.url, bo.token, { documentId: doc.id, agent: mine.agent, seq: i, parents: v, ops: [{ insert: { pos: 0, text: 'x' } }] });
      v = r.data.editDocument.version;
    }
    const r = await edit(s.url, ada.token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: v, ops: [{ delete: { pos: 0, len: 2 } }] });
    expect(r.errors).toBeUndefined();
    // Place the rows in time: yesterday ada's first row at 10:00; bo's edits at 10:00, 10:00, 10:01 and 10:05 today; ada's delete today at 11:00.
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const at = ['1', '2', '3', '4', '5', '6'].map(Number);
    const stamps = [`${yesterday}T10:00:00Z`, `${today}T10:00:10Z`, `${today}T10:00:50Z`, `${today}T10:01:00Z`, `${today}T10:05:00Z`, `${today}T11:00:00Z`];
    for (const [i, order] of at.entries()) await s.pool.query('UPDATE operations SET created_at = $3 WHERE document_id = $1 AND server_order = $2', [doc.id, order, stamps[i]]);

    await rollup();
    await rollup();
    const range = { d: doc.id, from: `${yesterday}T00:00:00Z`, to: `${today}T23:59:59Z` };
    const rows = (await ok(s.url, ACTIVITY, range, ada.token)).document.activity;
    const expected = [
      { day: yesterday, userId: ada.id, edits: 1, inserted: 3, deleted: 0, activeMinutes: 1 },
      ...[
        { day: today, userId: ada.id, edits: 1, inserted: 0, deleted: 2, activeMinutes: 1 },
        { day: today, userId: bo.id, edits: 4, inserted: 4, deleted: 0, activeMinutes: 3 },
      ].sort((x, y) => (x.userId < y.userId ? -1 : 1)),
    ];
    expect(rows).toEqual(expected);
    const mineToday = (await ok(s.url, 'query($from: DateTime!, $to: DateTime!) { me { activity(from: $from, to: $to) { day documentId edits activeMinutes } } }', { from: `${today}T00:00:00Z`, to: `${today}T23:59:59Z` }, bo.token)).me.activity;
    expect(mineToday).toEqual([{ day: today, documentId: doc.id, edits: 4, activeMinutes: 3 }]);

    // A later edit today is counted by the next run (today is recomputed, not added to).
    const more = await edit(s.url, bo.token, { documentId: doc.id, agent: mine.agent, seq: 4, parents: r.data.editDocument.version, ops: [{ insert: { pos: 0, text: 'yz' } }] });
    expect(more.errors).toBeUndefined();
    await s.pool.query('UPDATE operations SET created_at = $2 WHERE document_id = $1 AND server_order = 7', [doc.id, `${today}T10:05:30Z`]);
    await rollup();
    const after = (await ok(s.url, ACTIVITY, range, ada.token)).document.activity.find((x: { userId: string; day: string }) => x.userId === bo.id && x.day === today);
    expect(after).toMatchObject({ edits: 5, inserted: 6, activeMinutes: 3 });
  });
});
