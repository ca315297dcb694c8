// The capacity model of docs/SCALING.md: from cameras, fps, frame size, viewers and how
// popularity falls off over rooms (Zipf), how many gateways, Redis shards, cores and how much
// bandwidth a deployment needs, under two routings of viewers to gateways. Pure functions; the CLI
// is capacity.ts. Every measured figure is in MEASURED with where it comes from.

/** A measured figure and where it was measured. */
export interface MeasuredFigure {
  value: number;
  unit: string;
  source: string;
}

/**
 * The measured figures the model stands on. Re-measure and update these (and docs/SCALING.md)
 * when the gateway, the agent or Redis changes.
 */
export const MEASURED = {
  gatewayUsPerDeliveredFrame: {
    value: 19.1,
    unit: 'µs of gateway CPU per frame delivered to one viewer',
    source:
      'pnpm bench ramp, bench/results/latest.json (2026-11-25, docs/PERFORMANCE.md): slope of gateway CPU against delivered frames/s between 25 and 100 viewers per room, (0.497 − 0.149) core / (24,215 − 6,034) frames/s',
  },
  gatewayUsPerRedisMessage: {
    value: 264,
    unit: 'µs of gateway CPU per Redis message received (one room, one frame), beyond the per-viewer cost',
    source:
      'pnpm bench --workload cameras (64 rooms × 2 viewers × 15 fps, 2026-12-05, busy machine), docs/PERFORMANCE.md: 151 µs per delivered frame, 2 frames per message: 2 × (151 − 19.1). The ramp in bench/results/latest.json (8 rooms, quiet machine) gives 138 µs the same way, (0.149 core − 6,034 frames/s × 19.1 µs) / 240 messages/s: this is the pessimistic one',
  },
  gatewayBytesPerViewer: {
    value: 12985,
    unit: 'bytes of gateway RSS per connected idle viewer, 1.5 s after the connects (a reconnect storm: the connects\' garbage still held)',
    source:
      'pnpm bench idle (2,000 viewers), bench/results/latest.json idle.bytesPerViewer.framecast (2026-12-05, fourth session, docs/PERFORMANCE.md); settled (10 s after) 10,499: planning for the storm',
  },
  gatewayBaseRssBytes: {
    value: 95.1e6,
    unit: 'bytes of gateway RSS with no viewer',
    source: 'pnpm bench idle, the gateway before its viewers connect (compile cache filled, as in the images), bench/results/latest.json idle.runs rssBefore (2026-12-05, fourth session)',
  },
  redisUsPerFrameIn: {
    value: 19.4,
    unit: 'µs of Redis CPU per frame published the way agents do it (pipeline of PUBLISH + SET PX), no subscriber',
    source: 'bench/src/redis-throughput.ts, publish+set × 0 subscribers, bench/results/redis-throughput-latest.json (2026-12-05, redis-server 7.0.15)',
  },
  redisUsPerDelivery: {
    value: 6.1,
    unit: 'µs of Redis CPU per 30 KB copy sent to a subscriber (≈ 4.9 GB/s per core)',
    source:
      'bench/src/redis-throughput.ts, SPUBLISH to 1, 2, 4, 8 SSUBSCRIBErs, slope of Redis CPU per message against subscribers, bench/results/redis-throughput-latest.json (2026-12-05; classic PUBLISH: 5.7 µs)',
  },
  redisMeasuredFrameBytes: {
    value: 30000,
    unit: 'bytes per message in the Redis measurement (per-copy Redis CPU is scaled by frame size / this)',
    source: 'bench/src/redis-throughput.ts --bytes default',
  },
  agentUsPerFrame: {
    value: 1329,
    unit: 'µs of capture-agent CPU per published frame (split MJPEG, envelope, PUBLISH + SET)',
    source: 'pnpm bench --workload agent, ffmpeg:testsrc 1280×720 at 30 fps after 15 s of publishing, bench/results/latest.json agent.agentUsPerFrame (2026-12-05, fourth session, docs/PERFORMANCE.md)',
  },
  encoderUsPerFrame: {
    value: 4835,
    unit: 'µs of ffmpeg CPU per frame encoding 1280×720 MJPEG (a camera that sends MJPEG itself needs none)',
    source: 'the same run: the mean of agent.agent[].ffmpegCpuUsPerFrame',
  },
} as const satisfies Record<string, MeasuredFigure>;

