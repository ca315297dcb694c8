// The capacity model's command line (the model and its measured figures: capacity-model.ts;
// what it means: docs/SCALING.md):
//
//   pnpm --filter @framecast/bench capacity -- --cameras 10000 --fps 15 --frame-kb 30 \
//     --viewers 1000000 --zipf 1.0 --gateways-affinity on|off|both
//
// Other options: --gateway-max-viewers 20000 --core-target 0.7 --nic-gbps 25
// --gateway-host-cores 16 --agent-box-cores 8 --encode on|off --replicas 1 --affinity-peak 1, and any measured
// figure by its name in MEASURED (e.g. --gatewayUsPerRedisMessage 138); --json prints JSON;
// --constants lists the measured figures and their sources.
import { parseArgs } from 'node:util';
import { type CapacityInputs, type CapacityPlan, DEFAULT_CONSTANTS, DEFAULT_INPUTS, MEASURED, type ModelConstants, planCapacity, type Routing } from './capacity-model.ts';

const constantOptions = Object.fromEntries(Object.keys(MEASURED).map((k) => [k, { type: 'string' as const }]));
const { values } = parseArgs({
  // pnpm passes the `--` of `pnpm … capacity -- --cameras …` through.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    cameras: { type: 'string' },
    fps: { type: 'string' },
    'frame-kb': { type: 'string' },
    viewers: { type: 'string' },
    zipf: { type: 'string' },
    'gateways-affinity': { type: 'string', default: 'both' },
    'gateway-max-viewers': { type: 'string' },
    'core-target': { type: 'string' },
    'nic-gbps': { type: 'string' },
    'gateway-host-cores': { type: 'string' },
    'agent-box-cores': { type: 'string' },
    encode: { type: 'string' },
    replicas: { type: 'string' },
    'affinity-peak': { type: 'string' },
    json: { type: 'boolean', default: false },
    constants: { type: 'boolean', default: false },
    ...constantOptions,
  },
});

