import { Counter, type Registry } from 'prom-client';
import { classifyRedisError } from '@framecast/bus';
import type { Logger } from '@framecast/logging';
import type { PresenceJoin, PresenceLeave, PresenceReport, PresenceWriter } from '@framecast/registry-store';
import type { Viewer } from '../fanout/viewer.ts';
import type { ViewerIdentity, ViewerLifecycleListener } from './viewer-listener.ts';

export interface PresenceReporterOptions {
  writer: PresenceWriter;
  gatewayId: string;
  /** Joins and leaves are collected and written at most this often. */
  flushMs: number;
  /** With nothing to report, an empty report still goes out this often: the gateway's heartbeat. */
  heartbeatMs: number;
  logger: Logger;
  register: Registry;
}

/**
 * Reports this gateway's viewers in batches: every `flushMs` one write (one Lua script call in
 * Redis) carries all joins and leaves since the last. The first report, and the first after any
 * failure or after the store says it does not know this gateway (it was swept as dead, or Redis
 * lost its data), is a full sync of the current viewers instead, so the store converges on the
 * truth without replaying history. Pending state is bounded by the number of connected viewers.
 */
export class PresenceReporter implements ViewerLifecycleListener {
  private readonly current = new Map<Viewer, PresenceJoin>();
  private joins: PresenceJoin[] = [];
  private leaves: PresenceLeave[] = [];
  private needSync = true;
  private lastReportAt = 0;
  private inFlight: Promise<void> | null = null;
  private failing = false;
  private readonly timer: NodeJS.Timeout;
  private readonly reports: Counter<'mode' | 'outcome'>;

  private readonly opts: PresenceReporterOptions;

  constructor(opts: PresenceReporterOptions) {
    this.opts = opts;
    this.reports = new Counter({
      name: 'framecast_gateway_presence_reports_total',
      help: 'Batched presence reports written to the registry store: mode=delta|sync, outcome=ok|resync|error',
      labelNames: ['mode', 'outcome'],
      registers: [opts.register],
    });
    // Every mode and outcome at 0 from the start, so a rate of errors reads 0 rather than "no data".
    for (const mode of ['delta', 'sync']) for (const outcome of ['ok', 'resync', 'error']) this.reports.inc({ mode, outcome }, 0);
    this.timer = setInterval(() => void this.flush(), opts.flushMs);
    this.timer.unref();
  }

  joined(viewer: Viewer, identity: ViewerIdentity): void {
    const join: PresenceJoin = { id: String(viewer.id), room: viewer.room, user: identity.user, since: viewer.connectedAt };
    this.current.set(viewer, join);
    this.joins.push(join);
  }

  left(viewer: Viewer): void {
    const join = this.current.get(viewer);
    if (!join) return;
    this.current.delete(viewer);
    this.leaves.push({ id: join.id, room: join.room });
  }

  /** Writes what is pending now (used by the timer and at shutdown). */
  flush(): Promise<void> {
    this.inFlight ??= this.write().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  /** Stops the timer and writes the last leaves (bounded by `deadlineMs`). */
  async close(deadlineMs = 2_000): Promise<void> {
    clearInterval(this.timer);
    await Promise.race([this.inFlight?.then(() => this.flush()) ?? this.flush(), new Promise((r) => setTimeout(r, deadlineMs).unref())]);
  }

  private async write(): Promise<void> {
    const now = Date.now();
    const idle = this.joins.length === 0 && this.leaves.length === 0;
    if (!this.needSync && idle && now - this.lastReportAt < this.opts.heartbeatMs) return;
    const report: PresenceReport = this.needSync
      ? { mode: 'sync', viewers: [...this.current.values()] }
      : { mode: 'delta', joins: this.joins, leaves: this.leaves };
    // Whatever happens next, these are covered: by this report, or by the sync that follows a failure.
    this.joins = [];
    this.leaves = [];
    try {
      const result = await this.opts.writer.reportPresence(this.opts.gatewayId, report, now);
      this.reports.inc({ mode: report.mode, outcome: result });
      if (result === 'resync') {
        this.needSync = true;
        this.opts.logger.info({ gateway: this.opts.gatewayId }, 'presence store does not know this gateway; sending a full sync');
        return;
      }
      if (report.mode === 'sync') this.needSync = false;
      this.lastReportAt = now;
      if (this.failing) this.opts.logger.info('presence reports written again');
      this.failing = false;
    } catch (err) {
      this.reports.inc({ mode: report.mode, outcome: 'error' });
      this.needSync = true;
      if (!this.failing) {
        // A refusal an operator must fix (OOM, READONLY, NOPERM, a refused password) is an error, named.
        const problem = classifyRedisError(err);
        const level = problem?.level === 'error' ? 'error' : 'warn';
        this.opts.logger[level]({ err: String(err), ...(problem ? { cause: problem.summary } : {}) }, 'presence report failed; will sync when the store is back');
      }
      this.failing = true;
    }
  }
}
