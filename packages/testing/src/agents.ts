import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { EnvelopeError, frameChannel, readHeader } from '@framecast/protocol';
import { startService, type ServiceProcess } from './processes.ts';

export const AGENT_ENTRY = 'services/capture-agent/src/main.ts';

/**
 * Starts the capture agent CLI as its own process, configured by environment like an operator
 * would (`env`, plus CLI `args`). The short form `startAgent(redisUrl, room, source, extra?)` is a
 * test camera for the live path: 15 fps at 320×180 unless `extra` says otherwise.
 */
export function startAgent(env: Record<string, string>, args?: string[]): Promise<ServiceProcess>;
export function startAgent(redisUrl: string, room: string, source: string, extra?: Record<string, string>): Promise<ServiceProcess>;
export function startAgent(
  envOrUrl: Record<string, string> | string,
  argsOrRoom?: string[] | string,
  source?: string,
  extra: Record<string, string> = {},
): Promise<ServiceProcess> {
  let env: Record<string, string>;
  let args: string[] = [];
  if (typeof envOrUrl === 'string') {
    env = { REDIS_URL: envOrUrl, FRAMECAST_ROOM: argsOrRoom as string, FRAMECAST_SOURCE: source!, FRAMECAST_FPS: '15', FRAMECAST_SIZE: '320x180', ...extra };
  } else {
    env = envOrUrl;
    args = (argsOrRoom as string[] | undefined) ?? [];
  }
  return startService(`agent:${env.FRAMECAST_ROOM ?? 'lobby'}`, {
    entry: AGENT_ENTRY,
    env: { LOG_LEVEL: 'info', ...env },
    args,
    readyLine: /"msg":"capture agent started"/,
  });
}

/** Records what was published on a room's channel (sha1 by sequence), as the source of truth for byte identity. */
export class ChannelTap {
  readonly bySequence = new Map<number, string>();
  readonly redis: Redis;
  constructor(url: string, room: string) {
    this.redis = new Redis(url);
    void this.redis.subscribe(frameChannel(room));
    this.redis.on('messageBuffer', (_c: Buffer, msg: Buffer) => {
      const h = readHeader(msg);
      if (!(h instanceof EnvelopeError)) this.bySequence.set(h.sequence, createHash('sha1').update(msg).digest('hex'));
    });
  }
  close(): void {
    this.redis.disconnect();
  }
}

/** Resident set size of a process in bytes, from /proc (NaN if it cannot be read from there). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
