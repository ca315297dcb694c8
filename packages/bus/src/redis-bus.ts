import { EventEmitter } from 'node:events';
import {
  classifyRedisError,
  connectRedis,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  quitRedis,
  RedisLiveness,
  type Cluster,
  type ConnectOptions,
  type RedisClient,
  type RedisTarget,
} from '@framecast/redis';
import { clusterLastFrameKey, frameChannel, lastFrameKey } from '@framecast/protocol';
import type { FrameBus, FrameListener, PublishResult } from './frame-bus.ts';

export interface RedisFrameBusOptions {
  /** One Redis (a redis:// or rediss:// URL, or a single target), or a Redis Cluster target (sharded pub/sub). */
  redis: RedisTarget | string;
  /** Name shown in CLIENT LIST, e.g. "framecast-gateway". */
  connectionName: string;
  /** Longest pause between reconnect attempts; short so streams resume quickly. */
  maxReconnectDelayMs?: number;
  /**
   * Every command's timeout, and how long a PING may go unanswered before the bus counts Redis as
   * hung and itself as down (FRAMECAST_REDIS_COMMAND_TIMEOUT_MS). Default 1000 ms.
   */
  commandTimeoutMs?: number;
  /**
   * ioredis's ready check (an INFO after connecting, waiting while Redis loads its data). Default
   * true. The capture agent turns it off: its ACL user may not run INFO (it would leak the whole
   * server's state), and a publish during loading fails with LOADING, which reconnects, like any
   * failed publish (the newest frame is kept).
   */
  readyCheck?: boolean;
}

/**
 * Frames over Redis pub/sub: PUBLISH video_<room> plus SET video_<room>:last PX ttl, written back
 * to back in one round trip. A second, dedicated connection subscribes (created on first subscribe, so a
 * publisher-only agent holds one connection). Buffers end to end: the subscriber listens on
 * `messageBuffer`, never the string `message` event, which would corrupt JPEG bytes.
 *
 * Ready means connected and answering: each connection has a liveness watchdog (RedisLiveness), so
 * a Redis that stops answering while its TCP connections stay up (SIGSTOP, swapping, a silent
 * network) makes the bus `down` within the command timeout plus half a second, and `ready` again
 * once it answers; the subscriber then re-asserts its subscriptions.
 *
 * On a Redis Cluster frames use sharded pub/sub: SPUBLISH / SSUBSCRIBE keep a room's channel on the
 * shard that owns its slot instead of copying every frame to every node. The last-frame key is
 * `{video_<stream>}:last` there (protocol clusterLastFrameKey): its hash tag is the channel's name,
 * so key and channel share a slot and the PUBLISH + SET (written back to back) stay one round
 * trip to one primary, and a failover moves both together. The subscriber holds one connection per primary
 * that owns a watched slot; after a failover or a slot migration ioredis re-reads the slot map
 * (every SLOTS_REFRESH_MS, and at once when a subscriber connection fails) and re-subscribes each
 * channel on its new owner, once.
 */
export class RedisFrameBus extends EventEmitter implements FrameBus {
  readonly kind = 'redis' as const;
  private readonly cmd: RedisClient;
  private readonly cmdLiveness: RedisLiveness;
  private sub: RedisClient | null = null;
  /** A Redis Cluster: sharded pub/sub and cluster last-frame keys. */
  readonly sharded: boolean;
  private subLiveness: RedisLiveness | null = null;
  private listener: FrameListener = () => {};
  /** Subscribed channels and their streams: one Map lookup per message names the room (no parsing). */
  private readonly rooms = new Map<string, string>();
  private wasReady = false;
  private closing = false;
  /** The last connection failure (a refused password, a refused connection), until a connection is ready again. */
  private lastConnectionError: Error | null = null;

  private readonly opts: RedisFrameBusOptions;

  constructor(opts: RedisFrameBusOptions) {
    super();
    this.opts = opts;
    // The command connection fails fast while Redis is away: a frame that cannot go now is
    // replaced by the next one, so queueing commands would only grow memory and deliver stale video.
    // For the same reason a publish abandoned on a hung cluster primary is not re-sent to the new
    // one after the failover: it would land after the frames published since (issue 14's CI run).
    this.cmd = this.connect('', { enableReadyCheck: opts.readyCheck ?? true, resendAfterFailover: false });
    this.sharded = this.cmd.isCluster;
    this.cmdLiveness = this.watch(this.cmd);
    // A cluster with some primaries silent: still ready (the other shards stream), said apart. The
    // command connection's watchdog speaks for the bus (the subscriber's pings the same primaries).
    this.cmdLiveness.on('degraded', (problem: string) => this.emit('degraded', problem));
    this.cmdLiveness.on('undegraded', () => this.emit('undegraded'));
  }

