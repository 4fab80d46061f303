import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CollabObserver } from '../collab/observer.js';
import { engineMemoryGauge } from './engineMemoryGauge.js';
import { JobMetrics, type JobObserver } from './jobMetrics.js';

/** Read at scrape time: the figures that are states rather than events. */
export interface MetricSources {
  documents(): { resident: number; subscriptions: number };
  webSocketClients(): number;
  presence(): { participants: number; subscriptions: number };
  /** The size of the CRDT engine's memory on each thread that runs one (see engineMemoryBytes). */
  engineMemory: Record<string, () => number | Promise<number>>;
}

/**
 * This instance's Prometheus metrics (prom-client, one registry per instance): Node's own (CPU,
 * memory, event-loop lag, GC), the collab core's commits, loads, reloads and live figures, and the
 * jobs its job thread runs. Events are counted as they happen (a few per group commit, none per
 * request); states are read on scrape.
 */
export class Metrics implements CollabObserver, JobObserver {
  readonly registry = new Registry();
  private readonly jobs = new JobMetrics(this.registry);
  private readonly commits: Counter;
  private readonly rows: Counter;
  private readonly commitSeconds: Histogram;
  private readonly commitFailures: Counter;
  private readonly loads: Histogram;
  private readonly reloads: Counter<'cause'>;
  private readonly offloads: Counter<'what'>;
  private readonly compilations: Counter<'result'>;
  private readonly patchCrashes: Counter;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.commits = new Counter({ name: 'cowrite_commits_total', help: 'Group commits of operation rows (each one transaction and one fsync).', registers });
    this.rows = new Counter({ name: 'cowrite_committed_rows_total', help: 'Operation rows committed: accepted edits and patches.', registers });
    this.commitSeconds = new Histogram({
      name: 'cowrite_commit_duration_seconds',
      help: 'Time a group commit took, from sending its rows to PostgreSQL to the commit.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.commitFailures = new Counter({ name: 'cowrite_commit_failures_total', help: 'Group commits that failed; their writers were told to retry.', registers });
    this.loads = new Histogram({
      name: 'cowrite_document_load_duration_seconds',
      help: 'Time to load a document that was not resident, from its newest snapshot and later rows.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.reloads = new Counter({
      name: 'cowrite_document_reloads_total',
      help: 'Resident replicas replaced from storage, by cause: engine (the CRDT engine failed) or storage (a commit failed).',
      labelNames: ['cause'],
      registers,
    });
    this.offloads = new Counter({
      name: 'cowrite_offloaded_reads_total',
      help: 'Reads of a slow (crowded) document done on the change-feed thread instead of the main one, by what: text, length, pastText, authorship, history, rebase (presence cursors).',
      labelNames: ['what'],
      registers,
    });
    this.compilations = new Counter({
      name: 'cowrite_graphql_compilations_total',
      help: 'GraphQL operations compiled with graphql-jit once hot (GRAPHQL_JIT_AFTER), by result: compiled, or failed (it keeps running on graphql-js).',
      labelNames: ['result'],
      registers,
    });
    this.patchCrashes = new Counter({
      name: 'cowrite_patch_engine_crashes_total',
      help: "Client patches that passed the strict decoder and every check yet crashed the CRDT engine on its scratch copy: refused, but that copy's memory is lost. Should stay 0; anything else is an engine input the checks miss.",
      registers,
    });
  }

  /** Registers the gauges read from the running parts at each scrape. */
  readFrom(sources: MetricSources): void {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    gauge('cowrite_documents_resident', 'Documents loaded in this instance.', () => sources.documents().resident);
    gauge('cowrite_change_subscriptions', 'Open documentChanges subscriptions on this instance.', () => sources.documents().subscriptions);
    gauge('cowrite_websocket_clients', 'Open graphql-ws connections on this instance.', () => sources.webSocketClients());
    gauge('cowrite_presence_participants', 'Participants present in the documents this instance tracks presence for (from every instance).', () => sources.presence().participants);
    gauge('cowrite_presence_subscriptions', 'Open documentPresence subscriptions on this instance.', () => sources.presence().subscriptions);
    engineMemoryGauge(this.registry, sources.engineMemory);
  }

  committed(rows: number, seconds: number): void {
    this.commits.inc();
    this.rows.inc(rows);
    this.commitSeconds.observe(seconds);
  }

  commitFailed(): void {
    this.commitFailures.inc();
  }

  loaded(seconds: number): void {
    this.loads.observe(seconds);
  }

  reloaded(cause: 'engine' | 'storage'): void {
    this.reloads.inc({ cause });
  }

  offloaded(what: string): void {
    this.offloads.inc({ what });
  }

  patchCrashedEngine(): void {
    this.patchCrashes.inc();
  }

  jobAttempted(task: string, ok: boolean, seconds: number, gaveUp: boolean): void {
    this.jobs.jobAttempted(task, ok, seconds, gaveUp);
  }

  operationCompiled(ok: boolean): void {
    this.compilations.inc({ result: ok ? 'compiled' : 'failed' });
  }

  stop(): void {
    this.registry.clear();
  }
}
