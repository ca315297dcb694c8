import { createServer, type Server } from 'node:http';
import { Queue } from 'bullmq';
import fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '@framecast/logging';
import { BULLMQ_PREFIX, WEBHOOK_HEADERS, WEBHOOK_QUEUE } from '@framecast/protocol';
import { freePort, sleep, startService, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { loadRegistryConfig } from '../src/config.ts';
import { createRegistry, type Registry } from '../src/registry.ts';
import { verifyWebhookSignature } from '../src/webhooks/signature.ts';
import type { HostLookup } from '../src/webhooks/url-guard.ts';
import { ADMIN_KEY, heartbeat, startReceiver, startRegistry, TOKEN_SECRET, type RegistryProcess } from './helpers.ts';

let redis: TestRedis;
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});
beforeAll(async () => {
  redis = await startTestRedis();
});

const hook = (url: string, room = 'ssrf') => ({ url, events: ['room.online'], room });

// Each: a URL POST /api/webhooks must refuse (400, field url) and what the message must say.
const refused: Array<[what: string, url: string, message: RegExp]> = [
  ['loopback v4', 'http://127.0.0.1:8081/hook', /url refused: 127\.0\.0\.1 is not a public address \(loopback\)/],
  ['loopback v4, short form', 'http://127.1/hook', /loopback/],
  ['loopback v6', 'http://[::1]:8081/hook', /::1 is not a public address \(loopback\)/],
  ['localhost', 'http://localhost:8081/hook', /localhost is a loopback name/],
  ['cloud metadata (link-local)', 'http://169.254.169.254/latest/meta-data/', /link-local/],
  ['link-local v6', 'http://[fe80::1]/hook', /link-local/],
  ['RFC 1918 10/8', 'http://10.0.0.1/hook', /private/],
  ['RFC 1918 172.16/12', 'http://172.16.5.4/hook', /private/],
  ['RFC 1918 192.168/16', 'https://192.168.1.1/hook', /private/],
  ['IPv6 ULA', 'http://[fd00::1]/hook', /private/],
  ['unspecified v4', 'http://0.0.0.0:8081/hook', /unspecified/],
  ['unspecified v6', 'http://[::]:8081/hook', /unspecified/],
  ['IPv4-mapped v6 loopback', 'http://[::ffff:127.0.0.1]:8081/hook', /IPv4-mapped loopback/],
  ['CGNAT', 'http://100.64.0.1/hook', /CGNAT/],
  ['multicast', 'http://224.0.0.1/hook', /multicast/],
  ['broadcast', 'http://255.255.255.255/hook', /broadcast/],
  ['credentials', 'https://user:pass@hooks.example.com/hook', /credentials/],
  ['file: scheme', 'file:///etc/passwd', /url must be an http:\/\/ or https:\/\/ URL/],
  ['gopher: scheme', 'gopher://hooks.example.com:70/_x', /url must be an http:\/\/ or https:\/\/ URL/],
  ['ftp: scheme', 'ftp://hooks.example.com/x', /url must be an http:\/\/ or https:\/\/ URL/],
  ['data: scheme', 'data:text/plain,hello', /url must be an http:\/\/ or https:\/\/ URL/],
];

