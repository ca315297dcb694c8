import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryKeys } from '@framecast/protocol';
import { freePort, startAgent, startService, stopAllServices, TestViewer, waitFor, type ServiceProcess } from '@framecast/testing';
import {
  AGENT_ACL_SCRIPT,
  BOOTSTRAP_SCRIPT,
  composeConfig,
  ENV_EXAMPLE,
  filledExample,
  NGINX_CONF,
  onPath,
  parseEnvFile,
  REDIS_START_SCRIPT,
  run,
  type ComposeConfig,
  type RunResult,
} from './deploy-files.ts';

// docker-compose.yml's stack without containers: each compose service runs as a process on
// loopback with the environment `docker-compose config` gives it (only addresses changed), in the
// order compose starts them:
//   redis      deploy/k8s/redis/start-redis.sh (AOF and the ACL file in a data directory)
//   registry, two gateways
//   proxy      nginx with deploy/proxy/nginx.conf (addresses rewritten, see nginxConfig)
//   bootstrap  node deploy/compose/bootstrap.ts: room demo public, an agent key, agent.env/.acl
//   redis-acl  sh deploy/compose/apply-agent-acl.sh: the key's Redis user, saved to the ACL file
//   agent      ffmpeg:testsrc with agent.env sourced, publishing as the key's own Redis user
// Then what `docker compose up` promises: through the proxy the demo room is listed, live and
// watched over websockets on both gateways; /api goes to the registry; bootstrap runs again
// without changing anything; and after a Redis restart the room and the agent's Redis user are
// still there (AOF, ACL file), so frames flow again.

let dir = '';
let compose: ComposeConfig;
let redisPort = 0;
let redisProc: ChildProcess | null = null;
/** Every Redis this file started (a restored backup too), killed in afterAll if still running. */
const extraProcs = new Set<ChildProcess>();
let nginxProc: ChildProcess | null = null;
let proxyPort = 0;
let registry: ServiceProcess & { port: number };
const gateways: Array<ServiceProcess & { port: number }> = [];
let agent: ServiceProcess;
let bootstrapRun: RunResult;
const viewers: TestViewer[] = [];

const serviceEnv = (name: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(compose.services[name]!.environment ?? {})) if (v !== null) out[k] = v;
  return out;
};
/** Compose's redis://…@redis:6379 pointed at this test's Redis. */
const localRedis = (url: string) => url.replace('@redis:6379', `@127.0.0.1:${redisPort}`);

/** Redis the way the compose file and the StatefulSet start it, on loopback, its data in `dataDir`. */
async function startRedisOn(port: number, dataDir: string): Promise<ChildProcess> {
  const p = spawn('sh', [REDIS_START_SCRIPT, '--port', String(port), '--bind', '127.0.0.1', '--loglevel', 'warning'], {
    env: { PATH: process.env.PATH, REDIS_PASSWORD: serviceEnv('redis').REDIS_PASSWORD, REDIS_DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  extraProcs.add(p);
  await untilExit(p, 'start-redis.sh', waitFor('redis (start-redis.sh)', () => authPing(port, serviceEnv('redis').REDIS_PASSWORD!), 10_000, 25));
  return p;
}

async function startRedis(): Promise<void> {
  redisProc = await startRedisOn(redisPort, join(dir, 'redis-data'));
}

/** redis-cli as the default user (REDISCLI_AUTH keeps the password out of the process list). */
const redisCli = (port: number, ...args: string[]) =>
  run('redis-cli', ['-p', String(port), ...args], { env: { PATH: process.env.PATH, REDISCLI_AUTH: serviceEnv('redis').REDIS_PASSWORD } });

/** AUTH (the default user, or `user`), then PING, over a raw socket: whether that Redis answers PONG. */
function authPing(port: number, password: string, user?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let got = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write(`AUTH ${user ? `${user} ` : ''}${password}\r\nPING\r\n`));
    sock.on('data', (d) => {
      got += d.toString();
      if (got.includes('+PONG')) done(true);
      else if (got.startsWith('-')) done(false);
    });
  });
}

