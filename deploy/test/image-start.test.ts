import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, serviceEntry, serviceNodeFlags, startTestRedis, waitFor, type TestRedis } from '@framecast/testing';
import { ASSEMBLE_SCRIPT, dockerStages, DUMMY_SECRETS, healthcheckTarget, REPO, run } from './deploy-files.ts';

// The images' start command, without a container engine: deploy/docker/assemble.sh (the very
// script each Dockerfile build stage runs) installs one service's production tree into a temporary
// directory from the dev install's pnpm store (--offline), and the service is started from there
// the way the image's CMD starts it, `node [flags] services/<name>/bin/<command>.js` in that
// directory, with the image's ENV, after the image's `--version` run has filled the compile cache.
// It must come up without loading Node's type stripper, answer the image's HEALTHCHECK path,
// write nothing into its tree (the containers run on a read-only root filesystem) and exit 0 on
// SIGTERM. What `docker build`
// itself adds (the base image, ffmpeg from apt, the user) cannot run here.

const SERVICES = ['gateway', 'registry', 'capture-agent'] as const;

type Service = (typeof SERVICES)[number];

/**
 * Development tools: the workspace's devDependencies that no workspace package depends on for
 * production. None may be in a production tree, with one reasoned exception.
 */
const TOOLCHAIN = (() => {
  const manifests = ['package.json', ...['packages', 'services', 'apps'].flatMap((d) => readdirSync(join(REPO, d)).map((p) => `${d}/${p}/package.json`)), 'bench/package.json', 'deploy/package.json'];
  const dev = new Set<string>();
  const prod = new Set<string>();
  for (const m of manifests.filter((f) => existsSync(join(REPO, f)))) {
    const pkg = JSON.parse(readFileSync(join(REPO, m), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    for (const name of Object.keys(pkg.devDependencies ?? {})) dev.add(name);
    for (const name of Object.keys(pkg.dependencies ?? {})) prod.add(name);
  }
  return [...dev].filter((name) => !prod.has(name));
})();

/** Toolchain packages that may appear anyway, and why. */
const ALLOWED: Record<string, string> = {
  '@types/node': "sharp's optional peer dependency, which the lockfile resolves to the workspace's copy: type declarations, never loaded",
};

let root = '';
let storeDir = '';
let redis: TestRedis;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'framecast-image-'));
  // The dev install's store, so --offline finds every package wherever the temporary directory is.
  const store = await run('pnpm', ['store', 'path'], { cwd: REPO });
  expect(store.code, store.stderr).toBe(0);
  storeDir = store.stdout.trim();
  redis = await startTestRedis();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await redis?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Every path under `dir` with its size and modification time: what a run must leave as it was. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = statSync(p, { throwIfNoEntry: false });
      out.set(relative(dir, p), st ? `${st.size}:${st.mtimeMs}` : 'dangling');
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** Files outside node_modules whose path says test (the tree holds sources and manifests only). */
function testFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name === 'test') out.push(relative(dir, p));
        else walk(p);
      } else if (/\.test\.ts$/.test(e.name)) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

interface Started {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | string>;
  waitForLine(re: RegExp, timeoutMs: number): Promise<void>;
}

/** Prints, as the process exits, whether Node loaded its TypeScript type stripper (amaro). */
const REPORT_STRIPPER = `--import=data:text/javascript,${encodeURIComponent("process.on('exit', () => process.stderr.write(`type stripper loaded: ${process.moduleLoadList.some((m) => m.includes('amaro'))}\\n`))")}`;

