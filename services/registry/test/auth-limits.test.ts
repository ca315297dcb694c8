import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeMetric, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { ADMIN_KEY, heartbeat, startRegistry, type RegistryProcess } from './helpers.ts';

// Linux routes all of 127/8 to lo: a client that binds 127.0.0.x as its source address is another
// client address to the registry (req.ip), without any network set-up.
let redis: TestRedis;
let reg: RegistryProcess;
let agentKey: string;

beforeAll(async () => {
  redis = await startTestRedis({ needsControl: true });
  reg = await startRegistry(redis.url, { FRAMECAST_HTTP_HEADERS_TIMEOUT_MS: '1000', FRAMECAST_HTTP_REQUEST_TIMEOUT_MS: '2000' });
  expect((await reg.api('POST', '/rooms', { name: 'lobby' })).status).toBe(201);
  agentKey = (await reg.api('POST', '/agent-keys', { name: 'box', rooms: ['lobby'] })).body.key;
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** One HTTP request to `port` from the local address `from`, with raw control over the body and its content type. */
function callFrom(port: number, from: string, method: string, path: string, opts: { key?: string | null; body?: string | Buffer; contentType?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.key !== null) headers.authorization = `Bearer ${opts.key ?? ADMIN_KEY}`;
  if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, localAddress: from, method, path: `/api${path}`, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const json = (value: unknown) => ({ body: JSON.stringify(value), contentType: 'application/json' });
const warnLinesFor = (svc: RegistryProcess, address: string, kind: string) =>
  svc.lines.filter((l) => {
    if (!l.startsWith('{')) return false;
    const o = JSON.parse(l) as { level?: number; address?: string; kind?: string };
    return o.level === 40 && o.address === address && o.kind === kind;
  });

describe('failed key checks are limited per client address', () => {
  it('100 wrong admin keys from one address: 403 up to the limit, then 429 with retry-after; two log lines; counted', async () => {
    const from = '127.0.0.3';
    const failuresBefore = await scrapeMetric(reg.port, 'framecast_registry_auth_failures_total', 'kind="admin"');
    const statuses: number[] = [];
    let last: Answer | null = null;
    for (let i = 0; i < 100; i++) {
      last = await callFrom(reg.port, from, 'GET', '/agent-keys', { key: `wrong-key-number-${i}` });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(403));
    expect(statuses.slice(20)).toEqual(Array(80).fill(429));
    expect(last!.body).toMatchObject({ error: 'too_many_auth_failures' });
    const retryAfter = Number(last!.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // One line at the burst's first failure, one when the limit is hit; not one per request.
    const lines = warnLinesFor(reg, from, 'admin');
    expect(lines, reg.lines.slice(-5).join('\n')).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ count: 1, limit: 20 });
    expect(JSON.parse(lines[1]!)).toMatchObject({ count: 20, limit: 20, retryAfterS: expect.any(Number) });

    // Every wrong key is counted; the refused ones too, apart.
    expect((await scrapeMetric(reg.port, 'framecast_registry_auth_failures_total', 'kind="admin"')) - failuresBefore).toBe(20);
    expect(await scrapeMetric(reg.port, 'framecast_registry_auth_limited_total', 'kind="admin"')).toBeGreaterThanOrEqual(80);
    // The count lives in Redis under the registry's key prefix, expiring with the window.
    const rkeys = await redisKeys('{framecast}:auth-failures:admin:127.0.0.3');
    expect(rkeys).toEqual(['{framecast}:auth-failures:admin:127.0.0.3']);
  });

  it('the right key: works from another address; refused (429) from the blocked one until the window ends; no key is never limited', async () => {
    expect((await callFrom(reg.port, '127.0.0.4', 'GET', '/agent-keys')).status).toBe(200);
    // Answering the right key from a blocked address would tell an attacker which guess was right.
    const blocked = await callFrom(reg.port, '127.0.0.3', 'GET', '/agent-keys');
    expect(blocked).toMatchObject({ status: 429, body: { error: 'too_many_auth_failures' } });
    // The public room list needs no key, so it is not limited (GET /api/rooms checks a key when one is sent).
    expect((await callFrom(reg.port, '127.0.0.3', 'GET', '/rooms', { key: null })).status).toBe(200);
    expect((await callFrom(reg.port, '127.0.0.3', 'GET', '/rooms')).status).toBe(429);
    expect((await callFrom(reg.port, '127.0.0.4', 'GET', '/rooms')).status).toBe(200);
    // Agent keys have their own budget: the blocked admin address may still heartbeat.
    expect((await callFrom(reg.port, '127.0.0.3', 'POST', '/agents/box-1/heartbeat', { key: agentKey, ...json(heartbeat(['lobby'])) })).status).toBe(200);
  });

  it('the limit holds across replicas (the count is in Redis)', async () => {
    const other = await startRegistry(redis.url);
    expect((await callFrom(other.port, '127.0.0.3', 'GET', '/agent-keys')).status).toBe(429);
    expect((await callFrom(other.port, '127.0.0.4', 'GET', '/agent-keys')).status).toBe(200);
    await other.stop();
  });

  it('wrong agent keys on heartbeats: 403 up to the limit, then 429; the right key elsewhere works', async () => {
    const from = '127.0.0.5';
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push((await callFrom(reg.port, from, 'POST', '/agents/box-1/heartbeat', { key: `fca_wrong${i}`, ...json(heartbeat(['lobby'])) })).status);
    }
    expect(statuses).toEqual([...Array(20).fill(403), ...Array(10).fill(429)]);
    expect(warnLinesFor(reg, from, 'agent')).toHaveLength(2);
    expect(await scrapeMetric(reg.port, 'framecast_registry_auth_failures_total', 'kind="agent"')).toBe(20);
    expect((await callFrom(reg.port, '127.0.0.6', 'POST', '/agents/box-1/heartbeat', { key: agentKey, ...json(heartbeat(['lobby'])) })).status).toBe(200);
    expect((await callFrom(reg.port, from, 'POST', '/agents/box-1/heartbeat', { key: agentKey, ...json(heartbeat(['lobby'])) })).status).toBe(429);
    // The admin budget of that address is untouched.
    expect((await callFrom(reg.port, from, 'GET', '/agent-keys')).status).toBe(200);
  });

  it('a burst of wrong keys in parallel gets no more than the limit checked', async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => callFrom(reg.port, '127.0.0.7', 'GET', '/webhooks', { key: `parallel-wrong-${i}` })));
    const count = (s: number) => answers.filter((a) => a.status === s).length;
    expect(count(403)).toBe(20);
    expect(count(429)).toBe(40);
  });

  it('the window ends: an address may try again (short window)', async () => {
    const short = await startRegistry(redis.url, { FRAMECAST_AUTH_FAILURE_LIMIT: '3', FRAMECAST_AUTH_FAILURE_WINDOW_S: '1' });
    const from = '127.0.0.8';
    for (let i = 0; i < 3; i++) expect((await callFrom(short.port, from, 'GET', '/agent-keys', { key: `short-wrong-${i}` })).status).toBe(403);
    const refused = await callFrom(short.port, from, 'GET', '/agent-keys');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    await waitFor('the window to end', async () => (await callFrom(short.port, from, 'GET', '/agent-keys')).status === 200, 5000, 100);
    await short.stop();
  });
});

