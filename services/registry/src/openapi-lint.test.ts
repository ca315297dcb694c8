import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@framecast/logging';
import { loadRegistryConfig } from './config.ts';
import { createRegistry, type Registry } from './registry.ts';

// The document is the one the registry serves (built by @fastify/swagger from the route schemas),
// fetched through inject() from the API plugin exactly as it is mounted in production.
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const REDOCLY = join(dirname(require.resolve('@redocly/cli/package.json')), 'bin', 'cli.js');

let registry: Registry;
const host = fastify();
let document: { paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>; servers?: unknown[] };
let dir: string;

beforeAll(async () => {
  const { config } = loadRegistryConfig({ FRAMECAST_ADMIN_KEY: 'lint-admin-key-0123456789', FRAMECAST_TOKEN_SECRET: 's'.repeat(32) }, { embedded: true });
  registry = await createRegistry(config, createLogger('openapi-lint', 'silent'));
  await host.register(registry.api, { prefix: '/api' });
  const res = await host.inject({ method: 'GET', url: '/api/openapi.json' });
  expect(res.statusCode).toBe(200);
  document = res.json();
  dir = mkdtempSync(join(tmpdir(), 'framecast-openapi-'));
});
afterAll(async () => {
  await host.close();
  await registry?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }>;
}

describe("the registry's OpenAPI document", () => {
  it('passes `redocly lint` with the recommended rules: no error, no warning', async () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const config = join(PACKAGE_DIR, 'redocly.yaml');
    // redocly exits 1 on errors; the JSON report is on stdout either way, and decides.
    const run = promisify(execFile)(process.execPath, [REDOCLY, 'lint', file, '--config', config, '--format', 'json'], { cwd: dir, maxBuffer: 16 << 20 }).catch(
      (err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
    );
    const { stdout, stderr } = await run;
    let report: LintReport;
    try {
      report = JSON.parse(stdout) as LintReport;
    } catch {
      throw new Error(`redocly printed no JSON report:\n${stdout}\n${stderr}`);
    }
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    // The config really is the recommended set (one rule off, said why in the file).
    expect(readFileSync(config, 'utf8')).toMatch(/extends:\s*\n\s*- recommended/);
  });

  it('names every operation uniquely and declares its security, the public reads as optional', () => {
    const ops = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, ...op })));
    expect(ops.length).toBeGreaterThanOrEqual(17);
    const ids = ops.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of ops) expect(Array.isArray(op.security), `${op.at} declares security`).toBe(true);
    expect(document.paths['/api/rooms']!.get!.security).toEqual([{}, { adminKey: [] }]);
    expect(document.servers).toHaveLength(1);
  });
});