/** The image's CMD (`node [flags] services/<name>/bin/<command>.js`) in `dir`, with PATH and `env` only (no FRAMECAST_* from the test's environment). */
function startFromTree(dir: string, service: Service, env: Record<string, string>, args: string[] = []): Started {
  const proc = spawn(process.execPath, [...serviceNodeFlags(service), serviceEntry(service), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, NODE_OPTIONS: REPORT_STRIPPER, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const onLine = (l: string) => {
    lines.push(l);
    for (const w of waiters) w();
  };
  createInterface({ input: proc.stdout! }).on('line', onLine);
  createInterface({ input: proc.stderr! }).on('line', onLine);
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  return {
    proc,
    lines,
    exited,
    waitForLine: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!lines.some((l) => re.test(l))) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${service}: no line matching ${re} within ${timeoutMs} ms:\n${lines.slice(-15).join('\n')}`));
        }, timeoutMs);
        void exited.then((code) => {
          if (!waiters.has(check)) return;
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`${service} exited (${code}) before a line matching ${re}:\n${lines.slice(-15).join('\n')}`));
        });
        waiters.add(check);
        check();
      }),
  };
}

describe('the Dockerfile', () => {
  const stages = dockerStages();

  it.each(SERVICES)('%s: built by assemble.sh, started as in development, non-root, SIGTERM, a HEALTHCHECK', (service) => {
    const stage = stages.get(service)!;
    expect(stage.from).toBe('runtime');
    expect(stages.get('runtime')!.from).toBe('${NODE_IMAGE}');
    expect(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(stages.get(`build-${service}`)!.runs.join('\n')).toContain(`sh deploy/docker/assemble.sh services/${service} /src /app`);
    expect(stage.cmd).toEqual(['node', ...serviceNodeFlags(service), serviceEntry(service)]);
    // The compile cache is filled at build time by the CMD itself with --version, as the user it runs as.
    expect(stage.runs).toContain(JSON.stringify([...stage.cmd!, '--version']).replace(/,/g, ', '));
    expect(stage.env.NODE_COMPILE_CACHE).toMatch(/^\/var\/cache\/framecast\//);
    expect(stages.get('runtime')!.runs.join('\n')).toMatch(/chown 1000:1000 .*\/var\/cache\/framecast/);
    if (service === 'gateway') expect(serviceNodeFlags(service)).toEqual(['--max-semi-space-size=1', '--external-memory-accounted-in-global-limit', '--initial-old-space-size=32']);
    if (service === 'capture-agent') {
      expect(serviceNodeFlags(service)).toEqual(['--max-semi-space-size=1']);
      // The systemd unit on camera boxes starts it with the same flags.
      const unit = readFileSync(join(REPO, 'services/capture-agent/framecast-agent.service'), 'utf8');
      expect(unit).toMatch(new RegExp(`^ExecStart=/usr/bin/node ${serviceNodeFlags(service).join(' ')} /opt/framecast/services/capture-agent/bin/framecast-agent\\.js `, 'm'));
      // docker-compose.yml's agent overrides CMD (it sources agent.env first): the same flags there.
      expect(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')).toContain(`exec node ${serviceNodeFlags(service).join(' ')} ${serviceEntry(service)}`);
    }
    expect(stage.user).toBe('1000:1000');
    expect(stage.stopSignal).toBe('SIGTERM');
    expect(healthcheckTarget(stage).path).toBe('/healthz');
    // ffmpeg in the capture agent's image only.
    const installsFfmpeg = stage.runs.some((r) => /apt-get install .*\bffmpeg\b/.test(r));
    expect(installsFfmpeg).toBe(service === 'capture-agent');
    expect(stages.get('runtime')!.runs.some((r) => /ffmpeg/.test(r))).toBe(false);
  });

  it('keeps local installs and secrets out of the build context (.dockerignore)', () => {
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['**/node_modules', '.env', 'deploy/k8s/secrets.env', '.git']) expect(ignored).toContain(p);
  });
});

describe.each(SERVICES)('%s from its production tree', (service) => {
  let dir = '';

  it('assembles with production dependencies only: no dev tools, no tests, no other service', async () => {
    dir = join(root, service);
    const r = await run('sh', [ASSEMBLE_SCRIPT, `services/${service}`, REPO, dir], {
      env: { ...process.env, PNPM_INSTALL_FLAGS: `--offline --store-dir ${storeDir}` },
      timeoutMs: 120_000,
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(readdirSync(join(dir, 'services'))).toEqual([service]);
    expect(existsSync(join(dir, 'packages/testing'))).toBe(false);
    expect(testFiles(dir)).toEqual([]);
    const installed = readdirSync(join(dir, 'node_modules/.pnpm'));
    const tools = TOOLCHAIN.filter((name) => !(name in ALLOWED) && installed.some((e) => e.startsWith(`${name.replace('/', '+')}@`)));
    expect(tools).toEqual([]);
    for (const name of ['vitest', 'typescript', 'playwright-core', 'testcontainers']) {
      expect(TOOLCHAIN).toContain(name);
      expect(installed.some((e) => e.startsWith(`${name}@`)), name).toBe(false);
    }
    expect(existsSync(join(dir, `services/${service}/node_modules/@framecast/testing`))).toBe(false);
  });

  it('starts with plain node, answers its HEALTHCHECK path, writes nothing into its tree and exits 0 on SIGTERM', async () => {
    expect(dir, 'assembled by the test above').not.toBe('');
    const stage = dockerStages().get(service)!;
    const hc = healthcheckTarget(stage);
    const port = await freePort();
    const env: Record<string, string> = {
      ...stage.env,
      REDIS_URL: redis.url,
      LOG_LEVEL: 'info',
      ...(service === 'capture-agent'
        ? // testsrc is drawn with sharp, a production dependency with a native part: it must load from this tree.
          { FRAMECAST_ROOM: 'demo', FRAMECAST_SOURCE: 'testsrc', FRAMECAST_FPS: '5', FRAMECAST_SIZE: '320x180', FRAMECAST_METRICS_HOST: '127.0.0.1', FRAMECAST_METRICS_PORT: String(port) }
        : { HOST: '127.0.0.1', PORT: String(port), FRAMECAST_TOKEN_SECRET: DUMMY_SECRETS.FRAMECAST_TOKEN_SECRET!, FRAMECAST_ADMIN_KEY: DUMMY_SECRETS.FRAMECAST_ADMIN_KEY! }),
    };
    if (service === 'gateway') delete env.FRAMECAST_ADMIN_KEY;
    // The image's cache directory, here a temporary one: the build step's `--version` fills it
    // (it loads the stripper), then the service starts from it without.
    env.NODE_COMPILE_CACHE = join(root, `${service}-compile-cache`);
    const prime = startFromTree(dir, service, env, ['--version']);
    expect(await prime.exited).toBe(0);
    expect(prime.lines).toContain(`framecast-${service === 'capture-agent' ? 'agent' : service} 0.1.0`);
    expect(prime.lines).toContain('type stripper loaded: true');
    const before = snapshot(dir);
    const svc = startFromTree(dir, service, env);
    await svc.waitForLine(service === 'capture-agent' ? /"msg":"capture agent started"/ : new RegExp(`"msg":"${service} listening`), 20_000);
    // The HEALTHCHECK's variable names the port the test chose, as the image's ENV or compose would.
    expect(env[hc.portVariable]).toBe(String(port));
    await waitFor(`${service} ${hc.path} 200`, async () => (await fetch(`http://127.0.0.1:${port}${hc.path}`).catch(() => null))?.status === 200, 15_000, 100);
    svc.proc.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
    expect(svc.lines).toContain('type stripper loaded: false');
    expect(svc.lines.some((l) => /"level":(50|60)/.test(l)), svc.lines.join('\n')).toBe(false);
    const after = snapshot(dir);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p));
    expect(changed).toEqual([]);
  });
});
