import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { serviceEntry, serviceNodeFlags } from '@framecast/testing';
import { cpuMicros } from './proc-stats.ts';
import { encodeOutput, testsrcInput } from '../../services/capture-agent/src/sources/ffmpeg/ffmpeg-args.ts';

/** The agent's ffmpeg command for FRAMECAST_SOURCE=ffmpeg:testsrc at its default quality (80). */
function floorFfmpegArgs(width: number, height: number, fps: number): string[] {
  const output = { width, height, fps, quality: 80 };
  return ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'warning', ...testsrcInput(output), ...encodeOutput(output)];
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface AgentCostResult {
  source: string;
  size: string;
  fps: number;
  published: number;
  publishedPerSec: number;
  agentCpuUsPerFrame: number;
  agentCore: number;
  ffmpegCpuUsPerFrame: number;
  meanFrameBytes: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Children of a process, from /proc (to find the agent's ffmpeg). */
async function childPids(pid: number): Promise<number[]> {
  const { readFileSync } = await import('node:fs');
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export interface AgentCostSpec {
  redisUrl: string;
  /** FRAMECAST_SOURCE for the agent (the floor always runs the ffmpeg:testsrc command). */
  source: string;
  /** WxH */
  size: string;
  fps: number;
  /**
   * Publishing this long before the window opens. A process's first ~10 s cost ~40 % more per
   * frame than its steady state (first touches of heap pages, each a page fault, and JIT
   * compilation: the floor measured 1.16–1.35 ms/frame from 3 s, 0.65–0.81 ms from 20 s), and a camera
   * box runs for days: the steady state is the figure that matters.
   */
  warmupMs: number;
  measureMs: number;
  /** Extra node flags for the agent (not the floor). */
  nodeArgs?: string[];
  kind?: 'agent' | 'floor';
}

/**
 * The capture agent's own cost per published frame: the CLI as shipped, publishing to the
 * bench's Redis, measured from /proc over a window. ffmpeg's CPU (the encoder) is reported
 * apart: the agent's share is split → envelope → PUBLISH.
 */
export async function runAgentCost(spec: AgentCostSpec): Promise<AgentCostResult> {
  const { redisUrl, source, size, fps, warmupMs, measureMs, nodeArgs = [], kind = 'agent' } = spec;
  const room = 'agentcost';
  const [width, height] = size.split('x').map(Number) as [number, number];
  // The agent as shipped (the flags of its start script) plus what this run adds; or the bare
  // floor (bench/src/agent-floor.ts) running the very ffmpeg command the agent runs for
  // ffmpeg:testsrc, with Node's defaults.
  const proc =
    kind === 'agent'
      ? spawn(process.execPath, [...serviceNodeFlags('capture-agent'), ...nodeArgs, serviceEntry('capture-agent')], {
          cwd: REPO_ROOT,
          env: { ...process.env, REDIS_URL: redisUrl, FRAMECAST_ROOM: room, FRAMECAST_SOURCE: source, FRAMECAST_SIZE: size, FRAMECAST_FPS: String(fps), LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'ignore', 'inherit'],
        })
      : spawn(process.execPath, ['bench/src/agent-floor.ts', redisUrl, room, ...floorFfmpegArgs(width, height, fps)], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const sub = new Redis(redisUrl);
  let published = 0;
  let bytes = 0;
  sub.on('messageBuffer', (_c: Buffer, m: Buffer) => {
    published++;
    bytes += m.length;
  });
  await sub.subscribe(`video_${room}`);
  try {
    const deadline = Date.now() + 20_000;
    while (published < fps * 2) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`agent (${source}) published nothing`);
      await sleep(100);
    }
    await sleep(warmupMs);
    const children = await childPids(proc.pid!);
    const cpu0 = cpuMicros(proc.pid!);
    const ff0 = children.reduce((a, p) => a + cpuMicros(p), 0);
    const n0 = published;
    const b0 = bytes;
    const t0 = performance.now();
    await sleep(measureMs);
    const wallUs = (performance.now() - t0) * 1000;
    const agentUs = cpuMicros(proc.pid!) - cpu0;
    const ffUs = children.reduce((a, p) => a + cpuMicros(p), 0) - ff0;
    const n = published - n0;
    return {
      source,
      size,
      fps,
      published: n,
      publishedPerSec: (n * 1e6) / wallUs,
      agentCpuUsPerFrame: agentUs / n,
      agentCore: agentUs / wallUs,
      ffmpegCpuUsPerFrame: children.length ? ffUs / n : NaN,
      meanFrameBytes: (bytes - b0) / n,
    };
  } finally {
    sub.disconnect();
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}
