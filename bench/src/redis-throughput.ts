// Redis pub/sub throughput for frame-sized messages, the figures docs/SCALING.md's capacity model
// stands on:
//
//   pnpm --filter @framecast/bench redis-throughput [-- --window-ms 3000 --bytes 30000 --json FILE]
//
// About 45 s in all (12 steps of 3.5 s, the first unrecorded). Results in docs/SCALING.md.
//
// Starts its own redis-server on a free loopback port (never the machine's 6379), then for each
// step publishes 30 KB messages on one channel as fast as N subscriber connections (ioredis,
// messageBuffer / smessageBuffer listeners, each counting what it received) take them:
//   publish      PUBLISH to 0, 1, 2, 4, 8 subscribers (SUBSCRIBE)
//   spublish     SPUBLISH to 1, 2, 4, 8 subscribers (SSUBSCRIBE; Redis 7 accepts both on a server
//                that is not in cluster mode, so this measures sharded pub/sub's per-shard cost)
//   publish+set  what a capture agent sends per frame (packages/bus redis-bus.ts): one pipeline of
//                PUBLISH and SET <last-frame key> PX, to 0 and 4 subscribers
// and reports messages/s into Redis, MB/s out of it (1 MB = 10^6 bytes, payload as received), and
// Redis's own CPU over the window (/proc/<pid>/task/*/schedstat, all its threads). Every step
// is closed-loop: at most WINDOW messages are unacknowledged or unreceived by the slowest
// subscriber, so no subscriber's output buffer nears Redis's pubsub limit (8 MB soft) and a
// step measures delivery, not queueing. This process (publisher and all subscribers) shares the
// machine with Redis: on 2 cores it, not Redis, is usually the bottleneck, which is why the
// figure to carry into the model is Redis CPU per message and per delivered copy (a straight-line
// fit over the subscriber counts), not the raw rate.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, ping, REPO_ROOT, sleep, waitFor } from '@framecast/testing';
import { cpuMicros } from './proc-stats.ts';

export type ThroughputMode = 'publish' | 'spublish' | 'publish+set';

export interface ThroughputStep {
  mode: ThroughputMode;
  subscribers: number;
  /** Messages (frames) Redis acknowledged per second. */
  msgsInPerSec: number;
  /** Bytes per second into Redis as payload (twice the frame for publish+set), in MB/s. */
  ingressMBps: number;
  /** Copies received per second, summed over subscribers. */
  deliveriesPerSec: number;
  egressMBps: number;
  /** Redis's CPU over the window as a share of one core. */
  redisCore: number;
  redisUsPerMsgIn: number;
  /** Egress divided by Redis's core share: what one fully busy Redis core would send at this mix. */
  egressMBpsPerRedisCore: number | null;
  /** This process (publisher and subscribers) as a share of one core. */
  clientCore: number;
}

export interface ThroughputFit {
  mode: ThroughputMode;
  /** Redis CPU µs per message published, independent of subscribers (the intercept). */
  usPerMessageIn: number;
  /** Redis CPU µs per copy delivered to a subscriber (the slope). */
  usPerDelivery: number;
  /** bytes / usPerDelivery: egress one Redis core sustains once deliveries dominate. */
  egressMBpsPerCore: number;
}

const { values } = parseArgs({
  // pnpm passes the `--` of `pnpm … capacity -- --cameras …` through.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    'window-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '500' },
    bytes: { type: 'string', default: '30000' },
    json: { type: 'string', default: join(REPO_ROOT, 'bench/results/redis-throughput-latest.json') },
  },
});
const WINDOW_MS = Number(values['window-ms']);
const WARMUP_MS = Number(values['warmup-ms']);
const BYTES = Number(values.bytes);
/** Messages allowed outstanding: 64 × 30 KB ≈ 1.9 MB per subscriber, far below Redis's pubsub buffer limit. */
const WINDOW = 64;
const CHANNEL = 'video_throughput';
const LAST_FRAME_KEY = 'frame_throughput';

