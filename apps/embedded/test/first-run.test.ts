import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT, startTestRedis, TestViewer, waitFor, type TestRedis } from '@framecast/testing';

// Issue 9 item 7: what a first-time user runs — `pnpm start` and the README's separate-services
// block — behaves: signals reach the service, exit codes are the service's, nothing is left behind.

/** The environment a user's shell would have: none of this test run's FRAMECAST_* or REDIS_URL. */
function userEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('FRAMECAST_') && k !== 'REDIS_URL' && k !== 'PORT') env[k] = v;
  return { ...env, ...extra };
}

interface Run {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | string>;
}

/** Runs a command in its own process group (as a terminal runs a foreground job). */
function run(cmd: string, args: string[], env: Record<string, string>): Run {
  const proc = spawn(cmd, args, { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  return { proc, output: () => out, exited };
}

/** Live (not zombie) processes of a process group, read from /proc. */
function liveInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

const started: Run[] = [];
afterAll(() => {
  // Whatever a failed test left running: its whole process group.
  for (const r of started) {
    try {
      process.kill(-r.proc.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('pnpm start', () => {
  async function startPnpm(): Promise<{ r: Run; port: number }> {
    const port = await freePort();
    const r = run('pnpm', ['start'], userEnv({ PORT: String(port), HOST: '127.0.0.1' }));
    started.push(r);
    await waitFor('the embedded runner to answer', () => answers(`http://127.0.0.1:${port}/healthz`), 60_000, 100);
    return { r, port };
  }

  it('SIGTERM to pnpm stops the service: exit 0, port free, no process left, no pnpm error text', async () => {
    const { r, port } = await startPnpm();
    process.kill(r.proc.pid!, 'SIGTERM');
    expect(await r.exited).toBe(0);
    expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBe(false);
    await waitFor('no process left in the group', () => liveInGroup(r.proc.pid!).length === 0, 10_000);
    expect(r.output()).toContain('framecast is running');
    expect(r.output()).not.toMatch(/ERR_PNPM|ELIFECYCLE/);
  });

  it('Ctrl-C (SIGINT to the foreground process group) stops it the same way', async () => {
    const { r, port } = await startPnpm();
    process.kill(-r.proc.pid!, 'SIGINT');
    expect(await r.exited).toBe(0);
    expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBe(false);
    await waitFor('no process left in the group', () => liveInGroup(r.proc.pid!).length === 0, 10_000);
    expect(r.output()).not.toMatch(/ERR_PNPM|ELIFECYCLE/);
  });

  it.each([
    ['pnpm start', 'pnpm', ['start'], /^framecast: invalid configuration: PORT: must be an integer/m],
    ['pnpm -C services/gateway start', 'pnpm', ['-C', 'services/gateway', 'start'], /^framecast-gateway: invalid configuration: PORT: must be an integer/m],
    ['node services/registry/bin/framecast-registry.js', process.execPath, ['services/registry/bin/framecast-registry.js'], /^framecast-registry: invalid configuration: PORT/m],
  ])('a bad variable exits 2 with one line naming it: %s', async (_name, cmd, args, line) => {
    const r = run(cmd, args, userEnv({ PORT: 'eighty', REDIS_URL: 'redis://127.0.0.1:1' }));
    started.push(r);
    expect(await r.exited).toBe(2);
    expect(r.output()).toMatch(line);
    expect(r.output()).not.toMatch(/ERR_PNPM|\n\s+at /); // no pnpm failure text, no stack trace
  });
});

describe("README's separate-services block", () => {
  let redis: TestRedis;
  let logDir: string;
  beforeAll(async () => {
    redis = await startTestRedis({ needsControl: true }); // a private one: the block flushes nothing, but it makes rooms
    logDir = mkdtempSync(join(tmpdir(), 'framecast-readme-'));
  });
  afterAll(async () => {
    await redis?.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('runs pasted into bash: services up, keys shown, a private room watchable with the printed token, all stopped by the printed command', async () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = /<!-- separate-services:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- separate-services:end -->/.exec(readme);
    expect(section, 'README has the marked block').not.toBeNull();
    const block = section![1]!;
    const ports = { REGISTRY_PORT: await freePort(), GATEWAY_PORT: await freePort(), AGENT_METRICS_PORT: await freePort() };
    const r = run('bash', ['-c', block], userEnv({ REDIS_URL: redis.url, LOG_DIR: logDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) }));
    started.push(r);
    expect(await r.exited, r.output()).toBe(0);
    const out = r.output();

    const adminKey = /^admin key: ([0-9a-f]{32})$/m.exec(out)?.[1];
    const agentKey = /^agent key: (\S+)$/m.exec(out)?.[1];
    expect(adminKey, out).toBeDefined();
    expect(agentKey, out).toBeDefined();
    expect(out).toMatch(/^optional Redis ACL line: ACL SETUSER framecast-agent-\S+ reset on #[0-9a-f]{64} %W~video_lobby:last %W~video_lobby~\*:last %W~\{video_lobby\}:last %W~\{video_lobby~\*\}:last &video_lobby &video_lobby~\* /m);
    const pids = /^pids: registry (\d+), gateway (\d+), agent (\d+)$/m.exec(out)!.slice(1).map(Number);
    const watch = /^watch: (http:\/\/localhost:(\d+)\/rooms\/lobby#token=(\S+))$/m.exec(out);
    expect(watch, out).not.toBeNull();
    expect(Number(watch![2])).toBe(ports.GATEWAY_PORT);
    const token = watch![3]!;
    const stop = /^stop them all: (kill [\d ]+)$/m.exec(out)?.[1];
    expect(stop).toBe(`kill ${pids[2]} ${pids[1]} ${pids[0]}`);
    for (const pid of pids) expect(alive(pid), `pid ${pid} running`).toBe(true);

    // The gateway says where its viewer page is.
    expect(readFileSync(join(logDir, 'gateway.log'), 'utf8')).toContain(`viewer page: http://localhost:${ports.GATEWAY_PORT}/rooms/<room>`);

    // The token printed opens the private room (as the viewer page presents it); nothing else does.
    const ws = `ws://127.0.0.1:${ports.GATEWAY_PORT}/ws/video/lobby`;
    const viewer = new TestViewer(ws, { protocols: ['framecast.v1', `framecast.token.${token}`] });
    await waitFor('frames with the printed token', () => viewer.frames.length >= 5, 30_000);
    expect(viewer.frames.at(-1)!.bytes).toBeGreaterThan(1000);
    viewer.close();
    const stranger = new TestViewer(ws, { protocols: ['framecast.v1'] });
    expect(await stranger.closed).toBe(4401);

    // The registry knows the camera (the agent heartbeats with the agent key).
    await waitFor('lobby live in the registry', async () => {
      const res = await fetch(`http://127.0.0.1:${ports.REGISTRY_PORT}/api/rooms`, { headers: { authorization: `Bearer ${adminKey}` } });
      const { rooms } = (await res.json()) as { rooms: Array<{ name: string; live: boolean; visibility: string; cameras: Array<{ agentId: string }> }> };
      const lobby = rooms.find((x) => x.name === 'lobby');
      return lobby?.live && lobby.visibility === 'private' && lobby.cameras[0]?.agentId === 'box-1';
    }, 15_000);
    expect((await fetch(`http://127.0.0.1:${ports.AGENT_METRICS_PORT}/healthz`)).status).toBe(200);

    // The printed stop command stops everything: every PID gone, nothing left in the group, ports free.
    const stopping = run('bash', ['-c', stop!], userEnv({}));
    expect(await stopping.exited).toBe(0);
    await waitFor('every service exited', () => pids.every((pid) => !alive(pid)), 20_000);
    await waitFor('no process left in the group', () => liveInGroup(r.proc.pid!).length === 0, 10_000);
    for (const port of Object.values(ports)) expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBe(false);
    for (const name of ['registry', 'gateway', 'agent']) expect(readFileSync(join(logDir, `${name}.log`), 'utf8'), name).toMatch(/ stopped"/);
  });
});
