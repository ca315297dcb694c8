import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@framecast/logging';
import { heartbeat } from '../test/helpers.ts';
import { loadRegistryConfig } from './config.ts';
import { buildRegistryServer, type RegistryServer } from './server.ts';

// The API's answers to bad input, in process through fastify's inject() (a millisecond each): the
// standalone server (probes, metrics, the API under /api) over the in-memory store. Validation,
// auth and error bodies run before the store, so the store does not change these answers; what
// only a process shows (exit codes, start-up lines) stays in test/api-bad-input.test.ts.

const ADMIN_KEY = 'unit-admin-key-0123456789';
let server: RegistryServer;
/** An agent key for any room: heartbeat routes check the agent key before the body. */
let anyRoomKey: string;

interface Answer {
  status: number;
  body: any;
}

/** Calls the API with the admin key (or `key`; null sends no Authorization header); a string body is sent as is. */
async function api(method: string, path: string, body?: unknown, key: string | null = ADMIN_KEY): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await server.app.inject({
    method: method as 'GET',
    url: `/api${path}`,
    headers,
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  let parsed: unknown = res.body;
  try {
    parsed = res.body ? JSON.parse(res.body) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode, body: parsed };
}

beforeAll(async () => {
  const { config } = loadRegistryConfig({ FRAMECAST_ADMIN_KEY: ADMIN_KEY, FRAMECAST_TOKEN_SECRET: 's'.repeat(32) }, { embedded: true });
  server = await buildRegistryServer(config, createLogger('registry-bad-input', 'silent'));
  await server.app.ready();
  expect((await api('POST', '/rooms', { name: 'lobby', title: 'Lobby' })).status).toBe(201);
  anyRoomKey = (await api('POST', '/agent-keys', { name: 'any', rooms: ['*'] })).body.key;
});
afterAll(async () => {
  await server?.shutdown();
});

const validHook = { url: 'http://127.0.0.1:9/hook', events: ['room.online'] };
const validKey = { name: 'box', rooms: ['lobby'] };
type Case = [what: string, method: string, path: string, body: unknown, field: string];

// Every route that takes input, given bad input: a 400 whose JSON names the field.
const badInput: Case[] = [
  ['unknown field', 'POST', '/rooms', { name: 'a', colour: 'red' }, 'colour'],
  ['missing name', 'POST', '/rooms', { title: 'x' }, 'name'],
  ['bad room name in body', 'POST', '/rooms', { name: 'no spaces' }, 'name'],
  ['oversize title', 'POST', '/rooms', { name: 'a', title: 'x'.repeat(201) }, 'title'],
  ['oversize description', 'POST', '/rooms', { name: 'a', description: 'x'.repeat(2001) }, 'description'],
  ['bad visibility', 'POST', '/rooms', { name: 'a', visibility: 'secret' }, 'visibility'],
  ['wrong type', 'POST', '/rooms', { name: 42 }, 'name'],
  ['not an object', 'POST', '/rooms', [1, 2], 'body'],
  ['invalid JSON', 'POST', '/rooms', '{"name":', 'body'],
  ['bad room name in path (GET)', 'GET', '/rooms/-dash', undefined, 'room'],
  ['bad room name in path (PATCH)', 'PATCH', '/rooms/a%20b', { title: 'x' }, 'room'],
  ['over-long room name in path', 'DELETE', `/rooms/${'a'.repeat(65)}`, undefined, 'room'],
  ['unknown field in update', 'PATCH', '/rooms/lobby', { name: 'renamed' }, 'name'],
  ['empty update', 'PATCH', '/rooms/lobby', {}, 'body'],
  ['bad query', 'GET', '/rooms/lobby/history?since=yesterday', undefined, 'since'],
  ['unknown query field', 'GET', '/rooms/lobby/history?limit=3', undefined, 'limit'],
  ['bad room in viewers path', 'GET', '/rooms/%2F/viewers', undefined, 'room'],
  ['token ttl too long', 'POST', '/rooms/lobby/tokens', { ttlSeconds: 10 * 86_400 }, 'ttlSeconds'],
  ['token ttl as text', 'POST', '/rooms/lobby/tokens', { ttlSeconds: '60' }, 'ttlSeconds'],
  ['oversize token user', 'POST', '/rooms/lobby/tokens', { user: 'u'.repeat(129) }, 'user'],
  ['unknown token field', 'POST', '/rooms/lobby/tokens', { rooms: ['other'] }, 'rooms'],
  ['heartbeat without cameras', 'POST', '/agents/box-1/heartbeat', { intervalMs: 1000, version: 'x' }, 'cameras'],
  ['heartbeat camera bad room', 'POST', '/agents/box-1/heartbeat', { ...heartbeat(['bad room']) }, 'cameras[0].room'],
  ['heartbeat camera unknown field', 'POST', '/agents/box-1/heartbeat', { ...heartbeat(['lobby']), cameras: [{ ...heartbeat(['lobby']).cameras[0], colour: 1 }] }, 'cameras[0].colour'],
  ['heartbeat negative fps', 'POST', '/agents/box-1/heartbeat', { ...heartbeat(['lobby'], -1) }, 'cameras[0].fps'],
  ['heartbeat bad agent id', 'POST', '/agents/bad:id/heartbeat', heartbeat(['lobby']), 'agentId'],
  ['agent key without rooms', 'POST', '/agent-keys', { name: 'box', rooms: [] }, 'rooms'],
  ['agent key bad room', 'POST', '/agent-keys', { name: 'box', rooms: ['a b'] }, 'rooms[0]'],
  ['agent key unknown field', 'POST', '/agent-keys', { ...validKey, admin: true }, 'admin'],
  ['webhook bad url', 'POST', '/webhooks', { ...validHook, url: 'ftp://x' }, 'url'],
  ['webhook unknown event', 'POST', '/webhooks', { ...validHook, events: ['room.exploded'] }, 'events[0]'],
  ['webhook no events', 'POST', '/webhooks', { ...validHook, events: [] }, 'events'],
  ['webhook short secret', 'POST', '/webhooks', { ...validHook, secret: 'short' }, 'secret'],
  ['webhook bad room', 'POST', '/webhooks', { ...validHook, room: 'a/b' }, 'room'],
  ['webhook unknown field', 'POST', '/webhooks', { ...validHook, retries: 3 }, 'retries'],
  ['deliveries bad limit', 'GET', '/webhooks/abc/deliveries?limit=many', undefined, 'limit'],
  ['webhook bad id', 'DELETE', '/webhooks/a:b', undefined, 'id'],
];

describe('registry API bad input', () => {
  it.each(badInput)('%s: 400 naming the field', async (_what, method, path, body, field) => {
    const res = await api(method, path, body, path.startsWith('/agents/') ? anyRoomKey : ADMIN_KEY);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error: expect.stringMatching(/^invalid_(request|json)$/), field });
    expect(typeof res.body.message).toBe('string');
  });

  it('an oversized body is refused (413) without reaching the handler', async () => {
    const res = await api('POST', '/rooms', { name: 'big', description: 'x'.repeat(70 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'payload_too_large', field: 'body' });
  });

  const unknownRoom: Array<[string, string, unknown]> = [
    ['GET', '/rooms/nowhere', undefined],
    ['PATCH', '/rooms/nowhere', { title: 'x' }],
    ['DELETE', '/rooms/nowhere', undefined],
    ['GET', '/rooms/nowhere/viewers', undefined],
    ['GET', '/rooms/nowhere/history', undefined],
    ['POST', '/rooms/nowhere/tokens', {}],
  ];
  it.each(unknownRoom)('%s %s: 404 room_not_found', async (method, path, body) => {
    const res = await api(method, path, body);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('room_not_found');
  });

  it('unknown webhooks, agent keys and routes are 404 with a code', async () => {
    expect((await api('GET', '/webhooks/abcdef')).body.error).toBe('webhook_not_found');
    expect((await api('DELETE', '/agent-keys/abcdef')).body.error).toBe('agent_key_not_found');
    expect(await api('GET', '/nothing-here')).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });

  it('a room that exists is a 409 on create', async () => {
    expect(await api('POST', '/rooms', { name: 'lobby' })).toMatchObject({ status: 409, body: { error: 'room_exists', field: 'name' } });
  });

  const adminRoutes: Array<[string, string, unknown]> = [
    ['POST', '/rooms', { name: 'x' }],
    ['PATCH', '/rooms/lobby', { title: 'x' }],
    ['DELETE', '/rooms/lobby', undefined],
    ['GET', '/rooms/lobby/viewers', undefined],
    ['GET', '/rooms/lobby/history', undefined],
    ['POST', '/rooms/lobby/tokens', {}],
    ['POST', '/agent-keys', validKey],
    ['GET', '/agent-keys', undefined],
    ['POST', '/webhooks', validHook],
    ['GET', '/webhooks', undefined],
    ['GET', '/webhooks/abc/deliveries', undefined],
  ];
  it.each(adminRoutes)('%s %s: 401 without the admin key, 403 with a wrong one (even with a bad body)', async (method, path, body) => {
    expect(await api(method, path, body, null)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(await api(method, path, body, 'wrong-key-wrong-key')).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    // Auth is checked before the body: a stranger learns nothing about the schema.
    if (body !== undefined) expect((await api(method, path, { junk: true }, null)).status).toBe(401);
  });

  it('heartbeats need an agent key whose rooms include every camera', async () => {
    expect(await api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby']), null)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(await api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby']), ADMIN_KEY)).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    const created = await api('POST', '/agent-keys', validKey);
    expect(created.status).toBe(201);
    expect(created.body.redisAcl).toMatch(/^ACL SETUSER framecast-agent-[0-9a-f]+ reset on #[0-9a-f]{64} %W~video_lobby:last %W~video_lobby~\*:last %W~\{video_lobby\}:last %W~\{video_lobby~\*\}:last &video_lobby &video_lobby~\* \+publish \+set \+pubsub\|numsub \+spublish \+pubsub\|shardnumsub \+cluster\|slots /);
    const ok = await api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby']), created.body.key);
    expect(ok).toMatchObject({ status: 200, body: { accepted: 1 } });
    const refused = await api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby', 'other']), created.body.key);
    expect(refused).toMatchObject({ status: 403, body: { error: 'forbidden', field: 'cameras[1].room' } });
    expect((await api('DELETE', `/agent-keys/${created.body.id}`)).status).toBe(204);
    expect((await api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby']), created.body.key)).status).toBe(403);
  });

  it('lists only public rooms without the admin key, every room with it', async () => {
    expect((await api('POST', '/rooms', { name: 'vault', visibility: 'private' })).status).toBe(201);
    const open = await api('GET', '/rooms', undefined, null);
    expect(open.body.rooms.map((r: { name: string }) => r.name)).not.toContain('vault');
    expect((await api('GET', '/rooms/vault', undefined, null)).status).toBe(404);
    const all = await api('GET', '/rooms');
    expect(all.body.rooms.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['lobby', 'vault']));
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.paths);
    for (const p of ['/api/rooms', '/api/rooms/{room}', '/api/rooms/{room}/tokens', '/api/rooms/{room}/viewers', '/api/rooms/{room}/history', '/api/agents/{agentId}/heartbeat', '/api/agent-keys', '/api/webhooks', '/api/webhooks/{id}/deliveries']) {
      expect(paths).toContain(p);
    }
    // The very schema that validates requests: unknown fields refused, limits stated.
    const create = doc.paths['/api/rooms'].post.requestBody.content['application/json'].schema;
    expect(create).toMatchObject({ additionalProperties: false, required: ['name'], properties: { title: { maxLength: 200 } } });
  });
});

