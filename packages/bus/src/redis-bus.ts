import { EventEmitter } from 'node:events';
import { connectRedis, execPipeline, quitRedis, type Redis, type RedisOptions } from '@framecast/redis';
import { frameChannel, lastFrameKey, roomOfChannel } from '@framecast/protocol';
import type { FrameBus, FrameListener } from './frame-bus.ts';

export interface RedisFrameBusOptions {
  url: string;
  /** Name shown in CLIENT LIST, e.g. "framecast-gateway". */
  connectionName: string;
  /** Longest pause between reconnect attempts; short so streams resume quickly. */
  maxReconnectDelayMs?: number;
  /**
   * ioredis's ready check (an INFO after connecting, waiting while Redis loads its data). Default
   * true. The capture agent turns it off: its ACL user may not run INFO (it would leak the whole
   * server's state), and a publish during loading fails with LOADING, which reconnects, like any
   * failed publish (the newest frame is kept).
   */
  readyCheck?: boolean;
}

/**
 * Frames over Redis pub/sub: PUBLISH video_<room> plus SET video_<room>:last PX ttl, pipelined in
 * one round trip. A second, dedicated connection subscribes (created on first subscribe, so a
 * publisher-only agent holds one connection). Buffers end to end: the subscriber listens on
 * `messageBuffer`, never the string `message` event, which would corrupt JPEG bytes.
 */
export class RedisFrameBus extends EventEmitter implements FrameBus {
  readonly kind = 'redis' as const;
  private readonly cmd: Redis;
  private sub: Redis | null = null;
  private listener: FrameListener = () => {};
  private readonly rooms = new Set<string>();
  private wasReady = false;
  private closing = false;

  constructor(private readonly opts: RedisFrameBusOptions) {
    super();
    // The command connection fails fast while Redis is away: a frame that cannot go now is
    // replaced by the next one, so queueing commands would only grow memory and deliver stale video.
    this.cmd = this.connect('', { enableReadyCheck: opts.readyCheck ?? true });
  }

  private connect(suffix: string, overrides: RedisOptions): Redis {
    const conn = connectRedis(this.opts.url, `${this.opts.connectionName}${suffix}`, overrides, this.opts.maxReconnectDelayMs);
    conn.on('ready', () => this.updateState());
    conn.on('close', () => this.updateState());
    conn.on('end', () => this.updateState());
    conn.on('reconnecting', () => this.emit('reconnecting'));
    // ioredis emits 'error' for every failed connect attempt; the state events carry what
    // matters and an unhandled 'error' would crash the process.
    conn.on('error', (err: Error) => this.emit('connectionError', err));
    return conn;
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

  private subscriber(): Redis {
    if (this.sub) return this.sub;
    // The subscriber keeps an offline queue so a SUBSCRIBE issued during an outage runs on
    // reconnect; ioredis also re-subscribes to every channel it holds after a reconnect.
    const sub = this.connect(':sub', { enableOfflineQueue: true, maxRetriesPerRequest: null });
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const room = roomOfChannel(channel.toString('latin1'));
      if (room !== null && this.rooms.has(room)) this.listener(room, message);
    });
    this.sub = sub;
    return sub;
  }

  isReady(): boolean {
    return this.cmd.status === 'ready' && (this.sub === null || this.sub.status === 'ready');
  }

  async publish(room: string, envelope: Buffer, lastFrameTtlMs: number): Promise<void> {
    await execPipeline(this.cmd.pipeline().publish(frameChannel(room), envelope).set(lastFrameKey(room), envelope, 'PX', lastFrameTtlMs));
  }

  async subscribe(room: string): Promise<void> {
    const channel = frameChannel(room);
    this.rooms.add(room);
    await this.subscriber().subscribe(channel);
  }

  async unsubscribe(room: string): Promise<void> {
    this.rooms.delete(room);
    if (this.sub) await this.sub.unsubscribe(frameChannel(room));
  }

  async lastFrame(room: string): Promise<Buffer | null> {
    return this.cmd.getBuffer(lastFrameKey(room));
  }

  onFrame(listener: FrameListener): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([quitRedis(this.cmd), quitRedis(this.sub)]);
  }
}
