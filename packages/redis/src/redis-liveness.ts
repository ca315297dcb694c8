import { EventEmitter } from 'node:events';
import type { Cluster, Redis } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import type { RedisClient } from './redis-target.ts';

export interface RedisLivenessOptions {
  /** A PING (or any command) without a byte back from Redis for this long means Redis has stopped answering. */
  timeoutMs: number;
  /** How often a PING goes out while the connection is ready (at most one in flight). Default 500 ms. */
  intervalMs?: number;
  /**
   * On a Redis Cluster: a key whose slot holds everything this connection is for (the registry's
   * `{framecast}` hash tag). That slot's primary being silent makes the connection unresponsive,
   * however many other primaries answer.
   */
  slotKey?: string;
}

/**
 * Notices a Redis that stops answering on a connection that still looks fine. A SIGSTOPped,
 * swapping or wedged server (or a network path that silently drops packets) leaves the TCP
 * connection up, so ioredis stays 'ready' and only individual commands time out. This sends a PING
 * every `intervalMs` while the connection is ready; when one gets no answer within `timeoutMs` the
 * connection is unresponsive (`'unresponsive'` event) until a PING is answered again
 * (`'responsive'`). Nothing is reconnected: once the server answers again the same connection, its
 * subscriptions and its queued commands simply carry on.
 *
 * "No answer" means no byte at all came from Redis since the PING was sent, checked after pending
 * I/O has been read: a process that was itself descheduled past the timeout (its timer and the
 * reply both due when it wakes) does not take its own pause for Redis's.
 *
 * On a Redis Cluster the PING goes to every primary the connection holds. The connection is
 * unresponsive only when none of them answers: one hung primary pauses its own slots (until the
 * cluster fails it over) while the others carry on, so the service stays ready and says which
 * primaries are silent instead (`'degraded'` with the problem, `'undegraded'` when they answer or
 * have been replaced). Otherwise one stuck shard would take every gateway out of its load balancer.
 */
export class RedisLiveness extends EventEmitter {
  private answering = true;
  private silentSince = 0;
  private pinging = false;
  /** Cluster primaries that left a PING unanswered (host:port), while others answered. */
  private silentPrimaries: string[] = [];
  private lastDataAt = Date.now();
  private readonly timer: NodeJS.Timeout;
  /** When each connection (a cluster has one per node) last read a byte from Redis. */
  private readonly dataAt = new WeakMap<object, number>();

  private readonly conn: RedisClient;
  private readonly opts: RedisLivenessOptions;

  constructor(conn: RedisClient, opts: RedisLivenessOptions) {
    super();
    this.conn = conn;
    this.opts = opts;
    for (const node of this.targets()) this.watchStream(node);
    conn.on('connect', () => this.targets().forEach((n) => this.watchStream(n)));
    // A connection that (re)connected and passed its handshake has just been answered.
    conn.on('ready', () => this.mark(true));
    this.timer = setInterval(() => void this.check(), opts.intervalMs ?? 500);
    this.timer.unref();
  }

  /** False from a PING (or command) left unanswered for the timeout until Redis answers again. */
  get responsive(): boolean {
    return this.answering;
  }

  /** Why Redis counts as unresponsive, or null while it answers. */
  problem(): string | null {
    if (this.answering) return null;
    return `Redis stopped answering: no reply within ${this.opts.timeoutMs} ms (silent for ${Date.now() - this.silentSince} ms)`;
  }

