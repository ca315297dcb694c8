import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@framecast/testing';

// Issue 9 item 10: a production install of a service (`pnpm install --prod --filter "<service>..."`,
// as the README's camera-box steps do) carries no test tooling. pnpm's `<pkg>...` selector follows
// devDependencies too, so it selects @framecast/testing (a devDependency of every service) and
// installs *its* production dependencies: test tooling must therefore be devDependencies there as
// well, not only in the services. Node (>= 24) runs the services' TypeScript itself, so no
// TypeScript runner (tsx, and with it esbuild) is installed either.

const SERVICES = ['@framecast/capture-agent', '@framecast/gateway', '@framecast/registry', '@framecast/embedded'];
/** Never in a production install: test runners, browsers, containers, TypeScript tooling and what they bring. */
const TEST_TOOLING = /^(testcontainers|@testcontainers\/.*|dockerode|docker-modem|ssh2|@grpc\/.*|playwright|playwright-core|vitest|@vitest\/.*|vite|fast-check|typescript|tsx|esbuild|@esbuild\/.*|@framecast\/testing)$/;

interface ListedDep {
  version?: string;
  dependencies?: Record<string, ListedDep>;
}
interface ListedProject {
  name: string;
  dependencies?: Record<string, ListedDep>;
}

function pnpm(args: string[], cwd = REPO_ROOT) {
  const r = spawnSync('pnpm', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CI: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * What `pnpm install --prod --filter "<service>..."` installs, from the installed graph: the
 * projects that selector picks, each with its production dependency tree (`unsavedDependencies`,
 * what the dev install happens to have linked, is not part of it). name@version -> one path to it.
 */
function prodClosure(service: string): Map<string, string> {
  const r = pnpm(['list', '--prod', '--depth', 'Infinity', '--json', '--filter', `${service}...`]);
  expect(r.status, r.stderr).toBe(0);
  const projects = JSON.parse(r.stdout) as ListedProject[];
  const seen = new Map<string, string>();
  const walk = (deps: Record<string, ListedDep> | undefined, path: string) => {
    for (const [name, dep] of Object.entries(deps ?? {})) {
      const id = `${name}@${dep.version ?? '?'}`;
      if (seen.has(id)) continue;
      seen.set(id, `${path} > ${name}`);
      walk(dep.dependencies, `${path} > ${name}`);
    }
  };
  for (const p of projects) walk(p.dependencies, p.name);
  return seen;
}

describe('production installs', () => {
  it.each(SERVICES)('of %s reach no test tooling through production dependencies', (service) => {
    const closure = prodClosure(service);
    const tooling = [...closure].filter(([id]) => TEST_TOOLING.test(id.slice(0, id.lastIndexOf('@')))).map(([, path]) => path);
    expect(tooling).toEqual([]);
    const external = [...closure.keys()].filter((id) => !id.includes('@link:') && !id.startsWith('@framecast/'));
    console.log(`${service}: ${external.length} packages in its production dependency graph (every platform's optional packages counted)`);
    expect(external.length).toBeGreaterThan(5);
  });

  const tmp = mkdtempSync(join(tmpdir(), 'framecast-prod-'));
  const copyManifest = (dir: string) => {
    mkdirSync(join(tmp, dir), { recursive: true });
    cpSync(join(REPO_ROOT, dir, 'package.json'), join(tmp, dir, 'package.json'));
  };
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('of the capture agent, done for real into a copy of the workspace, installs only runtime packages', (ctx) => {
    // Only the manifests, the lockfile and the install hook it was made with (.pnpmfile.cjs)
    // matter to an install; --offline takes every package from the store the dev install filled,
    // so this needs no network and takes about a second.
    for (const file of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.pnpmfile.cjs']) cpSync(join(REPO_ROOT, file), join(tmp, file));
    for (const dir of ['packages', 'services', 'apps']) {
      for (const name of readdirSync(join(REPO_ROOT, dir))) copyManifest(join(dir, name));
    }
    copyManifest('bench');
    const r = pnpm(['install', '--prod', '--frozen-lockfile', '--offline', '--filter', '@framecast/capture-agent...'], tmp);
    if (r.status !== 0 && /offline|ERR_PNPM_NO_OFFLINE|not present in local store/i.test(r.stdout + r.stderr)) {
      console.warn(`skipped: the package store cannot serve an offline install here:\n${(r.stdout + r.stderr).slice(-600)}`);
      ctx.skip();
    }
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const installed = readdirSync(join(tmp, 'node_modules', '.pnpm')).filter((d) => d !== 'node_modules' && !d.endsWith('.yaml') && !d.startsWith('.'));
    const names = installed.map((d) => d.split('@').slice(0, d.startsWith('@') ? 2 : 1).join('@').replace('+', '/'));
    console.log(`pnpm install --prod --filter "@framecast/capture-agent...": ${installed.length} packages`);
    expect(names.filter((n) => TEST_TOOLING.test(n))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['sharp', 'ioredis', 'pino']));
    // Was 191 packages (110 MB) with testcontainers, dockerode, ssh2, grpc and playwright-core.
    expect(installed.length).toBeLessThan(80);
  });
});