describe('POST /api/webhooks without an allow-list', () => {
  let reg: RegistryProcess;
  beforeAll(async () => {
    reg = await startRegistry(redis.url);
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it.each(refused)('refuses %s: 400 naming url', async (_what, url, message) => {
    const res = await reg.api('POST', '/webhooks', hook(url));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', field: 'url' });
    expect(res.body.message).toMatch(message);
  });

  it('created none of them', async () => {
    expect((await reg.api('GET', '/webhooks')).body.webhooks).toEqual([]);
  });
});

describe('POST /api/webhooks with FRAMECAST_WEBHOOK_ALLOW_HOSTS', () => {
  it('an allow-listed loopback receiver gets signed deliveries; other internal hosts stay refused', async () => {
    const reg = await startRegistry(redis.url, { FRAMECAST_WEBHOOK_ALLOW_HOSTS: '127.0.0.1, hooks.internal' });
    const receiver = await startReceiver(() => 200);
    try {
      const secret = 'allowed-secret-0123456789';
      const created = await reg.api('POST', '/webhooks', { ...hook(receiver.url, 'allowed'), secret });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      for (const url of ['http://127.0.0.2/hook', 'http://localhost:8081/hook', 'http://[::1]/hook', 'http://10.0.0.1/hook', 'http://u:p@127.0.0.1/hook']) {
        expect(await reg.api('POST', '/webhooks', hook(url)), url).toMatchObject({ status: 400, body: { error: 'invalid_request', field: 'url' } });
      }
      const agentKey = (await reg.api('POST', '/agent-keys', { name: 'any', rooms: ['*'] })).body.key;
      expect((await reg.api('POST', '/agents/cam-1/heartbeat', heartbeat(['allowed']), agentKey)).status).toBe(200);
      await waitFor('delivery', () => receiver.received.length === 1, 10_000);
      const [got] = receiver.received;
      expect(verifyWebhookSignature(secret, String(got!.headers[WEBHOOK_HEADERS.timestamp]), got!.body, String(got!.headers[WEBHOOK_HEADERS.signature]))).toBe(true);
      expect(JSON.parse(got!.body)).toMatchObject({ type: 'room.online', room: 'allowed' });
    } finally {
      await receiver.close();
      await reg.stop();
    }
  });

  it('a bad allow-list entry stops start-up with a line naming the variable', async () => {
    const svc = await startService('registry-bad-allow-list', {
      entry: 'services/registry/src/main.ts',
      env: { REDIS_URL: redis.url, PORT: '0', FRAMECAST_ADMIN_KEY: ADMIN_KEY, FRAMECAST_TOKEN_SECRET: TOKEN_SECRET, FRAMECAST_WEBHOOK_ALLOW_HOSTS: '127.0.0.1,10.0.0.0/33' },
    });
    expect(await svc.exited).toBe(2);
    expect(svc.lines.join('\n')).toMatch(/^framecast-registry: invalid configuration: FRAMECAST_WEBHOOK_ALLOW_HOSTS: "10\.0\.0\.0\/33" is not a CIDR range/m);
  });
});

/** A logger that keeps what was logged (only what the registry calls). */
function recordingLogger() {
  const records: Array<{ level: string; obj: unknown; msg: unknown }> = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: unknown) =>
      void records.push({ level, obj, msg: msg ?? obj });
  const logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), level: 'info' } as Record<string, unknown>;
  logger.child = () => logger;
  return { logger: logger as unknown as Logger, records };
}

