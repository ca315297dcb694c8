import { Redis } from 'ioredis';
import { frameChannel } from '@framecast/protocol';
import type { ChurnReport } from './churn-viewers.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { CpuWindow, RssSampler, rssBytes } from './proc-stats.ts';
import { IpcChild, startServer, type ServerKind, type ServerUnderTest } from './processes.ts';

export interface Rig {
  redisUrl: string;
  publisher: IpcChild;
  loadgen: IpcChild;
  /** Node flags for the framecast gateway: those it ships with, plus e.g. --cpu-prof. */
  gatewayNodeArgs: string[];
  /** Node flags for the floor (none unless a run asks, to compare against a floor tuned alike). */
  floorNodeArgs: string[];
  /** framecast runs as shipped: auth on, bench rooms private, every viewer with a valid token. */
  gatewayEnv: Record<string, string>;
  viewerTokenQuery: string;
}

export interface StreamSpec {
  rooms: number;
  viewersPerRoom: number;
  fps: number;
  bytes: number;
  warmupMs: number;
  measureMs: number;
  /** Add one viewer that stops reading (the `slow` workload). */
  slowViewer?: boolean;
  serverEnv?: Record<string, string>;
}

export interface StreamResult {
  server: ServerKind;
  viewers: number;
  framesPerSec: number;
  mbPerSec: number;
  lossPct: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  cpuUsPerFrame: number;
  serverCore: number;
  loadgenCore: number;
  peakRss: number;
  rssGrowth: number;
  slowCloseCode?: number | null;
  hist: LatencyHistogram;
}

