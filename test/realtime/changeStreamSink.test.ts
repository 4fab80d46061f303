import { describe, expect, it } from 'vitest';
import { ChangeStream, isStreamFailure, type DocChange, type StreamFailure } from '../../src/collab/changeStream.js';
import { AppError, ErrorCode } from '../../src/errors.js';
import { ATTACH_SINK } from '../../src/pushable.js';

const change = (seq: number): DocChange => ({ documentId: 'd', version: [['a', seq]], ops: [{ kind: 'insert', pos: seq, text: 'x' }], patch: '', agents: ['a'] });
const seqOf = (c: DocChange | StreamFailure) => (isStreamFailure(c) ? 'failure' : c.version[0]![1]);

describe('a change stream with a sink attached (the push path of documentChanges)', () => {
  it('hands the sink what was buffered, then each new event as it comes, in order, and tracks what was delivered', () => {
    const stream = new ChangeStream('u', null);
    stream.push(change(0));
    stream.push(change(1));
    const taken: unknown[] = [];
    let woken = 0;
    stream[ATTACH_SINK]((c) => (taken.push(seqOf(c)), true), () => woken++);
    stream.push(change(2));
    expect(taken).toEqual([0, 1, 2]);
    expect(stream.pending).toBe(0);
    expect(stream.lastDelivered).toEqual([['a', 2]]);
    expect(woken).toBe(0);
  });

  it('keeps a refused event first in line for next(), wakes the consumer once, and buffers what follows', async () => {
    const stream = new ChangeStream('u', null);
    let woken = 0;
    let accept = true;
    const taken: unknown[] = [];
    stream[ATTACH_SINK]((c) => accept && (taken.push(seqOf(c)), true), () => woken++);
    stream.push(change(0));
    accept = false;
    stream.push(change(1));
    stream.push(change(2));
    expect(taken).toEqual([0]);
    expect(woken).toBe(1);
    expect(stream.lastDelivered).toEqual([['a', 0]]);
    expect(seqOf((await stream.next()).value!)).toBe(1);
    // Attached again, it gets the rest at once.
    stream[ATTACH_SINK]((c) => (taken.push(seqOf(c)), true), () => woken++);
    expect(taken).toEqual([0, 2]);
  });

  it('detaches the sink and wakes the consumer on a failure or the end, which next() then gives', async () => {
    const failing = new ChangeStream('u', null);
    let woken = 0;
    failing[ATTACH_SINK](() => true, () => woken++);
    failing.fail(new AppError(ErrorCode.UNAVAILABLE, 'behind'));
    expect(woken).toBe(1);
    const r = await failing.next();
    expect(isStreamFailure(r.value!)).toBe(true);
    expect((await failing.next()).done).toBe(true);

    const ending = new ChangeStream('u', null);
    ending[ATTACH_SINK](() => true, () => woken++);
    await ending.return();
    expect(woken).toBe(2);
    expect((await ending.next()).done).toBe(true);
  });

  it('takes a sink that throws as a refusal: the event waits for next(), and other streams fed by the same push still get it', async () => {
    const broken = new ChangeStream('u', null);
    const healthy = new ChangeStream('v', null);
    let woken = 0;
    broken[ATTACH_SINK](() => {
      throw new Error('sink failed');
    }, () => woken++);
    const taken: unknown[] = [];
    healthy[ATTACH_SINK]((c) => (taken.push(seqOf(c)), true), () => undefined);
    for (const s of [broken, healthy]) s.push(change(0));
    expect(taken).toEqual([0]);
    expect(woken).toBe(1);
    expect(seqOf((await broken.next()).value!)).toBe(0);
  });

  it('still bounds what a consumer leaves waiting after refusing', async () => {
    const stream = new ChangeStream('u', null, false, { events: 3, bytes: 1 << 20 });
    stream[ATTACH_SINK]((c) => seqOf(c) === 0, () => undefined);
    for (let i = 0; i < 6; i++) stream.push(change(i));
    const first = await stream.next();
    expect(isStreamFailure(first.value!)).toBe(true);
    expect(((first.value as StreamFailure).failure as AppError).extensions.resumeFrom).toEqual([['a', 0]]);
  });
});
