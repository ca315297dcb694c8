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

// The API's bad-input table runs in process (src/api-bad-input.test.ts); here only what a process
// shows: one bad request over real HTTP, exit codes and start-up lines.
describe('registry API over HTTP', () => {
  it('answers bad input with a 400 naming the field, and an oversized body with 413', async () => {
    expect(await reg.api('POST', '/rooms', { name: 'no spaces' })).toMatchObject({ status: 400, body: { error: 'invalid_request', field: 'name' } });
    expect(await reg.api('POST', '/rooms', '{"name":')).toMatchObject({ status: 400, body: { error: 'invalid_json', field: 'body' } });
    expect(await reg.api('POST', '/rooms', { name: 'big', description: 'x'.repeat(70 * 1024) })).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
    expect(await reg.api('GET', '/rooms/lobby/viewers', undefined, null)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(await reg.api('POST', '/agents/box-1/heartbeat', heartbeat(['lobby']), anyRoomKey)).toMatchObject({ status: 200 });
  });
});

describe('registry configuration', () => {
  // Every rule is held in process by src/config.test.ts; a process shows how a refusal looks.
  it('a bad variable: exits 2 with one line naming it', async () => {
    const svc = await startService('registry-badconfig', {
      entry: 'services/registry/src/main.ts',
      env: { REDIS_URL: redis.url, PORT: '0', FRAMECAST_ADMIN_KEY: ADMIN_KEY, FRAMECAST_TOKEN_SECRET: 'short' },
    });
    expect(await svc.exited).toBe(2);
    expect(svc.lines.find((l) => l.includes('FRAMECAST_TOKEN_SECRET')), svc.lines.join('\n')).toMatch(/^framecast-registry: invalid configuration: FRAMECAST_TOKEN_SECRET: must be at least 32 bytes/);
  });

  it('starts without secrets only when auth is explicitly off, and says so', async () => {
    const svc = await startRegistry(redis.url, { FRAMECAST_AUTH: 'off', FRAMECAST_ADMIN_KEY: '', FRAMECAST_TOKEN_SECRET: '' });
    expect(svc.lines.join('\n')).toMatch(/auth is off/);
    expect((await svc.api('POST', '/rooms/lobby/tokens', {}, null)).body.error).toBe('auth_disabled');
    await svc.stop();
  });
});
