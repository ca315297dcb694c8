import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startService, startTestRedis, stopAllServices, type TestRedis } from '@framecast/testing';

// runService is how all four entry points start; these are the behaviours only a process shows,
// checked on each of them: a taken port is one line and exit 2 (not a stack trace), SIGTERM is a
// clean stop with the "stopped" line.

let redis: TestRedis;
let blocker: Server;
let takenPort: number;

beforeAll(async () => {
  redis = await startTestRedis();
  takenPort = await freePort();
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(takenPort, '127.0.0.1', resolve));
});
afterAll(async () => {
  await stopAllServices();
  blocker?.close();
  await redis?.close();
});

const SECRETS = { FRAMECAST_ADMIN_KEY: 'test-admin-key-0123456789', FRAMECAST_TOKEN_SECRET: 'x'.repeat(32) };

interface Entry {
  name: string;
  entry: string;
  command: string;
  env: (port: number) => Record<string, string>;
  readyLine: RegExp;
  stoppedLine: string;
  hint: string;
}

const entries: Entry[] = [
  {
    name: 'gateway',
    entry: 'services/gateway/src/main.ts',
    command: 'framecast-gateway',
    env: (port) => ({ REDIS_URL: redis.url, HOST: '127.0.0.1', PORT: String(port), FRAMECAST_TOKEN_SECRET: SECRETS.FRAMECAST_TOKEN_SECRET }),
    readyLine: /"msg":"gateway listening/,
    stoppedLine: '"msg":"gateway stopped"',
    hint: 'PORT',
  },
  {
    name: 'registry',
    entry: 'services/registry/src/main.ts',
    command: 'framecast-registry',
    env: (port) => ({ REDIS_URL: redis.url, HOST: '127.0.0.1', PORT: String(port), ...SECRETS }),
    readyLine: /"msg":"registry listening/,
    stoppedLine: '"msg":"registry stopped"',
    hint: 'PORT',
  },
  {
    name: 'capture agent',
    entry: 'services/capture-agent/src/main.ts',
    command: 'framecast-agent',
    env: (port) => ({ REDIS_URL: redis.url, FRAMECAST_ROOM: 'lifecycle', FRAMECAST_SOURCE: 'testsrc', FRAMECAST_METRICS_HOST: '127.0.0.1', FRAMECAST_METRICS_PORT: String(port) }),
    readyLine: /"msg":"capture agent started"/,
    stoppedLine: '"msg":"capture agent stopped"',
    hint: 'FRAMECAST_METRICS_PORT',
  },
  {
    name: 'embedded',
    entry: 'apps/embedded/src/main.ts',
    command: 'framecast',
    env: (port) => ({ HOST: '127.0.0.1', PORT: String(port) }),
    readyLine: /"msg":"framecast embedded running"/,
    stoppedLine: '"msg":"framecast stopped"',
    hint: 'PORT',
  },
];

describe.each(entries)('$name', (e) => {
  it('a taken port: exits 2 with one line naming the address and the variable', async () => {
    const svc = await startService(`${e.name}-taken`, { entry: e.entry, env: e.env(takenPort) });
    expect(await svc.exited).toBe(2);
    const line = svc.lines.find((l) => l.includes('cannot listen'));
    expect(line, svc.lines.join('\n')).toMatch(new RegExp(`^${e.command}: cannot listen on 127\\.0\\.0\\.1:${takenPort}: .*EADDRINUSE.*\\(.*${e.hint}`));
    expect(svc.lines.some((l) => /^\s+at /.test(l)), 'no stack trace').toBe(false);
  });

  it('SIGTERM: a clean stop, logged, exit 0', async () => {
    const svc = await startService(e.name, { entry: e.entry, env: e.env(await freePort()), readyLine: e.readyLine });
    svc.proc.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
    expect(svc.lines.some((l) => l.includes(e.stoppedLine)), svc.lines.join('\n')).toBe(true);
  });
});
