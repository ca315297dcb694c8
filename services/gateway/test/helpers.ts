import { Redis } from 'ioredis';
import { encodeEnvelope, frameChannel, nowMicros } from '@framecast/protocol';
import { freePort, rssOf, scrapeMetric, startService, type ServiceProcess, type MetricLabels } from '@framecast/testing';

export interface GatewayProcess extends ServiceProcess {
  port: number;
  wsUrl(room: string): string;
  /** A metric's value (sum over the matching series); throws if the gateway does not expose `name`. */
  metric(name: string, labels?: MetricLabels): Promise<number>;
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
    metric: (name: string, labels?: MetricLabels) => scrapeMetric(port, name, labels),
    rssBytes: () => rssOf(svc.proc.pid!),
  });
}

// One copy of each, in @framecast/testing; re-exported for the tests that import them from here.
export { ChannelTap, rssOf, scrapeMetric, startAgent } from '@framecast/testing';

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
