import fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@framecast/logging';
import { isAcceptedJsonType } from './api.ts';
import { loadRegistryConfig } from './config.ts';
import { createRegistry, type Registry } from './registry.ts';
import { parseTrustProxy } from './trust-proxy.ts';

const ADMIN_KEY = 'unit-admin-key-0123456789';

// The embedded case: the API plugin on a host server that has routes of its own, in-memory store.
let registry: Registry;
const host = fastify();
const logger = createLogger('registry-unit', 'silent');
const warn = vi.spyOn(logger, 'warn');

beforeAll(async () => {
  const { config } = loadRegistryConfig(
    { FRAMECAST_ADMIN_KEY: ADMIN_KEY, FRAMECAST_TOKEN_SECRET: 's'.repeat(32), FRAMECAST_AUTH_FAILURE_LIMIT: '5' },
    { embedded: true },
  );
  registry = await createRegistry(config, logger);
  host.post('/echo', async (req) => ({ got: req.body }));
  await host.register(registry.api, { prefix: '/api' });
});
afterAll(async () => {
  await host.close();
  await registry?.close();
});

const admin = (key = ADMIN_KEY) => ({ authorization: `Bearer ${key}` });

describe('the API plugin on a host server', () => {
  it("refuses non-JSON bodies without touching the host's own parsers", async () => {
    const echoed = await host.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(echoed.json()).toEqual({ got: 'hello' });
    const refused = await host.inject({ method: 'POST', url: '/api/rooms', headers: { ...admin(), 'content-type': 'text/plain' }, payload: '{"name":"a"}' });
    expect(refused.statusCode).toBe(415);
    expect(refused.json()).toMatchObject({ error: 'unsupported_media_type' });
  });

  it('limits failed admin keys per address in memory (no Redis), logging once at the first failure and once at the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await host.inject({ method: 'GET', url: '/api/agent-keys', headers: admin(`wrong-wrong-${i}`), remoteAddress: '10.1.2.3' });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429, 429, 429]);
    const lines = warn.mock.calls.filter(([fields]) => (fields as { address?: string }).address === '10.1.2.3');
    expect(lines.map(([fields]) => (fields as { count: number }).count)).toEqual([1, 5]);
    expect((await host.inject({ method: 'GET', url: '/api/agent-keys', headers: admin(), remoteAddress: '10.1.2.4' })).statusCode).toBe(200);
    expect((await host.inject({ method: 'GET', url: '/api/agent-keys', headers: admin(), remoteAddress: '10.1.2.3' })).statusCode).toBe(429);
    const metrics = await registry.metrics.register.getSingleMetricAsString('framecast_registry_auth_failures_total');
    expect(metrics).toContain('framecast_registry_auth_failures_total{kind="admin"} 5');
  });
});

describe('content types', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['APPLICATION/JSON;CHARSET=UTF-8', true],
    ['application/json; charset="utf-8"', true],
    ['application/json;', true],
    [undefined, false],
    ['application/json; charset=utf-16', false],
    ['application/json; charset=utf8', false],
    ['application/json; charset=utf-8; q=1', false],
    ['text/json', false],
    ['text/plain', false],
  ] as const)('%s → %s', (header, ok) => {
    expect(isAcceptedJsonType(header)).toBe(ok);
  });
});

describe('FRAMECAST_TRUST_PROXY', () => {
  it('takes off, a hop count or proxy addresses, and refuses true', () => {
    expect(parseTrustProxy('off')).toBe(false);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('10.0.0.0/8, loopback,::1')).toEqual(['10.0.0.0/8', 'loopback', '::1']);
    expect(() => parseTrustProxy('true')).toThrow(/any client/);
    expect(() => parseTrustProxy('11')).toThrow(/hop count/);
    expect(() => parseTrustProxy('10.0.0.0/33')).toThrow(/not an address/);
    expect(() => parseTrustProxy('proxy.example')).toThrow(/not an address/);
  });

  it('is validated at start-up with a line naming the variable', () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:1', FRAMECAST_ADMIN_KEY: ADMIN_KEY, FRAMECAST_TOKEN_SECRET: 's'.repeat(32) };
    expect(() => loadRegistryConfig({ ...env, FRAMECAST_TRUST_PROXY: 'true' })).toThrow(/^FRAMECAST_TRUST_PROXY: must be off/);
    expect(loadRegistryConfig({ ...env, FRAMECAST_TRUST_PROXY: '1' }).config.FRAMECAST_TRUST_PROXY).toBe(1);
    expect(() => loadRegistryConfig({ ...env, FRAMECAST_AUTH_FAILURE_LIMIT: '0' })).toThrow(/^FRAMECAST_AUTH_FAILURE_LIMIT: must be >= 1/);
    expect(() => loadRegistryConfig({ ...env, FRAMECAST_HTTP_HEADERS_TIMEOUT_MS: 'soon' })).toThrow(/^FRAMECAST_HTTP_HEADERS_TIMEOUT_MS: must be an integer/);
  });
});
