import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { encodeEnvelope, frameChannel, nowMicros, readHeader, EnvelopeError } from '@framecast/protocol';
import { freePort, startService, type ServiceProcess } from '@framecast/testing';

export interface GatewayProcess extends ServiceProcess {
  port: number;
  wsUrl(room: string): string;
  metric(name: string, labels?: string): Promise<number>;
  rssBytes(): number;
}

/** Starts a gateway as its own process, configured only by environment variables. */
export async function startGateway(redisUrl: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const port = await freePort();
  const svc = await startService(`gateway:${port}`, {
    entry: 'services/gateway/src/main.ts',
    env: { REDIS_URL: redisUrl, PORT: String(port), HOST: '127.0.0.1', FRAMECAST_GATEWAY_ID: `gw-${port}`, FRAMECAST_AUTH: 'off', ...env },
    readyLine: /gateway listening/,
  });
  return Object.assign(svc, {
    port,
    wsUrl: (room: string) => `ws://127.0.0.1:${port}/ws/video/${room}`,
    metric: (name: string, labels = '') => scrapeMetric(port, name, labels),
    rssBytes: () => rssOf(svc.proc.pid!),
  });
}

export async function scrapeMetric(port: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const want = labels ? `${name}{${labels}}` : name;
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    const key = line.slice(0, sp);
    if (key === want || (!labels && key.startsWith(`${name}{`))) total += Number(line.slice(sp + 1));
  }
  return total;
}

export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Starts the capture agent CLI as its own process. */
export async function startAgent(redisUrl: string, room: string, source: string, extra: Record<string, string> = {}): Promise<ServiceProcess> {
  return startService(`agent:${room}`, {
    entry: 'services/capture-agent/src/main.ts',
    env: { REDIS_URL: redisUrl, FRAMECAST_ROOM: room, FRAMECAST_SOURCE: source, FRAMECAST_FPS: '15', FRAMECAST_SIZE: '320x180', ...extra },
    readyLine: /capture agent started/,
  });
}

/** Records what was published on a room's channel, as the source of truth for byte identity. */
export class ChannelTap {
  readonly bySequence = new Map<number, string>();
  readonly redis: Redis;
  constructor(url: string, room: string) {
    this.redis = new Redis(url);
    void this.redis.subscribe(frameChannel(room));
    this.redis.on('messageBuffer', (_c: Buffer, msg: Buffer) => {
      const h = readHeader(msg);
      if (!(h instanceof EnvelopeError)) this.bySequence.set(h.sequence, createHash('sha1').update(msg).digest('hex'));
    });
  }
  close(): void {
    this.redis.disconnect();
  }
}

/** A publisher under the test's control, for frames and garbage at exact moments. */
export class TestPublisher {
  readonly redis: Redis;
  sequence = 0;
  readonly room: string;

  constructor(url: string, room: string) {
    this.room = room;
    this.redis = new Redis(url);
  }
  async frame(bytes = 20_000, opts: { store?: boolean } = {}): Promise<number> {
    const seq = this.sequence++;
    const env = encodeEnvelope({ sequence: seq, captureTimeUs: nowMicros(), width: 320, height: 180 }, Buffer.alloc(bytes, seq & 0xff));
    const p = this.redis.pipeline().publish(frameChannel(this.room), env);
    if (opts.store ?? true) p.set(`${frameChannel(this.room)}:last`, env, 'PX', 30_000);
    await p.exec();
    return seq;
  }
  async raw(bytes: Buffer): Promise<void> {
    await this.redis.publish(frameChannel(this.room), bytes);
  }
  close(): void {
    this.redis.disconnect();
  }
}