const STEPS: Array<[ThroughputMode, number]> = [
  ['publish', 0],
  ['publish', 1],
  ['publish', 2],
  ['publish', 4],
  ['publish', 8],
  ['spublish', 1],
  ['spublish', 2],
  ['spublish', 4],
  ['spublish', 8],
  ['publish+set', 0],
  ['publish+set', 4],
];

interface PrivateRedis {
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const proc: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise((r) => proc.once('exit', r));
  await waitFor(`redis-server on port ${port}`, () => ping(port), 10_000);
  const info = new Redis(`redis://127.0.0.1:${port}`);
  const server = await info.info('server');
  info.disconnect();
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: proc.pid!,
    version: /redis_version:(\S+)/.exec(server)?.[1] ?? 'unknown',
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

async function runStep(redis: PrivateRedis, mode: ThroughputMode, n: number, payload: Buffer): Promise<ThroughputStep> {
  const received = new Array<number>(n).fill(0);
  const receivedBytes = new Array<number>(n).fill(0);
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  let failure: Error | null = null;
  const fail = (err: Error) => {
    failure ??= err;
    poke();
  };

  const subs: Redis[] = [];
  for (let i = 0; i < n; i++) {
    const sub = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    const onMessage = (_channel: Buffer, message: Buffer) => {
      received[i]!++;
      receivedBytes[i]! += message.length;
      poke();
    };
    sub.on(mode === 'spublish' ? 'smessageBuffer' : 'messageBuffer', onMessage);
    sub.on('error', (err: Error) => fail(err));
    sub.on('end', () => fail(new Error(`subscriber ${i} disconnected (Redis output buffer limit?)`)));
    if (mode === 'spublish') await sub.ssubscribe(CHANNEL);
    else await sub.subscribe(CHANNEL);
    subs.push(sub);
  }
  const pub = new Redis(redis.url, { maxRetriesPerRequest: 0 });
  const send =
    mode === 'publish'
      ? () => pub.publish(CHANNEL, payload)
      : mode === 'spublish'
        ? () => pub.spublish(CHANNEL, payload)
        : () => pub.pipeline().publish(CHANNEL, payload).set(LAST_FRAME_KEY, payload, 'PX', 5000).exec();

  let published = 0;
  let acked = 0;
  let running = true;
  const slowest = () => {
    let min = acked;
    for (const r of received) if (r < min) min = r;
    return min;
  };
  const onAck = () => {
    acked++;
    poke();
  };
  const loop = (async () => {
    while (running && !failure) {
      while (published - acked < WINDOW && published - slowest() < WINDOW) {
        published++;
        send().then(onAck, (err: Error) => fail(err));
      }
      await new Promise<void>((r) => (wake = r));
    }
  })();

  const sumReceived = () => received.reduce((a, b) => a + b, 0);
  const sumBytes = () => receivedBytes.reduce((a, b) => a + b, 0);
  try {
    await sleep(WARMUP_MS);
    const t0 = performance.now();
    const redisCpu0 = cpuMicros(redis.pid);
    const client0 = process.cpuUsage();
    const acked0 = acked;
    const recv0 = sumReceived();
    const bytes0 = sumBytes();
    await sleep(WINDOW_MS);
    const wallUs = (performance.now() - t0) * 1000;
    const redisCpuUs = cpuMicros(redis.pid) - redisCpu0;
    const client = process.cpuUsage(client0);
    const msgs = acked - acked0;
    const deliveries = sumReceived() - recv0;
    const egressBytes = sumBytes() - bytes0;
    if (failure) throw failure;
    const seconds = wallUs / 1e6;
    const redisCore = redisCpuUs / wallUs;
    const egressMBps = egressBytes / seconds / 1e6;
    return {
      mode,
      subscribers: n,
      msgsInPerSec: msgs / seconds,
      ingressMBps: (msgs * payload.length * (mode === 'publish+set' ? 2 : 1)) / seconds / 1e6,
      deliveriesPerSec: deliveries / seconds,
      egressMBps,
      redisCore,
      redisUsPerMsgIn: redisCpuUs / msgs,
      egressMBpsPerRedisCore: n > 0 ? egressMBps / redisCore : null,
      clientCore: (client.user + client.system) / wallUs,
    };
  } finally {
    running = false;
    poke();
    await loop;
    // Let the publishes still in flight settle before the connections go.
    await waitFor('in-flight publishes', () => acked >= published || failure !== null, 5_000, 5).catch(() => {});
    for (const s of subs) {
      s.removeAllListeners('end');
      s.disconnect();
    }
    pub.disconnect();
  }
}

/** Least-squares line through (subscribers, Redis µs per message in) for one mode. */
export function fitMode(steps: ThroughputStep[], mode: ThroughputMode, bytes: number): ThroughputFit | null {
  const pts = steps.filter((s) => s.mode === mode);
  if (pts.length < 2) return null;
  const mx = pts.reduce((a, s) => a + s.subscribers, 0) / pts.length;
  const my = pts.reduce((a, s) => a + s.redisUsPerMsgIn, 0) / pts.length;
  const sxx = pts.reduce((a, s) => a + (s.subscribers - mx) ** 2, 0);
  const sxy = pts.reduce((a, s) => a + (s.subscribers - mx) * (s.redisUsPerMsgIn - my), 0);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  return { mode, usPerMessageIn: intercept, usPerDelivery: slope, egressMBpsPerCore: bytes / slope };
}

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const f1 = (n: number | null) => (n === null || !Number.isFinite(n) ? '–' : n.toFixed(1));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function machine(): string {
  let os = 'unknown OS';
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // not Linux, or no os-release: leave it unknown
  }
  return `${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), ${os}`;
}