export const roomNames = (n: number) => Array.from({ length: n }, (_, i) => `bench${i}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withServer<T>(rig: Rig, kind: ServerKind, env: Record<string, string>, fn: (s: ServerUnderTest) => Promise<T>): Promise<T> {
  const server = await startServer(
    kind,
    rig.redisUrl,
    kind === 'framecast' ? { env: { ...rig.gatewayEnv, ...env }, nodeArgs: rig.gatewayNodeArgs, urlQuery: rig.viewerTokenQuery } : { env, nodeArgs: rig.floorNodeArgs },
  );
  try {
    await sleep(300);
    return await fn(server);
  } finally {
    await rig.loadgen.call({ cmd: 'closeAll' });
    await server.stop();
  }
}

/** One streaming run against one server: connect, publish, warm up, measure. */
export function runStream(rig: Rig, kind: ServerKind, spec: StreamSpec): Promise<StreamResult> {
  return withServer(rig, kind, spec.serverEnv ?? {}, async (server) => {
    const rooms = roomNames(spec.rooms);
    const urls = rooms.flatMap((r) => Array.from({ length: spec.viewersPerRoom }, () => server.wsUrl(r)));
    await rig.loadgen.call({ cmd: 'connect', urls });
    if (spec.slowViewer) await rig.loadgen.call({ cmd: 'pauseOne', url: server.wsUrl(rooms[0]!) });
    await rig.publisher.call({ cmd: 'start', rooms, fps: spec.fps, bytes: spec.bytes });
    await sleep(spec.warmupMs);
    await rig.loadgen.call({ cmd: 'reset' });
    const rssStart = rssBytes(server.pid);
    const { serverCpu, loadgenCpu, peakRss } = await measureWindow(rig, server, spec.measureMs);
    const r = await rig.loadgen.call<{ frames: number; bytes: number; lost: number; maxUs: number; hist: Array<[number, number]> }>({ cmd: 'report' });
    await rig.publisher.call({ cmd: 'stop' });
    const slowCloseCode = spec.slowViewer ? (await rig.loadgen.call<{ closeCode: number | null }>({ cmd: 'slowReport' })).closeCode : undefined;
    const hist = LatencyHistogram.fromSparse(r.hist, r.maxUs);
    const seconds = serverCpu.wallUs / 1e6;
    return {
      server: kind,
      viewers: urls.length,
      framesPerSec: r.frames / seconds,
      mbPerSec: r.bytes / seconds / 1e6,
      lossPct: r.frames + r.lost === 0 ? 100 : (100 * r.lost) / (r.frames + r.lost),
      p50: hist.percentileMs(50),
      p95: hist.percentileMs(95),
      p99: hist.percentileMs(99),
      max: hist.maxUs / 1000,
      cpuUsPerFrame: r.frames === 0 ? NaN : serverCpu.cpuUs / r.frames,
      serverCore: serverCpu.coreShare,
      loadgenCore: loadgenCpu.coreShare,
      peakRss,
      rssGrowth: peakRss - rssStart,
      slowCloseCode,
      hist,
    };
  });
}

export interface IdleResult {
  server: ServerKind;
  viewers: number;
  rssBefore: number;
  /** 1.5 s after the last connect: the connects' garbage still in the heap. */
  rssAfter: number;
  bytesPerViewer: number;
  /** IDLE_SETTLE_MS after the last connect, nothing having happened since: what idle viewers hold. */
  rssSettled: number;
  settledBytesPerViewer: number;
}

/**
 * How long idle viewers are left alone before the settled reading: V8 collects the connects'
 * garbage a few seconds after allocation stops (its memory reducer; measured: the gateway's RSS
 * drops 2–5 MB between 1.5 and 10 s, the floor's does not move).
 */
export const IDLE_SETTLE_MS = 10_000;

/** Memory per connected viewer with no frames flowing, right after the connects and settled. */
export function runIdle(rig: Rig, kind: ServerKind, viewers: number): Promise<IdleResult> {
  return withServer(rig, kind, {}, async (server) => {
    await sleep(700);
    const rssBefore = rssBytes(server.pid);
    const urls = roomNames(8).flatMap((r) => Array.from({ length: viewers / 8 }, () => server.wsUrl(r)));
    await rig.loadgen.call({ cmd: 'connect', urls, batch: 200 });
    await sleep(1500);
    const rssAfter = rssBytes(server.pid);
    await sleep(IDLE_SETTLE_MS - 1500);
    const rssSettled = rssBytes(server.pid);
    const per = (rss: number) => (rss - rssBefore) / viewers;
    return { server: kind, viewers, rssBefore, rssAfter, bytesPerViewer: per(rssAfter), rssSettled, settledBytesPerViewer: per(rssSettled) };
  });
}

export interface JoinResult {
  server: ServerKind;
  joins: number;
  p50: number;
  p99: number;
  max: number;
}

/** Time from connect to first frame for sequential joins into rooms streaming at `fps`. */
export function runJoins(rig: Rig, kind: ServerKind, joins: number, fps: number, bytes: number): Promise<JoinResult> {
  return withServer(rig, kind, {}, async (server) => {
    const rooms = roomNames(8);
    // One resident viewer per room, so both servers are subscribed before the joins start.
    await rig.loadgen.call({ cmd: 'connect', urls: rooms.map((r) => server.wsUrl(r)) });
    await rig.publisher.call({ cmd: 'start', rooms, fps, bytes });
    await sleep(1000);
    const { times } = await rig.loadgen.call<{ times: number[] }>({ cmd: 'joins', url: server.wsUrl(rooms[0]!), count: joins });
    await rig.publisher.call({ cmd: 'stop' });
    const sorted = [...times].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
    return { server: kind, joins: times.length, p50: pct(50), p99: pct(99), max: sorted[sorted.length - 1]! };
  });
}

export interface ChurnSpec {
  rooms: number;
  viewers: number;
  hopMs: number;
  fps: number;
  bytes: number;
  /** The rooms' stored last frames expire after this (the capture agent's default). */
  lastFrameTtlMs: number;
  warmupMs: number;
  measureMs: number;
  /** How long after the last viewer left to check that no subscription is left: the gateway's linger plus slack. */
  settleMs: number;
}

export interface ChurnResult {
  server: ServerKind;
  hopsPerSec: number;
  framesPerSec: number;
  lossPct: number;
  /** Hops that got no frame before the viewer's next hop. */
  missedHops: number;
  serverCloses: number;
  cpuUsPerHop: number;
  cpuUsPerFrame: number;
  serverCore: number;
  loadgenCore: number;
  firstFrameP50: number;
  firstFrameP99: number;
  firstFrameMax: number;
  /** Subscribers left on the rooms' channels `settleMs` after every viewer left (should be 0). */
  numsubAfter: number;
  peakRss: number;
  firstFrameHist: LatencyHistogram;
}

/** One measurement window: the server's and the load generator's CPU, and the server's peak RSS. */
async function measureWindow(rig: Rig, server: ServerUnderTest, ms: number) {
  const rss = new RssSampler(server.pid);
  const cpu = new CpuWindow(server.pid);
  const lgCpu = new CpuWindow(rig.loadgen.pid);
  await sleep(ms);
  return { serverCpu: cpu.end(), loadgenCpu: lgCpu.end(), peakRss: rss.stop() };
}

/**
 * Viewers hopping between rooms (the camera system's churn, issue 13): subscribe and unsubscribe
 * cost, and the first frame after each hop. Every room streams and stores its last frame, as the
 * capture agent does, so a server that reads the stored frame can answer a hop into a room it is
 * not subscribed to at once. At the end every viewer leaves and, after the linger, no subscription
 * may be left.
 */
export function runChurn(rig: Rig, kind: ServerKind, spec: ChurnSpec, seed: number): Promise<ChurnResult> {
  return withServer(rig, kind, {}, async (server) => {
    const rooms = roomNames(spec.rooms);
    await rig.publisher.call({ cmd: 'start', rooms, fps: spec.fps, bytes: spec.bytes, lastFrameTtlMs: spec.lastFrameTtlMs });
    await sleep(500);
    await rig.loadgen.call({ cmd: 'churnStart', roomUrls: rooms.map((r) => server.wsUrl(r)), viewers: spec.viewers, hopMs: spec.hopMs, seed });
    await sleep(spec.warmupMs);
    await rig.loadgen.call({ cmd: 'reset' });
    const { serverCpu, loadgenCpu, peakRss } = await measureWindow(rig, server, spec.measureMs);
    const r = await rig.loadgen.call<ChurnReport>({ cmd: 'churnReport' });
    await rig.loadgen.call({ cmd: 'closeAll' });
    await sleep(spec.settleMs);
    const numsubAfter = await subscribersOf(rig.redisUrl, rooms);
    await rig.publisher.call({ cmd: 'stop' });
    const hist = LatencyHistogram.fromSparse(r.hist, r.maxUs);
    const seconds = serverCpu.wallUs / 1e6;
    return {
      server: kind,
      hopsPerSec: r.hops / seconds,
      framesPerSec: r.frames / seconds,
      lossPct: r.frames + r.lost === 0 ? 100 : (100 * r.lost) / (r.frames + r.lost),
      missedHops: r.missed,
      serverCloses: r.serverCloses,
      cpuUsPerHop: r.hops === 0 ? NaN : serverCpu.cpuUs / r.hops,
      cpuUsPerFrame: r.frames === 0 ? NaN : serverCpu.cpuUs / r.frames,
      serverCore: serverCpu.coreShare,
      loadgenCore: loadgenCpu.coreShare,
      firstFrameP50: hist.percentileMs(50),
      firstFrameP99: hist.percentileMs(99),
      firstFrameMax: hist.maxUs / 1000,
      numsubAfter,
      peakRss,
      firstFrameHist: hist,
    };
  });
}

/** Sum of PUBSUB NUMSUB over the rooms' frame channels. */
async function subscribersOf(redisUrl: string, rooms: string[]): Promise<number> {
  const redis = new Redis(redisUrl);
  try {
    const reply = (await redis.call('PUBSUB', 'NUMSUB', ...rooms.map(frameChannel))) as Array<string | number>;
    let total = 0;
    for (let i = 1; i < reply.length; i += 2) total += Number(reply[i]);
    return total;
  } finally {
    redis.disconnect();
  }
}