function num(name: string, v: string | boolean | undefined, fallback: number): number {
  if (v === undefined || typeof v === 'boolean') return fallback;
  const n = Number(v.replaceAll('_', '').replaceAll(',', ''));
  if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${v}`);
  return n;
}

function onOff(name: string, v: string | undefined, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (v === 'on' || v === 'off') return v === 'on';
  throw new Error(`--${name}: on or off, got ${v}`);
}

const d = DEFAULT_INPUTS;
const base: Omit<CapacityInputs, 'routing'> = {
  cameras: num('cameras', values.cameras, d.cameras),
  fps: num('fps', values.fps, d.fps),
  frameBytes: num('frame-kb', values['frame-kb'], d.frameBytes / 1000) * 1000,
  viewers: num('viewers', values.viewers, d.viewers),
  zipf: num('zipf', values.zipf, d.zipf),
  gatewayMaxViewers: num('gateway-max-viewers', values['gateway-max-viewers'], d.gatewayMaxViewers),
  coreTarget: num('core-target', values['core-target'], d.coreTarget),
  nicGbps: num('nic-gbps', values['nic-gbps'], d.nicGbps),
  gatewayHostCores: num('gateway-host-cores', values['gateway-host-cores'], d.gatewayHostCores),
  agentBoxCores: num('agent-box-cores', values['agent-box-cores'], d.agentBoxCores),
  encode: onOff('encode', values.encode, d.encode),
  replicasPerShard: num('replicas', values.replicas, d.replicasPerShard),
  affinityPeakToMean: num('affinity-peak', values['affinity-peak'], d.affinityPeakToMean),
};
const constants: ModelConstants = { ...DEFAULT_CONSTANTS };
const given = values as Record<string, string | boolean | undefined>;
for (const k of Object.keys(MEASURED) as Array<keyof ModelConstants>) constants[k] = num(k, given[k], DEFAULT_CONSTANTS[k]);

const affinity = values['gateways-affinity'];
const routings: Routing[] = affinity === 'on' ? ['affinity'] : affinity === 'off' ? ['random'] : affinity === 'both' ? ['random', 'affinity'] : [];
if (!routings.length) throw new Error(`--gateways-affinity: on, off or both, got ${affinity}`);

if (values.constants) {
  for (const [k, m] of Object.entries(MEASURED)) console.log(`${k} = ${constants[k as keyof ModelConstants]} ${m.unit}\n    ${m.source}\n`);
  process.exit(0);
}

const plans = routings.map((routing) => planCapacity({ ...base, routing }, constants));
if (values.json) {
  console.log(JSON.stringify({ inputs: base, constants, plans }, null, 2));
  process.exit(0);
}

const n0 = (n: number) => Math.round(n).toLocaleString('en-US');
const n1 = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const n2 = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
/** A rate given in GB/s, shown in the unit that keeps it readable from one box to a fleet. */
const bw = (gb: number) => (gb >= 1 ? `${n2(gb)} GB/s` : gb >= 0.001 ? `${n1(gb * 1000)} MB/s` : `${n1(gb * 1e6)} KB/s`);
const cores = (n: number) => (n >= 10 ? n0(n) : n >= 0.1 || n === 0 ? n2(n) : n.toFixed(3));
const rows: Array<[string, (p: CapacityPlan) => string]> = [
  ['rooms watched (expected)', (p) => n0(p.watchedRooms)],
  ['gateways (processes, 1 core each)', (p) => n0(p.gateways)],
  ['  viewers per gateway', (p) => n0(p.viewersPerGateway)],
  ['  rooms subscribed per gateway', (p) => n1(p.roomsPerGateway)],
  ['  CPU of the busiest gateway (core share)', (p) => n2(p.gatewayCore)],
  ['gateway cores (provisioned / used)', (p) => `${n0(p.gatewayCores)} / ${cores(p.gatewayCoresUsed)}`],
  ['gateway memory GB', (p) => n1(p.gatewayMemoryGB)],
  ['gateway hosts', (p) => n0(p.gatewayHosts)],
  ['room subscriptions (room × gateway)', (p) => n0(p.subscriptions)],
  ['Redis frames in /s', (p) => n0(p.redis.framesInPerSec)],
  ['Redis ingress (PUBLISH + SET)', (p) => bw(p.redis.ingressGBps)],
  ['Redis egress to gateways', (p) => bw(p.redis.egressGBps)],
  ['Redis egress to replicas', (p) => bw(p.redis.replicationGBps)],
  ['Redis CPU cores (ingress / egress)', (p) => `${cores(p.redis.ingressCores)} / ${cores(p.redis.egressCores)}`],
  ['Redis shards: ingress-bound', (p) => n0(p.redis.shardsIngressBound)],
  ['Redis shards: egress-bound', (p) => n0(p.redis.shardsEgressBound)],
  ['Redis shards needed', (p) => n0(p.redis.shards)],
  ['hottest room egress (one shard: max)', (p) => `${bw(p.redis.hottestRoomEgressGBps)} (${bw(p.redis.shardEgressCapacityGBps)})`],
  ['Redis memory for last frames', (p) => (p.redis.lastFramesMemoryGB >= 1 ? `${n2(p.redis.lastFramesMemoryGB)} GB` : `${n1(p.redis.lastFramesMemoryGB * 1000)} MB`)],
  ['viewer-facing bandwidth', (p) => `${bw(p.viewerBandwidthGBps)} (${p.viewerBandwidthGbps >= 10 ? n0(p.viewerBandwidthGbps) : n2(p.viewerBandwidthGbps)} Gbit/s)`],
  ['agent cores (agent / ffmpeg encode)', (p) => `${cores(p.agents.agentCores)} / ${cores(p.agents.encoderCores)}`],
  ['camera boxes', (p) => n0(p.agents.boxes)],
];
const head = ['', ...plans.map((p) => (p.routing === 'random' ? 'random routing' : 'room affinity'))];
const table = [head, ...rows.map(([label, f]) => [label, ...plans.map(f)])];
const widths = head.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
console.log(
  `${n0(base.cameras)} cameras × ${base.fps} fps × ${n0(base.frameBytes / 1000)} KB, ${n0(base.viewers)} viewers, Zipf ${base.zipf}; ` +
    `gateway ≤ ${n0(base.gatewayMaxViewers)} viewers and ${base.coreTarget} core, ${base.nicGbps} Gbit/s NICs, ${base.replicasPerShard} replica(s) per shard` +
    (routings.includes('affinity') ? `, affinity peak/mean ${base.affinityPeakToMean}` : ''),
);
for (const [i, r] of table.entries()) {
  console.log(r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
for (const p of plans) for (const w of p.warnings) console.log(`warning (${p.routing}): ${w}`);