  private get commandTimeoutMs(): number {
    return this.opts.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
  }

  private connect(suffix: string, overrides: ConnectOptions): RedisClient {
    const conn = connectRedis(
      this.opts.redis,
      `${this.opts.connectionName}${suffix}`,
      { commandTimeout: this.commandTimeoutMs, ...overrides },
      this.opts.maxReconnectDelayMs,
    );
    conn.on('ready', () => {
      this.lastConnectionError = null;
      this.updateState();
    });
    conn.on('close', () => this.updateState());
    conn.on('end', () => this.updateState());
    conn.on('reconnecting', () => this.emit('reconnecting'));
    // ioredis emits 'error' for every failed connect attempt; the state events carry what
    // matters and an unhandled 'error' would crash the process.
    conn.on('error', (err: Error & { lastNodeError?: Error }) => {
      // A cluster that reached no node says so generically; the node's own answer (WRONGPASS, an
      // untrusted certificate) is what an operator needs to read.
      const cause = err.lastNodeError ?? err;
      this.lastConnectionError = cause;
      this.emit('connectionError', cause);
    });
    // A cluster reports each node's failures separately ('node error'; its sharded subscribers'
    // as 'nodeError'): the same story.
    if (conn.isCluster) {
      const onNodeError = (err: Error) => {
        this.lastConnectionError = err;
        this.emit('connectionError', err);
      };
      conn.on('node error', onNodeError);
      conn.on('nodeError', onNodeError);
    }
    return conn;
  }

  private watch(conn: RedisClient): RedisLiveness {
    const liveness = new RedisLiveness(conn, { timeoutMs: this.commandTimeoutMs });
    liveness.on('unresponsive', () => this.updateState());
    liveness.on('responsive', () => this.updateState());

    return liveness;
  }

  private updateState(): void {
    const ready = this.isReady();
    if (ready && !this.wasReady) {
      this.wasReady = true;
      this.emit('ready');
    } else if (!ready && this.wasReady) {
      this.wasReady = false;
      if (!this.closing) this.emit('down');
    }
  }

  private subscriber(): RedisClient {
    if (this.sub) return this.sub;
    // The subscriber keeps an offline queue so a SUBSCRIBE issued during an outage runs on
    // reconnect; ioredis also re-subscribes to every channel it holds after a reconnect.
    const sub = this.connect(':sub', { enableOfflineQueue: true, maxRetriesPerRequest: null, shardedSubscribers: this.sharded });
    const onMessage = (channel: Buffer, message: Buffer) => {
      const room = this.rooms.get(channel.toString('latin1'));
      if (room !== undefined) this.listener(room, message);
    };
    if (this.sharded) {
      sub.on('smessageBuffer', onMessage);
      // A primary's subscriber connection went away (its node failed, or lost its last watched
      // slot): counted like a reconnect. `subscribersReady`: the group re-subscribed on the new map.
      sub.on('-subscriber', () => this.emit('reconnecting'));
      // The first `subscribersReady` is the initial subscription, not a change of the slot map.
      let initial = true;
      sub.on('subscribersReady', () => {
        if (initial) initial = false;
        else this.emit('resubscribed');
      });
    } else {
      sub.on('messageBuffer', onMessage);
    }
    this.sub = sub;
    this.subLiveness = this.watch(sub);
    // After a pause the connection (and Redis's side of it) normally still holds every channel;
    // a SUBSCRIBE that timed out meanwhile may not have reached Redis. Subscribing again to what
    // should be subscribed costs one round trip and makes sure.
    // (On a cluster ioredis's subscriber group re-subscribes on each new slot map by itself, and
    // re-issuing SSUBSCRIBE would list the channel twice in its bookkeeping.)
    if (!this.sharded) {
      this.subLiveness.on('responsive', () => {
        if (this.rooms.size > 0) sub.subscribe(...this.rooms.keys()).catch(() => {});
      });
    }
    return sub;
  }

