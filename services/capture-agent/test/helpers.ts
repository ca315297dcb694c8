import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { decodeEnvelope, frameChannel, nowMicros, type FrameHeader } from '@framecast/protocol';
import { startService, type ServiceProcess } from '@framecast/testing';

export const AGENT_ENTRY = 'services/capture-agent/src/main.ts';

export interface ReceivedEnvelope {
  header: FrameHeader;
  payload: Buffer;
  receivedUs: number;
}

/** Starts the agent CLI as its own process, configured by environment like an operator would. */
export function startAgent(env: Record<string, string>, args: string[] = []): Promise<ServiceProcess> {
  return startService(`agent:${env.FRAMECAST_ROOM ?? 'lobby'}`, {
    entry: AGENT_ENTRY,
    env: { LOG_LEVEL: 'info', ...env },
    args,
    readyLine: /"msg":"capture agent started"/,
  });
}

/**
 * Subscribes to a room's channel on a real Redis (binary-safe `messageBuffer`) and keeps every
 * envelope. It reconnects every 50 ms while Redis is away, so an outage test measures the
 * agent's recovery, not this subscriber's backoff.
 */
export class FrameTap {
  readonly frames: ReceivedEnvelope[] = [];
  readonly redis: Redis;
  readonly ready: Promise<unknown>;

  constructor(url: string, room: string) {
    this.redis = new Redis(url, { retryStrategy: () => 50, maxRetriesPerRequest: null });
    this.redis.on('error', () => {});
    this.redis.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
      const { header, payload } = decodeEnvelope(message);
      this.frames.push({ header, payload: Buffer.from(payload), receivedUs: nowMicros() });
    });
    this.ready = this.redis.subscribe(frameChannel(room));
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** Resident set size of a process, from /proc. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Pids of the direct children of `pid` whose command name is `comm`, from /proc. */
export function childPids(pid: number, comm: string): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    for (const c of children.split(/\s+/).filter(Boolean).map(Number)) {
      if (processName(c) === comm) out.push(c);
    }
  }
  return out;
}

export function processName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped) still answers signal 0; it is not running.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Structured pino lines of a service whose msg matches. */
export function logLines(svc: ServiceProcess, msg: string): Array<Record<string, unknown>> {
  return svc.lines.filter((l) => l.startsWith('{') && l.includes(`"msg":"${msg}`)).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** GETs a path of the agent's metrics/health endpoint. */
export async function getEndpoint(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

/** The value of one sample in Prometheus text, e.g. metric(text, 'x_total', { camera: 'a' }); NaN if absent. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const have = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[2]);
  }
  return NaN;
}
