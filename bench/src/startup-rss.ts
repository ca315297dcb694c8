// Start-up time and idle RSS of the gateway and the capture agent, started as shipped (their
// bin/ entry points) against a private redis-server:
//
//   node bench/src/startup-rss.ts [--runs 3] [--idle-ms 10000] [--json FILE]
//   pnpm --filter @framecast/bench startup           (the same)
//
// start-up: from spawn to the service's "I am up" log line ('gateway listening',
// 'capture agent started'); RSS: /proc/<pid>/status VmRSS after idling --idle-ms (the agent
// streams a 640x360 15 fps test pattern meanwhile: idle means no viewer, not no work).
// --cache warm (default): Node's compile cache filled first by `--version`, as the image does at
// build time and any start after the first finds it; --cache cold: an empty cache directory for
// every run (a first start: Node loads its TypeScript stripper and compiles every module).
// Prints each run and the median of each figure; the results in docs/PERFORMANCE.md.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { freePort, REPO_ROOT, serviceNodeFlags, sleep, startTestRedis } from '@framecast/testing';
import { rssBytes } from './proc-stats.ts';

interface Subject {
  name: string;
  bin: string;
  args: string[];
  ready: RegExp;
  env: (port: number) => Record<string, string>;
}

interface Run {
  service: string;
  startupMs: number;
  rssMb: number;
}

const SUBJECTS: Subject[] = [
  {
    name: 'gateway',
    bin: 'services/gateway/bin/framecast-gateway.js',
    args: [],
    ready: /gateway listening/,
    env: (port) => ({ PORT: String(port), HOST: '127.0.0.1', FRAMECAST_AUTH: 'off' }),
  },
  {
    name: 'capture-agent',
    bin: 'services/capture-agent/bin/framecast-agent.js',
    args: ['--room', 'startup', '--source', 'testsrc'],
    ready: /capture agent started/,
    env: (port) => ({ FRAMECAST_METRICS_PORT: String(port), FRAMECAST_METRICS_HOST: '127.0.0.1' }),
  },
];

const { values } = parseArgs({
  options: { cache: { type: 'string', default: 'warm' }, runs: { type: 'string', default: '3' }, 'idle-ms': { type: 'string', default: '10000' }, json: { type: 'string' } },
});
const runs = Number(values.runs);
const idleMs = Number(values['idle-ms']);
if (values.cache !== 'warm' && values.cache !== 'cold') throw new Error('--cache is warm or cold');
const cold = values.cache === 'cold';

async function measure(subject: Subject, redisUrl: string): Promise<Run> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('FRAMECAST_') && k !== 'REDIS_URL') env[k] = v;
  Object.assign(env, { REDIS_URL: redisUrl, LOG_LEVEL: 'info' }, subject.env(await freePort()));
  const cacheDir = mkdtempSync(join(tmpdir(), 'framecast-compile-'));
  env.NODE_COMPILE_CACHE = cacheDir;
  const flags = serviceNodeFlags(subject.name as 'gateway' | 'capture-agent');
  if (!cold) spawnSync(process.execPath, [...flags, subject.bin, '--version'], { cwd: REPO_ROOT, env, stdio: 'ignore' });
  const t0 = performance.now();
  // The node flags the service ships with (its `start` script; a bin's #! line is not read when node runs the file).
  const proc = spawn(process.execPath, [...flags, subject.bin, ...subject.args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.once('exit', () => rmSync(cacheDir, { recursive: true, force: true }));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  const tail: string[] = [];
  let onReady: (ms: number) => void = () => {};
  const ready = new Promise<number>((resolve) => (onReady = resolve));
  const onLine = (line: string) => {
    if (subject.ready.test(line)) onReady(performance.now() - t0);
    tail.push(line);
    if (tail.length > 10) tail.shift();
  };
  createInterface({ input: proc.stdout }).on('line', onLine);
  createInterface({ input: proc.stderr }).on('line', onLine);
  try {
    const startupMs = await Promise.race([
      ready,
      exited.then((code) => Promise.reject(new Error(`${subject.name} exited (${code}):\n${tail.join('\n')}`))),
      sleep(30_000).then(() => Promise.reject(new Error(`${subject.name}: not up within 30 s:\n${tail.join('\n')}`))),
    ]);
    await sleep(idleMs);
    if (proc.exitCode !== null) throw new Error(`${subject.name} exited while idle:\n${tail.join('\n')}`);
    return { service: subject.name, startupMs, rssMb: rssBytes(proc.pid!) / 2 ** 20 };
  } finally {
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const redis = await startTestRedis({ needsControl: true });
const results: Run[] = [];
try {
  console.log(`node ${process.version}, ${runs} runs, RSS after ${idleMs} ms idle, compile cache ${values.cache}`);
  for (const subject of SUBJECTS) {
    for (let i = 0; i < runs; i++) {
      const r = await measure(subject, redis.url);
      results.push(r);
      console.log(`${r.service.padEnd(14)} run ${i + 1}: start-up ${r.startupMs.toFixed(0).padStart(5)} ms, RSS ${r.rssMb.toFixed(1)} MB`);
    }
  }
} finally {
  await redis.close();
}
const summary = SUBJECTS.map((s) => {
  const mine = results.filter((r) => r.service === s.name);
  return { service: s.name, startupMs: Math.round(median(mine.map((r) => r.startupMs))), rssMb: Number(median(mine.map((r) => r.rssMb)).toFixed(1)) };
});
console.log('\nmedian:');
for (const s of summary) console.log(`${s.service.padEnd(14)} start-up ${String(s.startupMs).padStart(5)} ms, RSS ${s.rssMb} MB`);
if (values.json) writeFileSync(values.json, `${JSON.stringify({ node: process.version, runs, idleMs, cache: values.cache, results, summary }, null, 2)}\n`);
