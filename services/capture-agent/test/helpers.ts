import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { decodeEnvelope, frameChannel, nowMicros, type FrameHeader } from '@framecast/protocol';
import { type ServiceProcess } from '@framecast/testing';

// One copy of each, in @framecast/testing; re-exported for this service's tests.
export { AGENT_ENTRY, metricValue, rssOf, scrapeMetric, startAgent } from '@framecast/testing';

export interface ReceivedEnvelope {
  header: FrameHeader;
  payload: Buffer;
  receivedUs: number;
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
