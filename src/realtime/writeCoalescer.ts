import type { Socket } from 'node:net';
import { WebSocket } from 'ws';

type Callback = (err?: Error) => void;
type Send = (data: unknown, options: object | undefined, cb?: Callback) => void;

export interface WriteCoalescerOptions {
  /** Longest stretch spent writing before the event loop gets a turn (HTTP requests, commits). */
  sliceMs: number;
  /**
   * Most of the time that writing may take: after a pass that spent B ms writing, the next pass
   * starts no sooner than B / dutyCycle ms after it started. What arrives meanwhile shares the
   * next pass's writes. With a few sockets B is microseconds and the wait is nothing.
   */
  dutyCycle: number;
  /**
   * A send is acknowledged at once while the socket has less than this many bytes waiting in user
   * space; past it, only once written, so a reader that stops reading holds its sender back.
   */
  highWaterBytes: number;
}

const DEFAULTS: WriteCoalescerOptions = { sliceMs: 2, dutyCycle: 0.5, highWaterBytes: 64 * 1024 };

/** A ping frame in a socket's queue (keep-alive pings ride in the same writes as messages). */
class Ping {
  constructor(readonly args: unknown[]) {}
}

/** A text message whose frame was built once, for every socket it goes to. */
class Frame {
  constructor(readonly bytes: Buffer) {}
}

/** Frames already built, by payload. */
const frames = new WeakMap<Buffer, Frame>();