  /**
   * A command on this connection timed out: unresponsive at once, until a PING sent from now on is
   * answered, instead of waiting for the next PING to time out as well. Redis answers one
   * connection's commands in order, so a command left unanswered for the timeout is the same
   * evidence as a silent PING, whatever else was read meanwhile (replies to earlier commands).
   * Marked synchronously: a caller that sends its next command as soon as this one fails (the frame
   * publisher, on its next frame) must already find the bus down, or that command joins the first in
   * the hung connection and is delivered late too.
   */
  commandTimedOut(): void {
    // On a cluster a timed-out command says one primary may be hung, not all; the PINGs tell which.
    if (this.conn.isCluster) return;
    this.mark(false);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The connections a PING must get through: the connection itself, or a cluster's primaries. */
  private targets(): Redis[] {
    return this.conn.isCluster ? (this.conn as import('ioredis').Cluster).nodes('master') : [this.conn as Redis];
  }

  private watchStream(node: Redis): void {
    const stream = node.stream;
    if (!stream || this.dataAt.has(stream)) return;
    this.dataAt.set(stream, Date.now());
    stream.on('data', () => {
      const now = Date.now();
      this.dataAt.set(stream, now);
      this.lastDataAt = now;
    });
  }

  /** When the node last read anything (0: never watched). */
  private nodeDataAt(node: Redis): number {
    return node.stream ? (this.dataAt.get(node.stream) ?? 0) : 0;
  }

  private async check(): Promise<void> {
    if (this.pinging || this.conn.status !== 'ready') return;
    const nodes = this.targets();
    if (nodes.length === 0) return;
    this.pinging = true;
    const sentAt = Date.now();
    const outcomes = await Promise.all(nodes.map((node) => this.pingOne(node)));
    if (outcomes.includes('timeout')) await new Promise((r) => setImmediate(r)); // read what has arrived meanwhile
    this.pinging = false;
    // Silent: a node whose PING timed out and that read nothing at all since it was sent.
    const silent = nodes.filter((node, i) => outcomes[i] === 'timeout' && this.nodeDataAt(node) < sentAt);
    if (this.conn.isCluster) {
      const address = (n: Redis) => `${n.options.host}:${n.options.port}`;
      const silentAddresses = silent.map(address);
      const owner = this.opts.slotKey === undefined ? undefined : slotOwner(this.conn as Cluster, this.opts.slotKey);
      const ownerSilent = owner !== undefined && silentAddresses.includes(owner);
      this.setSilentPrimaries(silent.length < nodes.length && !ownerSilent ? silentAddresses : []);
      if (silent.length === nodes.length || ownerSilent) this.mark(false);
      else if (outcomes.includes('answered')) this.mark(true);
      return;
    }
    if (silent.length > 0) this.mark(false);
    else if (outcomes.every((o) => o === 'answered')) this.mark(true);
  }

  /** Which cluster primaries are silent while others answer, or null. */
  degraded(): string | null {
    return this.silentPrimaries.length === 0 ? null : `Redis Cluster primaries not answering within ${this.opts.timeoutMs} ms: ${this.silentPrimaries.join(', ')} (their slots' rooms pause until the cluster fails them over)`;
  }

  private setSilentPrimaries(silent: string[]): void {
    const before = this.silentPrimaries.join(',');
    this.silentPrimaries = silent;
    if (silent.join(',') === before) return;
    if (silent.length > 0) this.emit('degraded', this.degraded());
    else this.emit('undegraded');
  }

  private async pingOne(node: Redis): Promise<'answered' | 'timeout' | 'failed'> {
    this.watchStream(node);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      // Any reply, an error reply included (an ACL without +ping), means Redis answers; a
      // connection error is the connection's own state, which its owner watches.
      node.ping().then(
        () => 'answered' as const,
        (err: Error) => (err.message === 'Command timed out' ? ('timeout' as const) : /^[A-Z]+ /.test(err.message) ? ('answered' as const) : ('failed' as const)),
      ),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.opts.timeoutMs))),
    ]);
    clearTimeout(timer);
    return outcome;
  }

  private mark(answering: boolean): void {
    if (answering === this.answering) return;
    this.answering = answering;
    if (answering) {
      const silentMs = Date.now() - this.silentSince;
      this.emit('responsive', silentMs);
    } else {
      this.silentSince = this.lastDataAt;
      this.emit('unresponsive', this.problem());
    }
  }
}

/** `host:port` of the primary serving `key`'s slot in the cluster's current slot map, if known. */
function slotOwner(cluster: Cluster, key: string): string | undefined {
  return (cluster.slots as string[][])[calculateSlot(key)]?.[0];
}
