/**
 * pnpm bench — framecast's gateway against the bare fan-out floor (bench/src/floor-server.ts) on
 * the same workloads in the same process tree, alternating A B A B so machine drift cancels out.
 * Starts its own redis-server, a publisher and a load generator as separate processes.
 *
 *   pnpm bench [--workload light,cameras,churn,ramp,idle,slow,join,agent] [--reps 2] [--measure-ms 4000] [--ramp-steps 5,10,25,50,100,200] [--cpu-prof]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { serviceNodeFlags, startTestRedis } from '@framecast/testing';
import { runAgentCost, type AgentCostResult } from './agent-cost.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { IpcChild, type ServerKind } from './processes.ts';
import { churnTable, idleTable, joinTable, mean, ratio, streamTable } from './report.ts';
import { privateBenchRooms } from './bench-auth.ts';
import { IDLE_SETTLE_MS, roomNames, runChurn, runIdle, runJoins, runStream, type ChurnResult, type ChurnSpec, type IdleResult, type JoinResult, type Rig, type StreamResult, type StreamSpec } from './run.ts';

const WORKLOADS = ['light', 'cameras', 'churn', 'ramp', 'idle', 'slow', 'join', 'agent'] as const;
type Workload = (typeof WORKLOADS)[number];
const KINDS: ServerKind[] = ['framecast', 'floor'];
const FRAME_BYTES = 30 * 1024;
const RAMP_LIMITS = { p99Ms: 250, lossPct: 1 };
/** The gateway's FRAMECAST_SUBSCRIBE_LINGER_MS default: churn checks for leftover subscriptions after it. */
const GATEWAY_LINGER_MS = 3000;
/** The agent and its floor publish this long before their CPU is read (agent-cost.ts: the steady state). */
const AGENT_WARMUP_MS = 15_000;

const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: WORKLOADS.join(',') },
    reps: { type: 'string', default: '2' },
    'measure-ms': { type: 'string', default: '4000' },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string', default: 'results' },
    'ramp-steps': { type: 'string', default: '5,10,25,50,100,200' },
    // Extra node/V8 flags for the framecast gateway only, e.g. "--max-semi-space-size=1".
    'gateway-node-args': { type: 'string', default: '' },
    // The same for the capture agent in `--workload agent`, and for the floor (to measure it tuned alike).
    'agent-node-args': { type: 'string', default: '' },
    'floor-node-args': { type: 'string', default: '' },
  },
});
const selected = values.workload.split(',').map((w) => w.trim()) as Workload[];
for (const w of selected) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}; choose from ${WORKLOADS.join(', ')}`);
const reps = Number(values.reps);
const measureMs = Number(values['measure-ms']);
const RAMP_STEPS = values['ramp-steps'].split(',').map(Number);

const say = (s: string) => process.stdout.write(`${s}\n`);
const results: Record<string, unknown> = { startedAt: new Date().toISOString(), node: process.version, reps, measureMs };

function aggregate(rs: StreamResult[]): StreamResult {
  const hist = new LatencyHistogram();
  for (const r of rs) hist.merge(r.hist);
  const m = (k: keyof StreamResult) => mean(rs.map((r) => r[k] as number));
  return {
    server: rs[0]!.server,
    viewers: rs[0]!.viewers,
    framesPerSec: m('framesPerSec'),
    mbPerSec: m('mbPerSec'),
    lossPct: m('lossPct'),
    p50: hist.percentileMs(50),
    p95: hist.percentileMs(95),
    p99: hist.percentileMs(99),
    max: hist.maxUs / 1000,
    cpuUsPerFrame: m('cpuUsPerFrame'),
    serverCore: m('serverCore'),
    loadgenCore: m('loadgenCore'),
    peakRss: Math.max(...rs.map((r) => r.peakRss)),
    rssGrowth: Math.max(...rs.map((r) => r.rssGrowth)),
    slowCloseCode: rs[0]!.slowCloseCode,
    hist,
  };
}

function aggregateChurn(rs: ChurnResult[]): ChurnResult {
  const hist = new LatencyHistogram();
  for (const r of rs) hist.merge(r.firstFrameHist);
  const m = (k: keyof ChurnResult) => mean(rs.map((r) => r[k] as number));
  return {
    server: rs[0]!.server,
    hopsPerSec: m('hopsPerSec'),
    framesPerSec: m('framesPerSec'),
    lossPct: m('lossPct'),
    missedHops: rs.reduce((a, r) => a + r.missedHops, 0),
    serverCloses: rs.reduce((a, r) => a + r.serverCloses, 0),
    cpuUsPerHop: m('cpuUsPerHop'),
    cpuUsPerFrame: m('cpuUsPerFrame'),
    serverCore: m('serverCore'),
    loadgenCore: m('loadgenCore'),
    firstFrameP50: hist.percentileMs(50),
    firstFrameP99: hist.percentileMs(99),
    firstFrameMax: hist.maxUs / 1000,
    numsubAfter: Math.max(...rs.map((r) => r.numsubAfter)),
    peakRss: Math.max(...rs.map((r) => r.peakRss)),
    firstFrameHist: hist,
  };
}

const jsonChurn = (r: ChurnResult) => {
  const { firstFrameHist: _hist, ...rest } = r;
  return rest;
};

const json = (r: StreamResult) => {
  const { hist: _hist, ...rest } = r;
  return rest;
};

/** Runs `spec` on both servers, alternating, and returns the aggregate per server. */
async function abStream(rig: Rig, label: string, spec: StreamSpec, kinds = KINDS): Promise<Record<ServerKind, StreamResult>> {
  const runs: Record<ServerKind, StreamResult[]> = { framecast: [], floor: [] };
  for (let rep = 0; rep < reps; rep++) {
    for (const kind of kinds) {
      const r = await runStream(rig, kind, spec);
      runs[kind].push(r);
      say(streamTable([{ label: `${label} #${rep + 1}`, r }]).split('\n')[2]!);
    }
  }
  return Object.fromEntries(kinds.map((k) => [k, aggregate(runs[k])])) as Record<ServerKind, StreamResult>;
}

