import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@framecast/logging';
import { ViewerTokenSigner, ViewerTokenVerifier } from '@framecast/viewer-tokens';
import { heartbeat } from '../test/helpers.ts';
import { loadRegistryConfig } from './config.ts';
import { buildRegistryServer, type RegistryServer } from './server.ts';

// POST /api/rooms/:room/publish-tokens in process through inject(), over the in-memory store: what
// it issues (a publish-scoped token the gateways' publish check takes and their viewer check
// refuses), when it refuses (a live camera in the room, no admin key, bad bodies, unknown rooms,
// auth off), and that viewer tokens stay what they were.

const ADMIN_KEY = 'unit-admin-key-0123456789';
const SECRET = 'p'.repeat(32);
let server: RegistryServer;
let agentKey: string;
const verifier = new ViewerTokenVerifier(SECRET);

interface Answer {
  status: number;
  body: any;
}

async function call(app: RegistryServer['app'], method: string, path: string, body?: unknown, key: string | null = ADMIN_KEY): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.inject({ method: method as 'POST', url: `/api${path}`, headers, ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
}
const api = (method: string, path: string, body?: unknown, key: string | null = ADMIN_KEY) => call(server.app, method, path, body, key);

beforeAll(async () => {
  const { config } = loadRegistryConfig({ FRAMECAST_ADMIN_KEY: ADMIN_KEY, FRAMECAST_TOKEN_SECRET: SECRET }, { embedded: true });
  server = await buildRegistryServer(config, createLogger('registry-publish-tokens', 'silent'));
  await server.app.ready();
  for (const [name, visibility] of [['studio', 'private'], ['gate', 'public'], ['porch', 'public']]) {
    expect((await api('POST', '/rooms', { name, visibility })).status).toBe(201);
  }
  agentKey = (await api('POST', '/agent-keys', { name: 'box', rooms: ['gate'] })).body.key;
});
afterAll(async () => {
  await server?.shutdown();
});

describe('POST /api/rooms/:room/publish-tokens', () => {
  it('issues a publish token for the room: 201 {token, expiresAt, room, user}, publish scope only', async () => {
    const before = Date.now();
    const res = await api('POST', '/rooms/studio/publish-tokens', { ttlSeconds: 120, user: 'phone' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ token: expect.any(String), room: 'studio', user: 'phone', expiresAt: expect.any(Number) });
    expect(res.body.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 120_000);
    expect(res.body.expiresAt).toBeLessThanOrEqual(before + 121_000);
    const asPublish = verifier.verify(res.body.token, 'publish');
    expect(asPublish).toEqual({ ok: true, claims: { user: 'phone', rooms: ['studio'], expiresAt: res.body.expiresAt, scope: 'publish' } });
    // Never a viewer token: it does not open the (private) room for watching.
    expect(verifier.verify(res.body.token)).toMatchObject({ ok: false, reason: 'wrong_scope' });
    expect(verifier.verify(res.body.token, 'view')).toMatchObject({ ok: false, reason: 'wrong_scope' });
  });

  it('without a body: the default lifetime (FRAMECAST_TOKEN_TTL_S) and no user', async () => {
    const res = await call(server.app, 'POST', '/rooms/studio/publish-tokens');
    expect(res.status).toBe(201);
    expect(res.body.user).toBeNull();
    expect(res.body.expiresAt - Date.now()).toBeGreaterThan(3_590_000);
  });

  it('viewer tokens stay viewer tokens: they never publish, and old ones (no scope claim) still watch', async () => {
    const viewer = (await api('POST', '/rooms/studio/tokens', { ttlSeconds: 60 })).body.token as string;
    expect(verifier.verify(viewer)).toMatchObject({ ok: true, claims: { rooms: ['studio'], scope: 'view' } });
    expect(verifier.verify(viewer, 'publish')).toMatchObject({ ok: false, reason: 'wrong_scope', message: expect.stringMatching(/viewer token cannot publish/) });
    // A token as signed before scopes existed: exactly { rooms, iss, aud, iat, exp }.
    const payload = JSON.parse(Buffer.from(viewer.split('.')[1]!, 'base64url').toString());
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'rooms']);
    // A forged publish token (another secret) is simply invalid, an expired one expired.
    const forged = (await new ViewerTokenSigner('q'.repeat(32)).issue({ rooms: ['studio'], ttlSeconds: 60, scope: 'publish' })).token;
    expect(verifier.verify(forged, 'publish')).toMatchObject({ ok: false, reason: 'invalid' });
    const expired = (await new ViewerTokenSigner(SECRET).issue({ rooms: ['studio'], ttlSeconds: 10, scope: 'publish', now: Date.now() - 60_000 })).token;
    expect(verifier.verify(expired, 'publish')).toMatchObject({ ok: false, reason: 'expired', message: 'publish token expired' });
  });

  it('is refused (409 room_has_camera) while a capture agent reports a camera in the room, unless allowWithCamera', async () => {
    expect((await api('POST', '/agents/box-1/heartbeat', heartbeat(['gate']), agentKey)).status).toBe(200);
    const refused = await api('POST', '/rooms/gate/publish-tokens', {});
    expect(refused).toMatchObject({ status: 409, body: { error: 'room_has_camera', message: expect.stringMatching(/box-1.*allowWithCamera/) } });
    const allowed = await api('POST', '/rooms/gate/publish-tokens', { allowWithCamera: true });
    expect(allowed).toMatchObject({ status: 201, body: { room: 'gate' } });
    // A room without a camera needs no such flag; the flag set to false changes nothing.
    expect((await api('POST', '/rooms/porch/publish-tokens', { allowWithCamera: false })).status).toBe(201);
    expect((await api('POST', '/rooms/gate/publish-tokens', { allowWithCamera: false })).status).toBe(409);
  });

  it('is admin only: 401 without the key, 403 with a wrong one, even with a bad body', async () => {
    expect(await api('POST', '/rooms/studio/publish-tokens', {}, null)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(await api('POST', '/rooms/studio/publish-tokens', {}, 'wrong-key-wrong-key')).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect((await api('POST', '/rooms/studio/publish-tokens', { junk: true }, null)).status).toBe(401);
    // An agent key is not the admin key.
    expect((await api('POST', '/rooms/gate/publish-tokens', {}, agentKey)).status).toBe(403);
  });

  const badBodies: Array<[string, unknown, string]> = [
    ['ttl too long', { ttlSeconds: 8 * 86_400 }, 'ttlSeconds'],
    ['ttl too short', { ttlSeconds: 5 }, 'ttlSeconds'],
    ['ttl as text', { ttlSeconds: '60' }, 'ttlSeconds'],
    ['oversize user', { user: 'u'.repeat(129) }, 'user'],
    ['control character in user', { user: 'a\nb' }, 'user'],
    ['allowWithCamera as text', { allowWithCamera: 'yes' }, 'allowWithCamera'],
    ['unknown field', { rooms: ['other'] }, 'rooms'],
    ['scope is not the caller’s to choose', { scope: 'view' }, 'scope'],
    ['not an object', [1], 'body'],
    ['invalid JSON', '{"ttlSeconds":', 'body'],
  ];
  it.each(badBodies)('%s: 400 naming the field', async (_what, body, field) => {
    const res = await api('POST', '/rooms/studio/publish-tokens', body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error: expect.stringMatching(/^invalid_(request|json)$/), field });
  });

  it('a bad room name is a 400, an unknown room a 404', async () => {
    expect(await api('POST', '/rooms/no%20spaces/publish-tokens', {})).toMatchObject({ status: 400, body: { field: 'room' } });
    expect(await api('POST', '/rooms/nowhere/publish-tokens', {})).toMatchObject({ status: 404, body: { error: 'room_not_found' } });
  });

  it('is in the OpenAPI document with its operationId, admin security and the 409', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const op = doc.paths['/api/rooms/{room}/publish-tokens'].post;
    expect(op).toMatchObject({ operationId: 'createPublishToken', security: [{ adminKey: [] }], tags: ['tokens'] });
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '404', '409']));
    expect(op.requestBody.content['application/json'].schema).toMatchObject({ additionalProperties: false, properties: { allowWithCamera: { type: 'boolean' } } });
  });

  it('with auth off there is no secret: 409 auth_disabled', async () => {
    const { config } = loadRegistryConfig({ FRAMECAST_AUTH: 'off' }, { embedded: true });
    const open = await buildRegistryServer(config, createLogger('registry-publish-tokens-off', 'silent'));
    try {
      await open.app.ready();
      expect((await call(open.app, 'POST', '/rooms', { name: 'studio' }, null)).status).toBe(201);
      expect(await call(open.app, 'POST', '/rooms/studio/publish-tokens', {}, null)).toMatchObject({ status: 409, body: { error: 'auth_disabled' } });
    } finally {
      await open.shutdown();
    }
  });
});
