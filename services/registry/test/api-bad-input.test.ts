import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, startTestRedis, stopAllServices, type TestRedis } from '@framecast/testing';
import { ADMIN_KEY, heartbeat, startRegistry, type RegistryProcess } from './helpers.ts';

let redis: TestRedis;
let reg: RegistryProcess;
/** An agent key for any room: heartbeat routes check the agent key before the body. */
let anyRoomKey: string;

beforeAll(async () => {
  redis = await startTestRedis();
  reg = await startRegistry(redis.url);
  expect((await reg.api('POST', '/rooms', { name: 'lobby', title: 'Lobby' })).status).toBe(201);
  anyRoomKey = (await reg.api('POST', '/agent-keys', { name: 'any', rooms: ['*'] })).body.key;
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
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
    const res = await reg.api(method, path, body, path.startsWith('/agents/') ? anyRoomKey : ADMIN_KEY);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error: expect.stringMatching(/^invalid_(request|json)$/), field });
    expect(typeof res.body.message).toBe('string');
  });

  it('an oversized body is refused (413) without reaching the handler', async () => {
    const res = await reg.api('POST', '/rooms', { name: 'big', description: 'x'.repeat(70 * 1024) });
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
    const res = await reg.api(method, path, body);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('room_not_found');
  });

  it('unknown webhooks, agent keys and routes are 404 with a code', async () => {
    expect((await reg.api('GET', '/webhooks/abcdef')).body.error).toBe('webhook_not_found');
    expect((await reg.api('DELETE', '/agent-keys/abcdef')).body.error).toBe('agent_key_not_found');
    expect(await reg.api('GET', '/nothing-here')).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });

  it('a room that exists is a 409 on create', async () => {
    expect(await reg.api('POST', '/rooms', { name: 'lobby' })).toMatchObject({ status: 409, body: { error: 'room_exists', field: 'name' } });
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
    expect(await reg.api(method, path, body, null)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(await reg.api(method, path, body, 'wrong-key-wrong-key')).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    // Auth is checked before the body: a stranger learns nothing about the schema.
    if (body !== undefined) expect((await reg.api(method, path, { junk: true }, null)).status).toBe(401);
  });

  it('heartbeats need an agent key whose rooms include every camera', async () => {
    expect(await reg.api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby']), null)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(await reg.api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby']), ADMIN_KEY)).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    const created = await reg.api('POST', '/agent-keys', validKey);
    expect(created.status).toBe(201);
    expect(created.body.redisAcl).toMatch(/^ACL SETUSER framecast-agent-[0-9a-f]+ reset on #[0-9a-f]{64} %W~video_lobby:last &video_lobby \+publish/);
    const ok = await reg.api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby']), created.body.key);
    expect(ok).toMatchObject({ status: 200, body: { accepted: 1 } });
    const refused = await reg.api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby', 'other']), created.body.key);
    expect(refused).toMatchObject({ status: 403, body: { error: 'forbidden', field: 'cameras[1].room' } });
    expect((await reg.api('DELETE', `/agent-keys/${created.body.id}`)).status).toBe(204);
    expect((await reg.api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby']), created.body.key)).status).toBe(403);
  });

  it('lists only public rooms without the admin key, every room with it', async () => {
    expect((await reg.api('POST', '/rooms', { name: 'vault', visibility: 'private' })).status).toBe(201);
    const open = await reg.api('GET', '/rooms', undefined, null);
    expect(open.body.rooms.map((r: { name: string }) => r.name)).not.toContain('vault');
    expect((await reg.api('GET', '/rooms/vault', undefined, null)).status).toBe(404);
    const all = await reg.api('GET', '/rooms');
    expect(all.body.rooms.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['lobby', 'vault']));
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const res = await fetch(`${reg.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await res.json();
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

describe('registry configuration', () => {
  const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ['missing REDIS_URL', { REDIS_URL: undefined }, /REDIS_URL: is required/],
    ['no token secret with auth on', { FRAMECAST_TOKEN_SECRET: undefined }, /FRAMECAST_TOKEN_SECRET: is required while FRAMECAST_AUTH=on/],
    ['no admin key with auth on', { FRAMECAST_ADMIN_KEY: undefined }, /FRAMECAST_ADMIN_KEY: is required while FRAMECAST_AUTH=on/],
    ['short token secret', { FRAMECAST_TOKEN_SECRET: 'short' }, /FRAMECAST_TOKEN_SECRET: must be at least 32 bytes/],
    ['bad FRAMECAST_AUTH', { FRAMECAST_AUTH: 'maybe' }, /FRAMECAST_AUTH: must be on or off/],
    ['sweep slower than the timeouts', { FRAMECAST_SWEEP_INTERVAL_MS: '60000' }, /FRAMECAST_SWEEP_INTERVAL_MS: must not exceed/],
    ['bad webhook attempts', { FRAMECAST_WEBHOOK_ATTEMPTS: 'many' }, /FRAMECAST_WEBHOOK_ATTEMPTS: must be an integer/],
  ];
  it.each(cases)('%s: exits 2 with one line naming the variable', async (_name, env, message) => {
    const svc = await startService('registry-badconfig', {
      entry: 'services/registry/src/main.ts',
      env: { REDIS_URL: redis.url, PORT: '0', FRAMECAST_ADMIN_KEY: ADMIN_KEY, FRAMECAST_TOKEN_SECRET: 'x'.repeat(32), ...env },
    });
    expect(await svc.exited).toBe(2);
    const line = svc.lines.find((l) => message.test(l));
    expect(line, svc.lines.join('\n')).toMatch(/^framecast-registry: invalid configuration: /);
  });

  it('starts without secrets only when auth is explicitly off, and says so', async () => {
    const svc = await startRegistry(redis.url, { FRAMECAST_AUTH: 'off', FRAMECAST_ADMIN_KEY: '', FRAMECAST_TOKEN_SECRET: '' });
    expect(svc.lines.join('\n')).toMatch(/auth is off/);
    expect((await svc.api('POST', '/rooms/lobby/tokens', {}, null)).body.error).toBe('auth_disabled');
    await svc.stop();
  });
});