function compare(a: StreamResult, b: StreamResult): Record<string, string> {
  return {
    'frames/s': ratio(a.framesPerSec, b.framesPerSec),
    'cpu µs/frame': ratio(a.cpuUsPerFrame, b.cpuUsPerFrame),
    p50: ratio(a.p50, b.p50),
    p99: ratio(a.p99, b.p99),
    'peak RSS': ratio(a.peakRss, b.peakRss),
  };
}

const stream = (rooms: number, viewersPerRoom: number, fps: number, extra: Partial<StreamSpec> = {}): StreamSpec => ({
  rooms,
  viewersPerRoom,
  fps,
  bytes: FRAME_BYTES,
  warmupMs: 1500,
  measureMs,
  ...extra,
});

async function main(): Promise<void> {
  const redis = await startTestRedis({ needsControl: true });
  // churn hops between 100 rooms and the camera shape needs 64; the other workloads use the first 8.
  const auth = await privateBenchRooms(redis.url, roomNames(100));
  const rig: Rig = {
    ...auth,
    redisUrl: redis.url,
    publisher: await IpcChild.fork('publisher.ts', { REDIS_URL: redis.url }),
    loadgen: await IpcChild.fork('loadgen.ts', {}),
    // As shipped: the gateway's own flags (its start script), then whatever this run adds.
    gatewayNodeArgs: [
      ...serviceNodeFlags('gateway'),
      ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir=bench/profiles'] : []),
      ...values['gateway-node-args'].split(' ').filter(Boolean),
    ],
    floorNodeArgs: values['floor-node-args'].split(' ').filter(Boolean),
  };
  say(`framecast bench: ${selected.join(', ')}; ${reps} reps A B A B; ${measureMs} ms windows; frames ${FRAME_BYTES / 1024} KB\n`);
  try {
    if (selected.includes('light')) {
      say('## light: 4 rooms × 25 viewers × 15 fps');
      const r = await abStream(rig, 'light', stream(4, 25, 15));
      say(streamTable(KINDS.map((k) => ({ label: 'light', r: r[k] }))));
      const c = compare(r.framecast, r.floor);
      say(`framecast/floor: ${JSON.stringify(c)}\n`);
      results.light = { framecast: json(r.framecast), floor: json(r.floor), ratio: c };
    }

    if (selected.includes('cameras')) {
      // The shape of a camera system: many cameras, a couple of viewers each. Per-frame costs
      // that crowded rooms amortise over many viewers show here.
      say('## cameras: 64 rooms × 2 viewers × 15 fps');
      const r = await abStream(rig, 'cameras', stream(64, 2, 15));
      say(streamTable(KINDS.map((k) => ({ label: 'cameras', r: r[k] }))));
      const c = compare(r.framecast, r.floor);
      say(`framecast/floor: ${JSON.stringify(c)}\n`);
      results.cameras = { framecast: json(r.framecast), floor: json(r.floor), ratio: c };
    }

    if (selected.includes('churn')) {
      // Viewers switching cameras: every viewer leaves its room for another every 2 s, so the
      // server subscribes, unsubscribes and finds first frames all the time.
      const spec: ChurnSpec = {
        rooms: 100,
        viewers: 100,
        hopMs: 2000,
        fps: 15,
        bytes: FRAME_BYTES,
        lastFrameTtlMs: 10_000,
        warmupMs: 3000,
        measureMs: Math.max(measureMs, 10_000),
        settleMs: GATEWAY_LINGER_MS + 1500,
      };
      say(`## churn: ${spec.viewers} viewers hopping between ${spec.rooms} rooms (${spec.fps} fps) every ${spec.hopMs / 1000} s`);
      const runs: ChurnResult[] = [];
      for (let rep = 0; rep < reps; rep++)
        for (const k of KINDS) {
          runs.push(await runChurn(rig, k, spec, 1 + rep));
          say(churnTable([{ label: `churn #${rep + 1}`, r: runs.at(-1)! }]).split('\n')[2]!);
        }
      const agg = Object.fromEntries(KINDS.map((k) => [k, aggregateChurn(runs.filter((r) => r.server === k))])) as Record<ServerKind, ChurnResult>;
      say(churnTable(KINDS.map((k) => ({ label: 'churn', r: agg[k] }))));
      const c = {
        'cpu µs/hop': ratio(agg.framecast.cpuUsPerHop, agg.floor.cpuUsPerHop),
        'cpu µs/frame': ratio(agg.framecast.cpuUsPerFrame, agg.floor.cpuUsPerFrame),
        'first frame p50': ratio(agg.framecast.firstFrameP50, agg.floor.firstFrameP50),
        'first frame p99': ratio(agg.framecast.firstFrameP99, agg.floor.firstFrameP99),
      };
      say(`framecast/floor: ${JSON.stringify(c)}\n`);
      results.churn = { spec, framecast: jsonChurn(agg.framecast), floor: jsonChurn(agg.floor), ratio: c, runs: runs.map(jsonChurn) };
    }

    if (selected.includes('ramp')) {
      say('## ramp: 8 rooms × 30 fps, viewers per room 5 → 200; a server stops at p99 > 250 ms or loss > 1 %');
      const steps: Array<{ perRoom: number; framecast?: StreamResult; floor?: StreamResult }> = [];
      const capacity: Record<ServerKind, number> = { framecast: 0, floor: 0 };
      let alive = [...KINDS];
      for (const perRoom of RAMP_STEPS) {
        if (alive.length === 0) break;
        const r = await abStream(rig, `ramp ${perRoom}/room`, stream(8, perRoom, 30), alive);
        const step: (typeof steps)[number] = { perRoom, ...r };
        steps.push(step);
        for (const k of alive) {
          const ok = r[k].p99 <= RAMP_LIMITS.p99Ms && r[k].lossPct <= RAMP_LIMITS.lossPct;
          if (ok) capacity[k] = perRoom;
        }
        alive = alive.filter((k) => r[k].p99 <= RAMP_LIMITS.p99Ms && r[k].lossPct <= RAMP_LIMITS.lossPct);
      }
      say(streamTable(steps.flatMap((s) => KINDS.filter((k) => s[k]).map((k) => ({ label: `${s.perRoom}/room`, r: s[k]! })))));
      const at100 = steps.find((s) => s.perRoom === 100);
      const capStep = steps.find((s) => s.perRoom === Math.min(capacity.framecast, capacity.floor));
      const summary = {
        capacityViewersPerRoom: capacity,
        cpuPerFrameRatioAt100: at100?.framecast && at100.floor ? ratio(at100.framecast.cpuUsPerFrame, at100.floor.cpuUsPerFrame) : '–',
        p99RatioAtCapacity: capStep?.framecast && capStep.floor ? ratio(capStep.framecast.p99, capStep.floor.p99) : '–',
      };
      say(`capacity (last passing step, viewers/room): framecast ${capacity.framecast}, floor ${capacity.floor}`);
      say(`cpu µs/frame at 100/room framecast/floor: ${summary.cpuPerFrameRatioAt100}; p99 at the common capacity step: ${summary.p99RatioAtCapacity}\n`);
      results.ramp = { steps: steps.map((s) => ({ perRoom: s.perRoom, framecast: s.framecast && json(s.framecast), floor: s.floor && json(s.floor) })), summary };
    }

    if (selected.includes('idle')) {
      say('## idle: 2,000 connected viewers, no frames');
      const rows: IdleResult[] = [];
      for (let rep = 0; rep < reps; rep++) for (const k of KINDS) rows.push(await runIdle(rig, k, 2000));
      say(idleTable(rows));
      const per = (k: ServerKind, at: 'bytesPerViewer' | 'settledBytesPerViewer') => mean(rows.filter((r) => r.server === k).map((r) => r[at]));
      const line = (at: 'bytesPerViewer' | 'settledBytesPerViewer') => `${ratio(per('framecast', at), per('floor', at))} (${Math.round(per('framecast', at))} vs ${Math.round(per('floor', at))})`;
      say(`bytes per idle viewer framecast/floor: 1.5 s after the connects ${line('bytesPerViewer')}, settled (${IDLE_SETTLE_MS / 1000} s) ${line('settledBytesPerViewer')}\n`);
      results.idle = {
        runs: rows,
        bytesPerViewer: { framecast: per('framecast', 'bytesPerViewer'), floor: per('floor', 'bytesPerViewer') },
        ratio: ratio(per('framecast', 'bytesPerViewer'), per('floor', 'bytesPerViewer')),
        settledBytesPerViewer: { framecast: per('framecast', 'settledBytesPerViewer'), floor: per('floor', 'settledBytesPerViewer') },
        settledRatio: ratio(per('framecast', 'settledBytesPerViewer'), per('floor', 'settledBytesPerViewer')),
      };
    }

    if (selected.includes('slow')) {
      say('## slow: 50 viewers at 30 fps, then the same plus one viewer that stops reading (stall timeout 5 s)');
      const env = { FRAMECAST_VIEWER_STALL_TIMEOUT_MS: '5000' };
      // The stalled client's kernel buffers absorb several MB before the server sees any
      // backpressure (~7 s at 0.9 MB/s), so the window must outlast that plus the stall timeout.
      // A long warm-up lets the heap settle, so RSS growth in the window is the slow viewer's.
      const window = { serverEnv: env, warmupMs: 5000, measureMs: Math.max(measureMs, 20_000) };
      const base = await abStream(rig, 'slow: baseline', stream(1, 50, 30, window));
      const slow = await abStream(rig, 'slow: +1 stalled', stream(1, 50, 30, { ...window, slowViewer: true }));
      const rows = KINDS.map((k) => ({
        server: k,
        p99Baseline: base[k].p99,
        p99WithSlow: slow[k].p99,
        p99Effect: ratio(slow[k].p99, base[k].p99),
        rssGrowthMB: slow[k].rssGrowth / 1e6,
        rssGrowthBaselineMB: base[k].rssGrowth / 1e6,
        slowViewerClose: slow[k].slowCloseCode ?? 'still open',
      }));
      for (const r of rows)
        say(`${r.server}: others' p99 ${r.p99Baseline.toFixed(1)} → ${r.p99WithSlow.toFixed(1)} ms (${r.p99Effect}), server RSS growth ${r.rssGrowthMB.toFixed(1)} MB (baseline run ${r.rssGrowthBaselineMB.toFixed(1)} MB), slow viewer: ${r.slowViewerClose}`);
      say('');
      results.slow = rows;
    }

    if (selected.includes('join')) {
      say('## join: 200 sequential joins into a room streaming at 30 fps, connect → first frame');
      const rows: JoinResult[] = [];
      for (let rep = 0; rep < reps; rep++) for (const k of KINDS) rows.push(await runJoins(rig, k, 200, 30, FRAME_BYTES));
      say(joinTable(rows));
      say('');
      results.join = rows;
    }
    if (selected.includes('agent')) {
      say(`## agent: capture agent CPU per published frame, 30 fps 720p (ffmpeg MJPEG passed through, not re-encoded by the agent), read after ${AGENT_WARMUP_MS / 1000} s of publishing`);
      const agentArgs = values['agent-node-args'].split(' ').filter(Boolean);
      const spec = { redisUrl: rig.redisUrl, source: 'ffmpeg:testsrc', size: '1280x720', fps: 30, warmupMs: AGENT_WARMUP_MS, measureMs: Math.max(measureMs, 5000) };
      // The agent against its floor (bench/src/agent-floor.ts: the same ffmpeg command, a bare
      // split and PUBLISH + SET), A B A B like the gateway's workloads; then the in-process encoder.
      const agent: AgentCostResult[] = [];
      const floor: AgentCostResult[] = [];
      for (let rep = 0; rep < reps; rep++) {
        agent.push(await runAgentCost({ ...spec, nodeArgs: agentArgs }));
        floor.push(await runAgentCost({ ...spec, kind: 'floor' }));
      }
      const line = (label: string, r: AgentCostResult) =>
        `${label.padEnd(15)} ${r.publishedPerSec.toFixed(1)} frames/s, ${(r.meanFrameBytes / 1024).toFixed(1)} KB/frame, ${r.agentCpuUsPerFrame.toFixed(0)} µs/frame (${Math.round(r.agentCore * 100)}% core)` +
        (Number.isFinite(r.ffmpegCpuUsPerFrame) ? `, ffmpeg ${r.ffmpegCpuUsPerFrame.toFixed(0)} µs/frame` : ', encoded in-process by sharp');
      agent.forEach((r, i) => say(line(`agent #${i + 1}`, r)));
      floor.forEach((r, i) => say(line(`floor #${i + 1}`, r)));
      const agentUs = mean(agent.map((r) => r.agentCpuUsPerFrame));
      const floorUs = mean(floor.map((r) => r.agentCpuUsPerFrame));
      say(`agent/floor cpu per published frame (ffmpeg:testsrc, 720p): ${ratio(agentUs, floorUs)} (${agentUs.toFixed(0)} vs ${floorUs.toFixed(0)} µs)`);
      const sharp = await runAgentCost({ ...spec, source: 'testsrc', nodeArgs: agentArgs });
      say(line('agent testsrc', sharp));
      say('');
      results.agent = { agent, floor, agentUsPerFrame: agentUs, floorUsPerFrame: floorUs, ratio: ratio(agentUs, floorUs), sharp };
    }
  } finally {
    rig.publisher.kill();
    rig.loadgen.kill();
    await redis.close();
  }
  mkdirSync(new URL(`../${values.out}/`, import.meta.url), { recursive: true });
  const file = new URL(`../${values.out}/bench-${String(results.startedAt).replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify(results, null, 2));
  writeFileSync(new URL(`../${values.out}/latest.json`, import.meta.url), JSON.stringify(results, null, 2));
  say(`results: ${file.pathname}`);
}

await main();
process.exit(0);