export type ModelConstants = { -readonly [K in keyof typeof MEASURED]: number };

export const DEFAULT_CONSTANTS: ModelConstants = Object.freeze(
  Object.fromEntries(Object.entries(MEASURED).map(([k, v]) => [k, v.value])) as ModelConstants,
);

export type Routing = 'random' | 'affinity';

export interface CapacityInputs {
  /** Cameras; one room each. */
  cameras: number;
  fps: number;
  /** Frame (envelope) size in bytes. */
  frameBytes: number;
  /** Concurrent viewers. */
  viewers: number;
  /** Zipf exponent over rooms ranked by popularity: room r draws a share ∝ 1 / r^zipf (0 = uniform). */
  zipf: number;
  routing: Routing;
  /** Viewers one gateway process may hold (FRAMECAST_MAX_VIEWERS, 20,000 by default). */
  gatewayMaxViewers: number;
  /** Share of its one core a gateway process, or a Redis shard's main thread, is planned to use. */
  coreTarget: number;
  /** NIC of a gateway host and of a Redis shard's host, Gbit/s; planned at coreTarget of it too. */
  nicGbps: number;
  /** Cores per gateway host (one gateway process per core). */
  gatewayHostCores: number;
  /** Cores per camera box. */
  agentBoxCores: number;
  /** Whether the agent's ffmpeg encodes JPEG (a test source, or an H.264 camera) or the camera sends MJPEG. */
  encode: boolean;
  /** Replicas per Redis shard: each gets every SET and every SPUBLISH of its shard once more. */
  replicasPerShard: number;
  /**
   * Room affinity only: the busiest gateway's load over the mean. Hashing rooms spreads load
   * unevenly (docs/SCALING.md: ~4 for plain consistent hashing at 10,000 rooms over ~470
   * gateways; at most the balance factor, e.g. 1.25, with bounded-load hashing). Gateways are
   * sized so that the busiest one fits. 1 = perfectly even, as random routing is.
   */
  affinityPeakToMean: number;
}

export const DEFAULT_INPUTS: CapacityInputs = Object.freeze({
  cameras: 10_000,
  fps: 15,
  frameBytes: 30_000,
  viewers: 1_000_000,
  zipf: 1.0,
  routing: 'affinity',
  gatewayMaxViewers: 20_000,
  coreTarget: 0.7,
  nicGbps: 25,
  gatewayHostCores: 16,
  agentBoxCores: 8,
  encode: true,
  replicasPerShard: 1,
  affinityPeakToMean: 1,
});

export interface CapacityPlan {
  routing: Routing;
  /** Rooms with at least one viewer (expected). */
  watchedRooms: number;
  gateways: number;
  viewersPerGateway: number;
  /** Rooms each gateway subscribes to, on average. */
  roomsPerGateway: number;
  /** CPU of the busiest gateway process, share of a core (within coreTarget). */
  gatewayCore: number;
  /** Gateway CPU used in all, cores. */
  gatewayCoresUsed: number;
  /** Gateway cores to provision: one per process (a gateway is one event loop). */
  gatewayCores: number;
  gatewayMemoryGB: number;
  /** Hosts for the gateways: by cores, and by NIC (viewer bandwidth). */
  gatewayHosts: number;
  /** (room, gateway) subscriptions: Redis sends every frame of a room once per subscription. */
  subscriptions: number;
  redis: {
    framesInPerSec: number;
    /** Bytes into Redis: each frame twice (PUBLISH and the last-frame SET). */
    ingressGBps: number;
    deliveriesPerSec: number;
    /** Bytes from Redis to gateways. */
    egressGBps: number;
    /** Bytes from primaries to their replicas. */
    replicationGBps: number;
    ingressCores: number;
    egressCores: number;
    shardsIngressBound: number;
    shardsEgressBound: number;
    shards: number;
    /** What the most watched room alone sends out: one channel cannot be split over shards. */
    hottestRoomEgressGBps: number;
    /** What one shard can send (CPU or NIC, whichever binds first). */
    shardEgressCapacityGBps: number;
    lastFramesMemoryGB: number;
  };
  viewerBandwidthGBps: number;
  viewerBandwidthGbps: number;
  agents: { agentCores: number; encoderCores: number; boxes: number };
  warnings: string[];
}