describe('request bodies are application/json, UTF-8, or nothing', () => {
  const room = JSON.stringify({ name: 'ctype', title: 'x' });
  const refused: Array<[string, string | undefined, string | Buffer]> = [
    ['text/plain', 'text/plain', room],
    ['text/plain; charset=utf-8', 'text/plain; charset=utf-8', room],
    ['form', 'application/x-www-form-urlencoded', 'name=ctype'],
    ['multipart', 'multipart/form-data; boundary=xyz', `--xyz\r\n\r\n${room}\r\n--xyz--`],
    ['utf-16 declared and sent', 'application/json; charset=utf-16', Buffer.from(room, 'utf16le')],
    ['utf-16 declared, utf-8 sent', 'application/json; charset=utf-16', room],
    ['latin-1', 'application/json; charset=iso-8859-1', room],
    ['a vendor JSON type', 'application/vnd.api+json', room],
    ['another parameter', 'application/json; version=2', room],
    ['a near miss', 'application/jsonx', room],
    ['no content type', undefined, room],
  ];
  it.each(refused)('%s: 415 unsupported_media_type naming what is accepted', async (_what, contentType, body) => {
    const res = await callFrom(reg.port, '127.0.0.10', 'POST', '/rooms', { body, contentType });
    expect(res.status, JSON.stringify(res.body)).toBe(415);
    expect(res.body).toMatchObject({ error: 'unsupported_media_type', field: 'body', message: expect.stringContaining('application/json') });
    expect(res.body.message).toContain('charset=utf-8');
  });

  const accepted: Array<[string, string]> = [
    ['plain', 'application/json'],
    ['utf-8', 'application/json; charset=utf-8'],
    ['upper case, quoted', 'Application/JSON;Charset="UTF-8"'],
  ];
  it.each(accepted)('%s (%s) is read as JSON', async (what, contentType) => {
    const name = `ct-${what.replace(/[^a-z0-9]/g, '')}`;
    const res = await callFrom(reg.port, '127.0.0.10', 'POST', '/rooms', { body: JSON.stringify({ name }), contentType });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.name).toBe(name);
  });

  it('bodyless requests need no content type', async () => {
    expect((await callFrom(reg.port, '127.0.0.10', 'GET', '/rooms/lobby')).status).toBe(200);
    expect((await callFrom(reg.port, '127.0.0.10', 'POST', '/rooms', { ...json({ name: 'gone' }) })).status).toBe(201);
    expect((await callFrom(reg.port, '127.0.0.10', 'DELETE', '/rooms/gone')).status).toBe(204);
  });
});