  /** One channel: SSUBSCRIBE on a cluster (one slot per command), SUBSCRIBE on one Redis. */
  private subscribeChannel(sub: RedisClient, channel: string): Promise<unknown> {
    return this.sharded ? sub.ssubscribe(channel) : sub.subscribe(channel);
  }

  private lastKey(stream: string): string {
    return this.sharded ? clusterLastFrameKey(stream) : lastFrameKey(stream);
  }

  isReady(): boolean {
    // Closing: the connections may still say 'ready' while QUIT is in flight; the bus is not usable.
    return (
      !this.closing &&
      this.cmd.status === 'ready' &&
      this.cmdLiveness.responsive &&
      (this.sub === null || (this.sub.status === 'ready' && this.subLiveness!.responsive))
    );
  }

  problem(): string | null {
    if (this.isReady()) return null;
    if (this.closing) return 'bus closed';
    const connected = this.cmd.status === 'ready' && (this.sub === null || this.sub.status === 'ready');
    if (!connected) {
      const problem = classifyRedisError(this.lastConnectionError);
      if (problem) return `${problem.summary}: ${problem.detail}`;
      return this.lastConnectionError ? `cannot reach Redis: ${this.lastConnectionError.message}` : 'not connected to Redis yet';
    }
    return this.cmdLiveness.problem() ?? this.subLiveness?.problem() ?? null;
  }

  async publish(room: string, envelope: Buffer, lastFrameTtlMs: number): Promise<PublishResult> {
    // Two commands written in the same tick, not a pipeline: they still go out back to back in one
    // round trip, and ioredis's pipeline would join both into one more Buffer (another 74 KB
    // allocated and copied per 720p frame): that garbage paced the capture agent's full GCs.
    const channel = frameChannel(room);
    const published = (this.sharded ? this.cmd.spublish(channel, envelope) : this.cmd.publish(channel, envelope)).then(
      () => null,
      (err: Error) => err,
    );
    const stored = this.cmd.set(this.lastKey(room), envelope, 'PX', lastFrameTtlMs).then(
      () => null,
      (err: Error) => err,
    );
    const publishError = await published;
    if (publishError) {
      // A publish without an answer: Redis is hung, so stop offering it frames now rather than at
      // the next PING (each would wait out its timeout, and all would be delivered late at once).
      if (publishError.message === 'Command timed out') this.cmdLiveness.commandTimedOut();
      throw publishError;
    }
    const storeError = await stored;
    return storeError ? { lastFrameStored: false, error: storeError } : { lastFrameStored: true };
  }

  async subscribe(room: string): Promise<void> {
    const channel = frameChannel(room);
    this.rooms.set(channel, room);
    await this.subscribeChannel(this.subscriber(), channel);
  }

  async unsubscribe(room: string): Promise<void> {
    this.rooms.delete(frameChannel(room));
    if (!this.sub) return;
    if (this.sharded) await this.sub.sunsubscribe(frameChannel(room));
    else await this.sub.unsubscribe(frameChannel(room));
  }

  async lastFrame(room: string): Promise<Buffer | null> {
    return this.cmd.getBuffer(this.lastKey(room));
  }

  async subscriberCount(stream: string): Promise<number> {
    if (!this.sharded) {
      const reply = (await this.cmd.call('PUBSUB', 'NUMSUB', frameChannel(stream))) as [string, number];
      return Number(reply[1]);
    }
    // PUBSUB SHARDNUMSUB answers for the node asked; the channel's subscribers are on its slot's
    // primary, which the slot map names. Asking every primary and adding up needs no slot math and
    // stays right while a slot is moving.
    const primaries = (this.cmd as Cluster).nodes('master');
    // No slot map (reconnecting): unknown, not zero; the caller keeps what it knew.
    if (this.cmd.status !== 'ready' || primaries.length === 0) throw new Error('Redis Cluster not ready: subscriber count unknown');
    const replies = await Promise.all(primaries.map((node) => node.call('PUBSUB', 'SHARDNUMSUB', frameChannel(stream)) as Promise<[string, number]>));
    return replies.reduce((sum, reply) => sum + Number(reply[1]), 0);
  }

  onFrame(listener: FrameListener): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.cmdLiveness.stop();
    this.subLiveness?.stop();
    await Promise.all([quitRedis(this.cmd), quitRedis(this.sub)]);
  }
}