async function main(): Promise<void> {
  const payload = randomBytes(BYTES);
  const redis = await startRedis();
  const stopRedis = () => void redis.stop();
  process.once('SIGINT', stopRedis);
  process.once('SIGTERM', stopRedis);
  const steps: ThroughputStep[] = [];
  try {
    console.log(`redis-server ${redis.version} (pid ${redis.pid}) on ${redis.url}; ${BYTES}-byte messages, ${WINDOW_MS} ms per step`);
    // One unrecorded step first, so the first recorded one does not pay for ioredis's cold JIT.
    await runStep(redis, 'publish', 2, payload);
    for (const [mode, n] of STEPS) {
      const s = await runStep(redis, mode, n, payload);
      steps.push(s);
      console.log(`  ${mode} × ${n}: ${f0(s.msgsInPerSec)} msg/s in, ${f1(s.egressMBps)} MB/s out, redis ${Math.round(s.redisCore * 100)}% of a core`);
    }
  } finally {
    await redis.stop();
  }

  const fits = (['publish', 'spublish', 'publish+set'] as const).map((m) => fitMode(steps, m, BYTES)).filter((f) => f !== null);
  console.log();
  console.log(
    table(
      ['mode', 'subs', 'msg/s in', 'MB/s in', 'MB/s out', 'redis core', 'redis µs/msg in', 'MB/s out per redis core', 'client core'],
      steps.map((s) => [
        s.mode,
        String(s.subscribers),
        f0(s.msgsInPerSec),
        f1(s.ingressMBps),
        f1(s.egressMBps),
        `${Math.round(s.redisCore * 100)}%`,
        f1(s.redisUsPerMsgIn),
        f1(s.egressMBpsPerRedisCore),
        `${Math.round(s.clientCore * 100)}%`,
      ]),
    ),
  );
  console.log();
  console.log('Redis CPU per message = intercept + slope × subscribers (least squares over the steps):');
  console.log(
    table(
      ['mode', 'µs per message in', 'µs per delivered copy', 'MB/s out per redis core'],
      fits.map((f) => [f.mode, f1(f.usPerMessageIn), f1(f.usPerDelivery), f1(f.egressMBpsPerCore)]),
    ),
  );

  const out = {
    startedAt: new Date().toISOString(),
    redisVersion: redis.version,
    machine: machine(),
    node: process.version,
    messageBytes: BYTES,
    windowMs: WINDOW_MS,
    inFlightWindow: WINDOW,
    steps,
    fits,
  };
  mkdirSync(dirname(values.json!), { recursive: true });
  writeFileSync(values.json!, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nJSON: ${values.json}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