/** A real HTTP server on loopback that counts TCP connections and requests. */
async function countingServer() {
  const port = await freePort();
  const seen = { connections: 0, requests: [] as Array<{ headers: Record<string, unknown>; body: string }> };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => (seen.requests.push({ headers: req.headers, body }), res.writeHead(204).end()));
  });
  server.on('connection', () => seen.connections++);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    seen,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe('delivery re-checks the address (DNS rebinding), in process with a stub resolver', () => {
  let ownRedis: TestRedis;
  let registry: Registry;
  let app: FastifyInstance;
  const log = recordingLogger();
  // What the stub resolver answers; the test changes it between creation and delivery.
  const answers: Record<string, string[]> = { 'rebind.test': ['93.184.216.34'], 'good.test': ['127.0.0.1'] };
  const lookup: HostLookup = async (host) => {
    const a = answers[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const api = async (method: 'GET' | 'POST', url: string, payload?: object, key = ADMIN_KEY) => {
    const res = await app.inject({ method, url: `/api${url}`, payload, headers: { authorization: `Bearer ${key}` } });
    return { status: res.statusCode, body: res.json() };
  };

  beforeAll(async () => {
    // A Redis of its own: the registry processes above must not take these jobs.
    ownRedis = await startTestRedis();
    const { config } = loadRegistryConfig({
      REDIS_URL: ownRedis.url,
      FRAMECAST_REGISTRY_ID: 'in-process',
      FRAMECAST_ADMIN_KEY: ADMIN_KEY,
      FRAMECAST_TOKEN_SECRET: TOKEN_SECRET,
      FRAMECAST_WEBHOOK_ALLOW_HOSTS: 'good.test',
      FRAMECAST_WEBHOOK_ATTEMPTS: '5',
      FRAMECAST_WEBHOOK_BACKOFF_MS: '50',
      FRAMECAST_WEBHOOK_TIMEOUT_MS: '2000',
    });
    registry = await createRegistry(config, log.logger, undefined, { webhookLookup: lookup });
    app = fastify();
    await app.register(registry.api, { prefix: '/api' });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await registry?.close();
    await ownRedis?.close();
  });

  it('a name that turned into 127.0.0.1 gets no connection, is logged as blocked, counted, and not retried', async () => {
    const target = await countingServer(); // what rebind.test points at after creation
    const control = await countingServer(); // good.test: allow-listed by name, must still work
    try {
      const rebind = await api('POST', '/webhooks', hook(`http://rebind.test:${target.port}/hook`, 'inproc'));
      expect(rebind.status, JSON.stringify(rebind.body)).toBe(201);
      const good = await api('POST', '/webhooks', { ...hook(`http://good.test:${control.port}/hook`, 'inproc'), secret: 'control-secret-0123456789' });
      expect(good.status, JSON.stringify(good.body)).toBe(201);
      // Created while public; refused now that it resolves to loopback.
      answers['rebind.test'] = ['127.0.0.1'];
      expect(await api('POST', '/webhooks', hook(`http://rebind.test:${target.port}/again`, 'inproc'))).toMatchObject({
        status: 400,
        body: { field: 'url', message: expect.stringMatching(/rebind\.test resolves to 127\.0\.0\.1 \(loopback\)/) },
      });

      const agentKey = (await api('POST', '/agent-keys', { name: 'any', rooms: ['*'] })).body.key;
      expect((await api('POST', '/agents/cam-1/heartbeat', heartbeat(['inproc']), agentKey)).status).toBe(200);

      // The allow-listed control hook is delivered over the stub-resolved address.
      await waitFor('control delivery', () => control.seen.requests.length === 1, 10_000);
      const sent = control.seen.requests[0]!;
      expect(verifyWebhookSignature('control-secret-0123456789', String(sent.headers[WEBHOOK_HEADERS.timestamp]), sent.body, String(sent.headers[WEBHOOK_HEADERS.signature]))).toBe(true);

      const deliveries = async () => (await api('GET', `/webhooks/${rebind.body.id}/deliveries`)).body.deliveries as Array<Record<string, unknown>>;
      await waitFor('blocked delivery logged', async () => (await deliveries()).length > 0, 10_000);
      // Retries would come 50, 100, 200, 400 ms apart: wait them out.
      await sleep(1_500);
      const log_ = await deliveries();
      expect(log_).toHaveLength(1);
      expect(log_[0]).toMatchObject({ attempt: 1, ok: false, status: null, error: `blocked: rebind.test resolves to 127.0.0.1 (loopback)` });
      expect(target.seen.connections).toBe(0);
      expect(target.seen.requests).toHaveLength(0);

      const queue = new Queue(WEBHOOK_QUEUE, { connection: { url: ownRedis.url }, prefix: BULLMQ_PREFIX });
      try {
        expect(await queue.getJobState(String(log_[0]!.deliveryId))).toBe('failed');
      } finally {
        await queue.close();
      }
      const warned = log.records.filter((r) => r.level === 'warn' && /webhook delivery blocked/.test(String(r.msg)));
      expect(warned).toHaveLength(1);
      expect(warned[0]!.obj).toMatchObject({ webhook: rebind.body.id, reason: 'rebind.test resolves to 127.0.0.1 (loopback)' });
      const metric = await registry.metrics.register.getSingleMetricAsString('framecast_registry_webhook_deliveries_total');
      expect(metric).toMatch(/outcome="blocked"\} 1$/m);
      expect(metric).toMatch(/outcome="ok"\} 1$/m);
    } finally {
      await Promise.all([target.close(), control.close()]);
    }
  });
});