describe('slow clients are cut', () => {
  /** Opens a raw TCP connection, writes `send`, and resolves with the ms until the server closed it and what it answered. */
  function heldFor(port: number, send: string): Promise<{ ms: number; answer: string }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const socket: Socket = connect(port, '127.0.0.1', () => socket.write(send));
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (answer += c));
      socket.on('error', reject);
      socket.on('close', () => resolve({ ms: Date.now() - started, answer }));
    });
  }

  it('a request whose headers never end is closed after FRAMECAST_HTTP_HEADERS_TIMEOUT_MS (1 s here)', async () => {
    const partial = await heldFor(reg.port, 'GET /api/rooms HTTP/1.1\r\nHost: x\r\n');
    const silent = await heldFor(reg.port, '');
    console.log(`registry: partial header cut after ${partial.ms} ms, silent connection after ${silent.ms} ms (headers timeout 1000 ms)`);
    for (const held of [partial, silent]) {
      expect(held.ms).toBeGreaterThanOrEqual(900);
      expect(held.ms).toBeLessThan(2500);
      expect(held.answer).toMatch(/^HTTP\/1\.1 408/);
    }
  });

  it('a request whose body never ends is closed after FRAMECAST_HTTP_REQUEST_TIMEOUT_MS (2 s here)', async () => {
    const held = await heldFor(reg.port, `POST /api/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`);
    console.log(`registry: unfinished body cut after ${held.ms} ms (request timeout 2000 ms)`);
    expect(held.ms).toBeGreaterThanOrEqual(1900);
    expect(held.ms).toBeLessThan(3500);
  });
});

// Last: Redis comes back empty, so nothing after this may rely on earlier records.
describe('without Redis', () => {
  it('keeps limiting from memory while Redis is down, and counts in Redis again once it is back', async () => {
    await redis.stop();
    const from = '127.0.0.9';
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await callFrom(reg.port, from, 'GET', '/agent-keys', { key: `down-wrong-${i}` })).status);
    expect(statuses).toEqual([...Array(20).fill(403), ...Array(5).fill(429)]);
    await redis.start();
    await waitFor('registry back on Redis', async () => (await fetch(`${reg.url}/readyz`)).status === 200, 15_000, 100);
    expect((await callFrom(reg.port, '127.0.0.11', 'GET', '/agent-keys', { key: 'after-restart-wrong' })).status).toBe(403);
    expect(await redisKeys('{framecast}:auth-failures:*')).toEqual(['{framecast}:auth-failures:admin:127.0.0.11']);
  });
});

async function redisKeys(pattern: string): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const r = new Redis(redis.url);
  try {
    return (await r.keys(pattern.replace(/[{}]/g, (c) => `\\${c}`))).sort();
  } finally {
    r.disconnect();
  }
}