/** The unmasked, uncompressed, final text frame of `payload` (RFC 6455 5.2): what `ws` sends from a server without extensions. */
function textFrame(payload: Buffer): Frame {
  let frame = frames.get(payload);
  if (frame) return frame;
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const bytes = Buffer.allocUnsafe(head + n);
  bytes[0] = 0x81;
  if (n < 126) bytes[1] = n;
  else if (n < 65536) {
    bytes[1] = 126;
    bytes.writeUInt16BE(n, 2);
  } else {
    bytes[1] = 127;
    bytes.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(bytes, head);
  frames.set(payload, (frame = new Frame(bytes)));
  return frame;
}

/** A socket's messages not yet handed to the kernel, in order. */
class Outbox {
  readonly data: unknown[] = [];
  readonly options: (object | undefined)[] = [];
  readonly callbacks: (Callback | undefined)[] = [];
  bytes = 0;
  queued = false;
  /** Senders waiting for the backlog to fall. */
  readonly waiters: (() => void)[] = [];

  constructor(
    readonly ws: WebSocket,
    readonly raw: Socket,
    readonly send: Send,
    readonly ping: (...args: unknown[]) => void,
    /** No extension (compression) was negotiated: frames built here are what `ws` would send. */
    readonly plain: boolean,
  ) {}
}

/**
 * Writes WebSocket messages in passes instead of one system call per message.
 *
 * A document with 1,000 watchers costs 1,000 socket writes per event, and on loopback each write
 * costs more than everything else the event does together. A socket's sends are queued and written
 * by the next pass over the sockets that have something, all its queued messages as one write
 * (corked). Passes are spaced so that writing takes at most `dutyCycle` of the time: under light
 * load a pass follows each event within the same event-loop turn; under heavy load the events
 * that arrive during and after a pass share the next pass's writes, so the cost per event falls as
 * the load rises. A pass writes for at most `sliceMs` at a time before letting the event loop
 * serve requests and commits.
 *
 * Order is kept per socket (pings are queued like messages; a close first writes what is queued).
 */
export class WriteCoalescer {
  private readonly options: WriteCoalescerOptions;
  /** The sockets the running pass has still to write. */
  private current: Outbox[] = [];
  private head = 0;
  /** The sockets that got something after the running pass went past them (or since the last pass). */
  private next: Outbox[] = [];
  private passStart = 0;
  private passBusyMs = 0;
  private timer: NodeJS.Immediate | NodeJS.Timeout | null = null;
  private readonly boxes = new WeakMap<WebSocket, Outbox>();

  constructor(options: Partial<WriteCoalescerOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Routes `ws.send` and `ws.ping` (and the write before `ws.close`) through the coalescer. `raw` is the socket under `ws`. */
  attach(ws: WebSocket, raw: Socket): void {
    const box = new Outbox(ws, raw, ws.send.bind(ws) as Send, ws.ping.bind(ws) as (...args: unknown[]) => void, ws.extensions === '');
    this.boxes.set(ws, box);
    raw.on('drain', () => this.wake(box));
    ws.once('close', () => this.wake(box));
    ws.send = ((data: unknown, options?: object | Callback, cb?: Callback) => {
      if (typeof options === 'function') this.push(box, data, undefined, options as Callback);
      else this.push(box, data, options, cb);
    }) as WebSocket['send'];
    ws.ping = ((...args: unknown[]) => this.push(box, new Ping(args), undefined, undefined)) as WebSocket['ping'];
    const close = ws.close.bind(ws);
    ws.close = ((code?: number, reason?: string | Buffer) => {
      this.write(box);
      close(code, reason);
    }) as WebSocket['close'];
  }

  /**
   * Queues a text message given as UTF-8 bytes, framed once however many sockets it goes to (the
   * same Buffer, the same frame) and written straight to the socket: a broadcast's per-socket cost
   * is then the write alone. Sockets with extensions (compression) take it through `ws.send`.
   */
  sendText(ws: WebSocket, payload: Buffer): void {
    const box = this.boxes.get(ws);
    if (!box || !box.plain) ws.send(payload, { binary: false });
    else this.push(box, textFrame(payload), undefined, undefined);
  }

  /** Bytes the socket has taken and not yet handed to the kernel (queued here or buffered by Node). */
  backlog(ws: WebSocket): number {
    return ws.bufferedAmount + (this.boxes.get(ws)?.bytes ?? 0);
  }

  /** Whether the socket's backlog is past the high-water mark: its sender should wait for `drained`. */
  full(ws: WebSocket): boolean {
    return this.backlog(ws) >= this.options.highWaterBytes;
  }

  /** Resolves once the socket's backlog is under the high-water mark again, or the socket is closed. */
  drained(ws: WebSocket): Promise<void> {
    const box = this.boxes.get(ws);
    if (!box || !this.full(ws)) return Promise.resolve();
    return new Promise((resolve) => box.waiters.push(resolve));
  }

  /** Writes everything queued now (at shutdown). */
  flush(): void {
    this.cancel();
    for (const box of this.current) this.write(box);
    for (const box of this.next) this.write(box);
    this.current = [];
    this.next = [];
    this.head = 0;
  }

  private push(box: Outbox, data: unknown, options: object | undefined, cb: Callback | undefined): void {
    const size = typeof data === 'string' ? data.length : data instanceof Frame ? data.bytes.length : data instanceof Ping ? 0 : ((data as { byteLength?: number }).byteLength ?? 0);
    const early = cb !== undefined && box.ws.readyState === WebSocket.OPEN && box.ws.bufferedAmount + box.bytes + size < this.options.highWaterBytes;
    box.data.push(data);
    box.options.push(options);
    box.callbacks.push(early ? undefined : cb);
    box.bytes += size;
    if (!box.queued) {
      box.queued = true;
      this.next.push(box);
      if (this.head >= this.current.length) this.schedulePass();
    }
    // Taken: the sender may go on to its next message, which can then share this write.
    if (early) cb();
  }

  /** Starts the next pass once the last one's share of the time allows. */
  private schedulePass(): void {
    if (this.timer) return;
    const wait = this.passStart + this.passBusyMs / this.options.dutyCycle - performance.now();
    this.timer = wait > 1 ? setTimeout(this.beginPass, wait) : setImmediate(this.beginPass);
  }

  private readonly beginPass = (): void => {
    this.timer = null;
    this.current = this.next;
    this.next = [];
    this.head = 0;
    this.passStart = performance.now();
    this.passBusyMs = 0;
    this.slice();
  };

  private readonly continuePass = (): void => {
    this.timer = null;
    this.slice();
  };

  private slice(): void {
    const start = performance.now();
    const deadline = start + this.options.sliceMs;
    const queue = this.current;
    let n = 0;
    while (this.head < queue.length) {
      this.write(queue[this.head++]!);
      if (++n % 32 === 0 && performance.now() > deadline) break;
    }
    this.passBusyMs += performance.now() - start;
    if (this.head < queue.length) this.timer = setImmediate(this.continuePass);
    else {
      this.current = [];
      this.head = 0;
      if (this.next.length > 0) this.schedulePass();
    }
  }

  private cancel(): void {
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = null;
  }

  /** Hands a socket's queued messages to the kernel, as one write. (An entry for it in a pass then finds it empty.) */
  private write(box: Outbox): void {
    box.queued = false;
    const count = box.data.length;
    if (count === 0) return;
    const { data, options, callbacks } = box;
    const open = box.ws.readyState === WebSocket.OPEN;
    if (open && count > 1) box.raw.cork();
    try {
      for (let i = 0; i < count; i++) {
        const d = data[i];
        if (d instanceof Frame) {
          if (open) box.raw.write(d.bytes);
        } else if (d instanceof Ping) box.ping(...d.args);
        else box.send(d, options[i], callbacks[i]);
      }
    } catch {
      // A socket that cannot take a write is broken: it is dropped (its client reconnects and
      // resumes), and the pass goes on to the others.
      box.ws.terminate();
    } finally {
      if (open && count > 1) box.raw.uncork();
    }
    data.length = 0;
    options.length = 0;
    callbacks.length = 0;
    box.bytes = 0;
    this.wake(box);
  }

  /** Wakes whoever waits on `drained` once the backlog allows. */
  private wake(box: Outbox): void {
    if (box.waiters.length === 0 || (box.ws.readyState === WebSocket.OPEN && this.full(box.ws))) return;
    for (const resolve of box.waiters.splice(0)) resolve();
  }
}