/** `ready`, unless `p` exits first: then an error saying so at once, not when `ready` times out. */
function untilExit<T>(p: ChildProcess, what: string, ready: Promise<T>, output = () => ''): Promise<T> {
  let onExit: (code: number | null) => void = () => {};
  const exited = new Promise<never>((_resolve, reject) => {
    onExit = (code) => reject(new Error(`${what} exited (${code}) before it was ready ${output()}`));
    p.once('exit', onExit);
  });
  return Promise.race([ready, exited]).finally(() => p.off('exit', onExit));
}

async function stopRedis(): Promise<void> {
  const p = redisProc;
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM'); // Redis flushes the AOF and exits.
  await exited;
  redisProc = null;
}

/**
 * deploy/proxy/nginx.conf with only addresses changed: the gateway upstream's one name becomes
 * both gateways' addresses (compose's DNS answers the name with every replica), the registry's
 * name its address, the listen port a free one, and /tmp a directory of the test's.
 */
function nginxConfig(): string {
  const text = readFileSync(NGINX_CONF, 'utf8');
  const out = text
    .replace(/^(\s*)server gateway:8080 ([^;]*);.*$/m, (_l, indent: string, params: string) => gateways.map((g) => `${indent}server 127.0.0.1:${g.port} ${params};`).join('\n'))
    .replace(/server registry:8081 /, `server 127.0.0.1:${registry.port} `)
    .replace(/^(\s*)listen 8080;/m, `$1listen 127.0.0.1:${proxyPort};`)
    .replaceAll('/tmp/', `${dir}/`);
  expect(out).not.toMatch(/\b(gateway|registry):80|listen 8080;/);
  expect(out).toContain(`pid ${dir}/nginx.pid;`);
  return out;
}

async function startNginx(): Promise<void> {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig());
  // Its access log goes to /dev/stdout, which must be a file or pipe (not a socket) to open.
  const out = openSync(join(dir, 'nginx.access.log'), 'w');
  const p = spawn('nginx', ['-p', `${dir}/`, '-c', conf, '-e', 'stderr', '-g', 'daemon off;'], { stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  nginxProc = p;
  let stderr = '';
  p.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const answering = waitFor('nginx answering', async () => (await fetch(`http://127.0.0.1:${proxyPort}/healthz`).catch(() => null))?.status === 200, 10_000, 50);
  await untilExit(p, 'nginx', answering, () => stderr);
}

function runBootstrap(): Promise<RunResult> {
  return run(process.execPath, [BOOTSTRAP_SCRIPT], {
    env: {
      PATH: process.env.PATH,
      ...serviceEnv('bootstrap'),
      FRAMECAST_REGISTRY_URL: `http://127.0.0.1:${registry.port}`,
      FRAMECAST_STATE_DIR: join(dir, 'state'),
      FRAMECAST_AGENT_REDIS_ADDRESS: `127.0.0.1:${redisPort}`,
    },
    timeoutMs: 30_000,
  });
}

const viaProxy = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${proxyPort}${path}`, init);

/** Resolves once every viewer has more frames than it had when called. */
function newFramesForAll(): Promise<unknown> {
  const had = viewers.map((v) => v.frames.length);
  return waitFor('every viewer receiving new frames', () => viewers.every((v, i) => v.frames.length > had[i]! + 2), 30_000, 50);
}

beforeAll(async () => {
  for (const cmd of ['nginx', 'redis-server', 'redis-cli', 'ffmpeg']) if (!(await onPath(cmd))) throw new Error(`${cmd} is not on PATH (.ci/run installs it)`);
  const c = await composeConfig(filledExample(ENV_EXAMPLE));
  if (!c.config) throw new Error(`docker-compose config failed:\n${c.stderr}`);
  compose = c.config;
  dir = mkdtempSync(join(tmpdir(), 'framecast-compose-'));
  // nginx's workers (user nobody when the test runs as root) create their temporary files here.
  chmodSync(dir, 0o755);

  // The volume compose mounts at /data (the image creates it); the script fills it.
  mkdirSync(join(dir, 'redis-data'));
  redisPort = await freePort();
  await startRedis();

  const registryPort = await freePort();
  registry = Object.assign(
    await startService('registry', {
      entry: 'services/registry/src/main.ts',
      env: { ...serviceEnv('registry'), REDIS_URL: localRedis(serviceEnv('registry').REDIS_URL!), HOST: '127.0.0.1', PORT: String(registryPort) },
      readyLine: /registry listening/,
    }),
    { port: registryPort },
  );
  for (const id of ['gateway-1', 'gateway-2']) {
    const port = await freePort();
    // Compose's replicas differ by host name, which is their default id; here they share one host.
    const env = { ...serviceEnv('gateway'), REDIS_URL: localRedis(serviceEnv('gateway').REDIS_URL!), HOST: '127.0.0.1', PORT: String(port), FRAMECAST_GATEWAY_ID: id };
    gateways.push(Object.assign(await startService(id, { entry: 'services/gateway/src/main.ts', env, readyLine: /gateway listening/ }), { port }));
  }

  proxyPort = await freePort();
  await startNginx();

  bootstrapRun = await runBootstrap();
  if (bootstrapRun.code !== 0) throw new Error(`bootstrap.ts failed (${bootstrapRun.code}):\n${bootstrapRun.stdout}${bootstrapRun.stderr}`);
  const acl = await run('sh', [AGENT_ACL_SCRIPT], {
    env: { PATH: process.env.PATH, ...serviceEnv('redis-acl'), REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redisPort), FRAMECAST_STATE_DIR: join(dir, 'state') },
  });
  if (acl.code !== 0) throw new Error(`apply-agent-acl.sh failed (${acl.code}):\n${acl.stdout}${acl.stderr}`);

  // The capture agent: compose's environment, then agent.env as its command sources it.
  const agentEnv = Object.fromEntries(parseEnvFile(readFileSync(join(dir, 'state/agent.env'), 'utf8')));
  const metricsPort = await freePort();
  agent = await startAgent({
    ...serviceEnv('capture-agent'),
    ...agentEnv,
    FRAMECAST_REGISTRY_URL: `http://127.0.0.1:${registry.port}`,
    FRAMECAST_METRICS_PORT: String(metricsPort),
    FRAMECAST_METRICS_HOST: '127.0.0.1',
  });
}, 90_000);