/** Popularity shares of `rooms` rooms under Zipf exponent `s`, most watched first; they sum to 1. */
export function zipfShares(rooms: number, s: number): Float64Array {
  const w = new Float64Array(rooms);
  let sum = 0;
  for (let r = 0; r < rooms; r++) sum += w[r] = (r + 1) ** -s;
  for (let r = 0; r < rooms; r++) w[r]! /= sum;
  return w;
}

/** 1 − (1 − p)^n for real n, accurate for tiny p: the chance that n independent picks hit p at least once. */
function hitAtLeastOnce(p: number, n: number): number {
  if (p >= 1) return n > 0 ? 1 : 0;
  return -Math.expm1(n * Math.log1p(-p));
}

/**
 * Expected (room, gateway) subscriptions with `gateways` gateways.
 *
 * random: a viewer lands on any gateway; a gateway holding v = viewers / gateways viewers
 * subscribes to a room if any of its v viewers watches it: Σ_r gateways × (1 − (1 − p_r)^v).
 *
 * affinity: the ingress hashes the room to a gateway, so a room is subscribed once; a room with
 * more viewers than a gateway holds (p_r × viewers > viewers / gateways) is spread over
 * k_r = ceil(p_r × gateways) buckets (room + bucket hashed). A bucket is subscribed if any viewer
 * of the room landed in it: Σ_r k_r × (1 − (1 − p_r / k_r)^viewers). With k_r ≤ gateways this is
 * never more than random's (Bernoulli: (1 − p/G)^G ≥ 1 − p).
 */
export function expectedSubscriptions(shares: Float64Array, viewers: number, gateways: number, routing: Routing): number {
  if (viewers <= 0 || gateways <= 0) return 0;
  let subs = 0;
  if (routing === 'random') {
    const perGateway = viewers / gateways;
    for (const p of shares) subs += gateways * hitAtLeastOnce(p, perGateway);
  } else {
    for (const p of shares) {
      const k = Math.max(1, Math.ceil(p * gateways - 1e-9));
      subs += k * hitAtLeastOnce(p / k, viewers);
    }
  }
  return subs;
}

function gatewayCore(inp: CapacityInputs, c: ModelConstants, viewersPerGateway: number, roomsPerGateway: number): number {
  return (inp.fps * (viewersPerGateway * c.gatewayUsPerDeliveredFrame + roomsPerGateway * c.gatewayUsPerRedisMessage)) / 1e6;
}

/**
 * Fewest gateways whose every process stays within coreTarget and gatewayMaxViewers: exponential
 * then binary search from the bound the per-viewer cost alone sets (load per gateway falls as
 * gateways are added, for both routings).
 */