afterAll(async () => {
  for (const v of viewers) v.terminate();
  const n = nginxProc;
  if (n && n.exitCode === null) {
    const exited = new Promise((r) => n.once('exit', r));
    n.kill('SIGTERM');
    await exited;
  }
  await stopAllServices();
  for (const r of extraProcs) {
    if (r.exitCode !== null || r.signalCode !== null) continue;
    const exited = new Promise((res) => r.once('exit', res));
    r.kill('SIGKILL');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('the compose stack, run as processes', () => {
  it("bootstrap wrote the agent's files, readable by their owner only, and never printed the key", () => {
    const agentEnv = parseEnvFile(readFileSync(join(dir, 'state/agent.env'), 'utf8'));
    const key = agentEnv.get('FRAMECAST_AGENT_KEY')!;
    expect(key).toMatch(/^fca_/);
    expect(agentEnv.get('REDIS_URL')).toMatch(new RegExp(`^redis://framecast-agent-[0-9a-f]+:${key}@127\\.0\\.0\\.1:${redisPort}$`));
    for (const f of ['agent.env', 'agent.acl', 'agent-key.json']) expect((statSync(join(dir, 'state', f)).mode & 0o777).toString(8), f).toBe('600');
    expect(readFileSync(join(dir, 'state/agent.acl'), 'utf8')).toMatch(/^ACL SETUSER framecast-agent-[0-9a-f]+ reset on #[0-9a-f]{64} /);
    expect(bootstrapRun.stdout + bootstrapRun.stderr).not.toContain(key);
    expect(bootstrapRun.stdout).toMatch(/room demo created, public/);
  });

  it('serves the viewer page at / and the API under /api through the proxy; /metrics is not published', async () => {
    const page = await viaProxy('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const openapi = await viaProxy('/api/openapi.json');
    expect(openapi.status).toBe(200);
    expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\./);
    expect((await viaProxy('/metrics')).status).toBe(404);
    // The admin API through the proxy, with the admin key from .env.
    const keys = await viaProxy('/api/agent-keys', { headers: { authorization: `Bearer ${serviceEnv('registry').FRAMECAST_ADMIN_KEY}` } });
    expect(keys.status).toBe(200);
  });

  it('lists room demo as public and live once the agent heartbeats with its key', async () => {
    const room = await waitFor('room demo live', async () => {
      const res = await viaProxy('/api/rooms');
      const { rooms } = (await res.json()) as { rooms: Array<{ name: string; visibility: string; live: boolean; cameras: Array<{ agentId: string }> }> };
      const demo = rooms.find((r) => r.name === 'demo');
      return demo?.live ? demo : null;
    }, 20_000, 200);
    expect(room.visibility).toBe('public');
    expect(room.cameras.map((c) => c.agentId)).toEqual([serviceEnv('capture-agent').FRAMECAST_AGENT_ID]);
  });

  it('streams the demo room over websockets through the proxy, from both gateways, without a token', async () => {
    for (let i = 0; i < 4; i++) viewers.push(new TestViewer(`ws://127.0.0.1:${proxyPort}/ws/video/demo`, { hash: false }));
    await Promise.all(viewers.map((v) => v.opened));
    await newFramesForAll();
    const counts = await Promise.all(gateways.map(async (g) => ((await (await fetch(`http://127.0.0.1:${g.port}/healthz`)).json()) as { viewers: number }).viewers));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(4);
    for (const c of counts) expect(c).toBeGreaterThan(0);
  });

  it('runs bootstrap again without changing anything', async () => {
    const before = readFileSync(join(dir, 'state/agent.env'), 'utf8');
    const again = await runBootstrap();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/room demo exists; made public/);
    expect(again.stdout).toMatch(/agent key [0-9a-f]+ kept/);
    expect(readFileSync(join(dir, 'state/agent.env'), 'utf8')).toBe(before);
  });

  it('keeps the room and the agent\'s Redis user across a Redis restart (AOF, ACL file): frames flow again', async () => {
    const agentUrl = new URL(parseEnvFile(readFileSync(join(dir, 'state/agent.env'), 'utf8')).get('REDIS_URL')!);
    const agentLogin = [decodeURIComponent(agentUrl.password), agentUrl.username] as const;
    expect(await authPing(redisPort, ...agentLogin)).toBe(true);
    await stopRedis();
    await startRedis();
    // The user came back from the ACL file on the data volume (ACL SAVE by apply-agent-acl.sh).
    expect(readFileSync(join(dir, 'redis-data/users.acl'), 'utf8')).toContain(`user ${agentUrl.username} on `);
    expect(await authPing(redisPort, ...agentLogin)).toBe(true);
    // The agent publishes again only if its ACL user survived; the viewers see that.
    await newFramesForAll();
    const demo = await viaProxy('/api/rooms/demo');
    expect(demo.status).toBe(200);
    expect(((await demo.json()) as { visibility: string }).visibility).toBe('public');
    expect(agent.lines.some((l) => /WRONGPASS|NOPERM/.test(l))).toBe(false);
  });

  it('backs up as docs/OPERATIONS.md says: a copy of the data directory starts a Redis with the rooms and the agent user', async () => {
    // No AOF rewrite while copying (it replaces files in appendonlydir), then the copy, then back.
    expect((await redisCli(redisPort, 'CONFIG', 'SET', 'auto-aof-rewrite-percentage', '0')).stdout.trim()).toBe('OK');
    await waitFor('no AOF rewrite in progress', async () => /aof_rewrite_in_progress:0/.test((await redisCli(redisPort, 'INFO', 'persistence')).stdout), 10_000, 50);
    const backup = join(dir, 'backup');
    cpSync(join(dir, 'redis-data'), backup, { recursive: true });
    expect((await redisCli(redisPort, 'CONFIG', 'SET', 'auto-aof-rewrite-percentage', '100')).stdout.trim()).toBe('OK');
    expect(readdirSync(backup).sort()).toEqual(expect.arrayContaining(['appendonlydir', 'users.acl']));

    // Restore: Redis started on the copy (another port, as a replacement machine would).
    const port = await freePort();
    const restored = await startRedisOn(port, backup);
    expect((await redisCli(port, 'SISMEMBER', registryKeys.publicRooms(), 'demo')).stdout.trim()).toBe('1');
    expect((await redisCli(port, 'HGET', registryKeys.room('demo'), 'visibility')).stdout.trim()).toBe('public');
    const agentUrl = new URL(parseEnvFile(readFileSync(join(dir, 'state/agent.env'), 'utf8')).get('REDIS_URL')!);
    expect(await authPing(port, decodeURIComponent(agentUrl.password), agentUrl.username)).toBe(true);
    const exited = new Promise((r) => restored.once('exit', r));
    restored.kill('SIGTERM');
    await exited;
  });
});