function gatewaysNeeded(inp: CapacityInputs, c: ModelConstants, shares: Float64Array): number {
  const V = inp.viewers;
  if (V <= 0) return 0;
  const peak = inp.routing === 'affinity' ? inp.affinityPeakToMean : 1;
  const fits = (g: number) => {
    const subs = expectedSubscriptions(shares, V, g, inp.routing);
    return (peak * V) / g <= inp.gatewayMaxViewers && gatewayCore(inp, c, (peak * V) / g, (peak * subs) / g) <= inp.coreTarget;
  };
  if (gatewayCore(inp, c, peak, peak) > inp.coreTarget) {
    throw new RangeError(`one viewer of one room at ${inp.fps} fps already needs more than ${inp.coreTarget} of a gateway core`);
  }
  if (peak > inp.gatewayMaxViewers) throw new RangeError('affinityPeakToMean is above gatewayMaxViewers: no gateway could hold its share');
  let lo = Math.max(1, Math.ceil((peak * V) / inp.gatewayMaxViewers), Math.ceil((peak * V * inp.fps * c.gatewayUsPerDeliveredFrame) / (inp.coreTarget * 1e6)));
  if (fits(lo)) return lo;
  let hi = lo;
  while (!fits(hi)) {
    lo = hi;
    hi = Math.min(Math.ceil(V), hi * 2);
    if (hi === lo) break;
  }
  // lo does not fit, hi does: narrow down.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

export function planCapacity(inputs: CapacityInputs, constants: ModelConstants = DEFAULT_CONSTANTS): CapacityPlan {
  const inp = inputs;
  const c = constants;
  for (const k of ['cameras', 'fps', 'frameBytes', 'viewers', 'zipf', 'gatewayMaxViewers', 'coreTarget', 'nicGbps', 'gatewayHostCores', 'agentBoxCores', 'replicasPerShard', 'affinityPeakToMean'] as const) {
    if (!Number.isFinite(inp[k]) || inp[k] < 0) throw new RangeError(`${k} must be a finite number ≥ 0, got ${inp[k]}`);
  }
  if (inp.cameras < 1 || !Number.isInteger(inp.cameras)) throw new RangeError('cameras must be a whole number ≥ 1');
  if (inp.coreTarget <= 0 || inp.coreTarget > 1) throw new RangeError('coreTarget must be in (0, 1]');
  if (inp.affinityPeakToMean < 1) throw new RangeError('affinityPeakToMean must be ≥ 1 (the busiest gateway carries at least the mean)');
  if (inp.gatewayMaxViewers < 1 || inp.fps <= 0 || inp.frameBytes <= 0 || inp.nicGbps <= 0 || inp.gatewayHostCores <= 0 || inp.agentBoxCores <= 0) {
    throw new RangeError('gatewayMaxViewers must be ≥ 1, and fps, frameBytes, nicGbps, gatewayHostCores and agentBoxCores > 0');
  }
  const warnings: string[] = [];
  const shares = zipfShares(inp.cameras, inp.zipf);
  const V = inp.viewers;
  const nicBytesPerSec = (inp.nicGbps * 1e9) / 8;

  const gateways = gatewaysNeeded(inp, c, shares);
  const subscriptions = expectedSubscriptions(shares, V, gateways, inp.routing);
  let watchedRooms = 0;
  for (const p of shares) watchedRooms += hitAtLeastOnce(p, V);
  const viewersPerGateway = gateways ? V / gateways : 0;
  const roomsPerGateway = gateways ? subscriptions / gateways : 0;
  const peak = inp.routing === 'affinity' ? inp.affinityPeakToMean : 1;
  const perGatewayCore = gateways ? gatewayCore(inp, c, viewersPerGateway * peak, roomsPerGateway * peak) : 0;
  const viewerBytesPerSec = V * inp.fps * inp.frameBytes;
  const gatewayHosts = gateways
    ? Math.max(Math.ceil(gateways / inp.gatewayHostCores), Math.ceil(viewerBytesPerSec / (nicBytesPerSec * inp.coreTarget)))
    : 0;

  // Redis. Per-copy CPU scales with bytes (memcpy and socket writes dominate at 30 KB); the
  // per-frame ingress cost is taken as measured, at the measured size.
  const perCopyUs = c.redisUsPerDelivery * (inp.frameBytes / c.redisMeasuredFrameBytes);
  const framesIn = inp.cameras * inp.fps;
  const deliveries = subscriptions * inp.fps;
  const replicationCopies = framesIn * 2 * inp.replicasPerShard;
  const ingressCores = (framesIn * c.redisUsPerFrameIn) / 1e6;
  const egressCores = ((deliveries + replicationCopies) * perCopyUs) / 1e6;
  const ingressBytes = framesIn * 2 * inp.frameBytes;
  const egressBytes = deliveries * inp.frameBytes;
  const replicationBytes = replicationCopies * inp.frameBytes;
  const shardNic = nicBytesPerSec * inp.coreTarget;
  const shardsIngressBound = Math.max(1, Math.ceil(ingressCores / inp.coreTarget), Math.ceil(ingressBytes / shardNic));
  const shardsEgressBound = Math.max(1, Math.ceil(egressCores / inp.coreTarget), Math.ceil((egressBytes + replicationBytes) / shardNic));
  // Ingress and egress share the shard's one main thread; its NIC is full duplex.
  const shards = Math.max(shardsIngressBound, shardsEgressBound, Math.ceil((ingressCores + egressCores) / inp.coreTarget));
  const shardEgressCapacity = Math.min((inp.coreTarget * 1e6 * inp.frameBytes) / perCopyUs, shardNic);
  const hottestSubs = expectedSubscriptions(shares.subarray(0, 1), V, gateways, inp.routing);
  const hottestRoomEgress = hottestSubs * inp.fps * inp.frameBytes;
  if (hottestRoomEgress > shardEgressCapacity) {
    warnings.push(
      `the most watched room alone sends ${(hottestRoomEgress / 1e9).toFixed(2)} GB/s, more than one shard can (${(shardEgressCapacity / 1e9).toFixed(2)} GB/s): a channel lives on one shard, so no number of shards helps it`,
    );
  }
  if (peak * viewersPerGateway * inp.fps * inp.frameBytes > nicBytesPerSec * inp.coreTarget) {
    warnings.push(`one gateway sends ${((peak * viewersPerGateway * inp.fps * inp.frameBytes * 8) / 1e9).toFixed(1)} Gbit/s, more than its host's NIC plan`);
  }

  const agentCores = (framesIn * c.agentUsPerFrame) / 1e6;
  const encoderCores = inp.encode ? (framesIn * c.encoderUsPerFrame) / 1e6 : 0;
  return {
    routing: inp.routing,
    watchedRooms,
    gateways,
    viewersPerGateway,
    roomsPerGateway,
    gatewayCore: perGatewayCore,
    gatewayCoresUsed: gateways ? gateways * gatewayCore(inp, c, viewersPerGateway, roomsPerGateway) : 0,
    gatewayCores: gateways,
    gatewayMemoryGB: (gateways * c.gatewayBaseRssBytes + V * c.gatewayBytesPerViewer) / 1e9,
    gatewayHosts,
    subscriptions,
    redis: {
      framesInPerSec: framesIn,
      ingressGBps: ingressBytes / 1e9,
      deliveriesPerSec: deliveries,
      egressGBps: egressBytes / 1e9,
      replicationGBps: replicationBytes / 1e9,
      ingressCores,
      egressCores,
      shardsIngressBound,
      shardsEgressBound,
      shards,
      hottestRoomEgressGBps: hottestRoomEgress / 1e9,
      shardEgressCapacityGBps: shardEgressCapacity / 1e9,
      lastFramesMemoryGB: (inp.cameras * inp.frameBytes) / 1e9,
    },
    viewerBandwidthGBps: viewerBytesPerSec / 1e9,
    viewerBandwidthGbps: (viewerBytesPerSec * 8) / 1e9,
    agents: {
      agentCores,
      encoderCores,
      boxes: Math.ceil((agentCores + encoderCores) / (inp.agentBoxCores * inp.coreTarget)),
    },
    warnings,
  };
}
