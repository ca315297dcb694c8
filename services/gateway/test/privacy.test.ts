import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, VIEWER_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '@framecast/protocol';
import { startTestRedis, stopAllServices, TestViewer, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import { ViewerTokenSigner } from '@framecast/viewer-tokens';
import { startAgent, startGateway, TestPublisher, type GatewayProcess } from './helpers.ts';
import { startRegistry, TOKEN_SECRET, type RegistryProcess } from '../../registry/test/helpers.ts';

// Deny by default, against real registry, gateway, capture agent and Redis processes: each case
// is one of the ways a private room used to open up (issue 8, findings 1–3), now refused.

const REFRESH_MS = 500;
const ALLOWED_ORIGIN = 'https://cams.example.com';
let redis: TestRedis;
let admin: Redis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let agentKey: string;
const agents: ServiceProcess[] = [];
const publishers: Array<{ pub: TestPublisher; timer: NodeJS.Timeout }> = [];
const signer = new ViewerTokenSigner(TOKEN_SECRET);

beforeAll(async () => {
  redis = await startTestRedis({ needsControl: true });
  admin = new Redis(redis.url);
  reg = await startRegistry(redis.url, { FRAMECAST_AGENT_TIMEOUT_MS: '3000', FRAMECAST_SWEEP_INTERVAL_MS: '500' });
  agentKey = (await reg.api('POST', '/agent-keys', { name: 'box', rooms: ['*'] })).body.key;
  gw = await startGateway(redis.url, {
    FRAMECAST_AUTH: 'on',
    FRAMECAST_TOKEN_SECRET: TOKEN_SECRET,
    FRAMECAST_ROOMS_REFRESH_MS: String(REFRESH_MS),
    FRAMECAST_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
  });
  await waitFor('gateway ready', async () => (await fetch(`http://127.0.0.1:${gw.port}/readyz`)).status === 200, 10_000);
});
afterAll(async () => {
  for (const p of publishers) {
    clearInterval(p.timer);
    p.pub.close();
  }
  admin?.disconnect();
  await stopAllServices();
  await redis?.close();
});

/** A real capture agent on a test pattern, heartbeating to the registry with an agent key. */
async function camera(room: string): Promise<ServiceProcess> {
  const agent = await startAgent(redis.url, room, 'testsrc', {
    FRAMECAST_FPS: '5',
    FRAMECAST_REGISTRY_URL: reg.url,
    FRAMECAST_AGENT_KEY: agentKey,
    FRAMECAST_AGENT_ID: `box-${room}`,
    FRAMECAST_HEARTBEAT_INTERVAL_MS: '500',
  });
  agents.push(agent);
  return agent;
}

function publish(room: string): void {
  const pub = new TestPublisher(redis.url, room);
  publishers.push({ pub, timer: setInterval(() => void pub.frame(2000), 50) });
}

async function refusal(url: string, opts?: ConstructorParameters<typeof TestViewer>[1]): Promise<TestViewer> {
  const v = new TestViewer(url, opts);
  await v.closed;
  expect(v.frames).toHaveLength(0);
  return v;
}

async function watching(url: string, opts?: ConstructorParameters<typeof TestViewer>[1]): Promise<TestViewer> {
  const v = new TestViewer(url, opts);
  await waitFor(`frames at ${url}`, () => v.frames.length >= 2 || v.closeCode !== null, 10_000);
  expect(v.closeCode).toBeNull();
  return v;
}

/** Waits until the gateway lets a tokenless viewer into `room` (its public set has caught up). */
async function publicAtGateway(room: string): Promise<void> {
  await waitFor(`${room} public at the gateway`, async () => {
    const v = new TestViewer(gw.wsUrl(room));
    await waitFor('hello or close', () => v.control.length > 0 || v.closeCode !== null, 5000);
    v.close();
    return v.control[0]?.type === 'hello';
  }, 5000);
}

const anonymousList = async () => ((await reg.api('GET', '/rooms', undefined, null)).body.rooms as Array<{ name: string }>).map((r) => r.name);

describe('private rooms fail closed', () => {
  it('a room known only from camera heartbeats is private: not listed, no tokenless viewer, token holders watch', async () => {
    await camera('camonly');
    await waitFor('room live from heartbeats', async () => (await reg.api('GET', '/rooms/camonly')).body.live === true, 15_000);
    expect((await reg.api('GET', '/rooms/camonly')).body.visibility).toBe('private');
    expect(await anonymousList()).not.toContain('camonly');
    expect((await reg.api('GET', '/rooms/camonly', undefined, null)).status).toBe(404);

    const v = await refusal(gw.wsUrl('camonly'));
    expect(v.closeCode).toBe(CloseCode.Unauthorized);
    expect(v.control[0]).toMatchObject({ type: 'error', error: 'room_private', code: CloseCode.Unauthorized });
    expect(v.closeReason).toBe('this room is private: a viewer token is required');

    const { token } = await signer.issue({ rooms: ['camonly'], ttlSeconds: 600 });
    (await watching(`${gw.wsUrl('camonly')}?token=${token}`)).close();
  });

  it('deleting a private room keeps it private, and its camera\'s next heartbeat re-creates it private and unlisted', async () => {
    expect((await reg.api('POST', '/rooms', { name: 'vault', visibility: 'private' })).status).toBe(201);
    await camera('vault');
    await waitFor('vault live', async () => (await reg.api('GET', '/rooms/vault')).body.live === true, 15_000);
    expect((await reg.api('DELETE', '/rooms/vault')).status).toBe(204);
    expect((await refusal(gw.wsUrl('vault'))).closeCode).toBe(CloseCode.Unauthorized);
    // The camera still heartbeats: the record comes back, as private as it was.
    await waitFor('vault re-created by a heartbeat', async () => (await reg.api('GET', '/rooms/vault')).status === 200, 10_000);
    expect((await reg.api('GET', '/rooms/vault')).body).toMatchObject({ visibility: 'private', live: true });
    expect(await anonymousList()).not.toContain('vault');
    expect((await refusal(gw.wsUrl('vault'))).closeCode).toBe(CloseCode.Unauthorized);
  });

  it('a public room whose record deleted becomes private at once for watching tokenless viewers', async () => {
    expect((await reg.api('POST', '/rooms', { name: 'fleeting', visibility: 'public' })).status).toBe(201);
    publish('fleeting');
    const anon = await watching(gw.wsUrl('fleeting'));
    expect((await reg.api('DELETE', '/rooms/fleeting')).status).toBe(204);
    expect(await anon.closed).toBe(CloseCode.Unauthorized);
    expect(anon.control.at(-1)).toMatchObject({ error: 'room_private' });
  });

  it('Redis losing its data (FLUSHALL while a camera heartbeats) makes every room private, never public', async () => {
    expect((await reg.api('POST', '/rooms', { name: 'lobby', visibility: 'public' })).status).toBe(201);
    expect((await reg.api('POST', '/rooms', { name: 'backroom', visibility: 'private' })).status).toBe(201);
    await camera('lobby');
    publish('backroom');
    const anon = await watching(gw.wsUrl('lobby'));
    expect((await refusal(gw.wsUrl('backroom'))).closeCode).toBe(CloseCode.Unauthorized);

    const flushedAt = Date.now();
    await admin.flushall();
    // The gateway learns within one refresh (a FLUSHALL announces nothing) and closes the viewer.
    expect(await anon.closed).toBe(CloseCode.Unauthorized);
    expect(Date.now() - flushedAt).toBeLessThan(REFRESH_MS + 2000);
    // Frames keep flowing on the bus, but nobody without a token sees them, in either room.
    for (const room of ['lobby', 'backroom']) {
      const v = await refusal(gw.wsUrl(room));
      expect(v.closeCode, room).toBe(CloseCode.Unauthorized);
      expect(v.control[0], room).toMatchObject({ error: 'room_private' });
    }
    expect(await anonymousList()).toEqual([]);
    const { token } = await signer.issue({ rooms: ['lobby'], ttlSeconds: 600 });
    (await watching(`${gw.wsUrl('lobby')}?token=${token}`)).close();
  });
});

describe('a token is a lease', () => {
  it('a viewer with a token in a room that turns private keeps watching until the token expires, then gets 4401', async () => {
    expect((await reg.api('POST', '/rooms', { name: 'stage', visibility: 'public' })).status).toBe(201);
    publish('stage');
    const { token, expiresAt } = await signer.issue({ rooms: ['stage'], user: 'lessee', ttlSeconds: 4 });
    const holder = await watching(`${gw.wsUrl('stage')}?token=${token}`);
    const anon = await watching(gw.wsUrl('stage'));
    expect((await reg.api('PATCH', '/rooms/stage', { visibility: 'private' })).status).toBe(200);
    expect(await anon.closed).toBe(CloseCode.Unauthorized);
    const framesAtTurn = holder.frames.length;
    await waitFor('holder still receiving after the room turned private', () => holder.frames.length > framesAtTurn + 3, 5000);
    expect(await holder.closed).toBe(CloseCode.Unauthorized);
    expect(Math.abs(Date.now() - expiresAt)).toBeLessThan(1000);
    expect(holder.control.at(-1)).toMatchObject({ type: 'error', error: 'token_expired', code: CloseCode.Unauthorized });
    expect(holder.closeReason).toBe('viewer token expired');
  });

  it('the lease ends when the room is public again: the viewer is no longer there on its token', async () => {
    expect((await reg.api('POST', '/rooms', { name: 'swing', visibility: 'public' })).status).toBe(201);
    publish('swing');
    const { token, expiresAt } = await signer.issue({ rooms: ['swing'], ttlSeconds: 2 });
    const holder = await watching(`${gw.wsUrl('swing')}?token=${token}`);
    expect((await reg.api('PATCH', '/rooms/swing', { visibility: 'private' })).status).toBe(200);
    expect((await reg.api('PATCH', '/rooms/swing', { visibility: 'public' })).status).toBe(200);
    // Wait for the last change to reach the gateway: a tokenless viewer gets in again.
    await publicAtGateway('swing');
    const after = holder.frames.length;
    await waitFor('past the token expiry', () => Date.now() > expiresAt + 1000 && holder.frames.length > after, 6000);
    expect(holder.closeCode).toBeNull();
    holder.close();
  });
});

describe('tokens out of URLs, and an Origin policy', () => {
  it('takes the token from the Sec-WebSocket-Protocol header and selects framecast.v1, never the token', async () => {
    publish('subproto');
    expect((await reg.api('POST', '/rooms', { name: 'subproto', visibility: 'private' })).status).toBe(201);
    const { token } = await signer.issue({ rooms: ['subproto'], ttlSeconds: 600 });
    const v = await watching(gw.wsUrl('subproto'), { protocols: [VIEWER_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + token] });
    expect(v.protocol).toBe(VIEWER_SUBPROTOCOL);
    v.close();
    const bad = await refusal(gw.wsUrl('subproto'), { protocols: [VIEWER_SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}not.a.jwt`] });
    expect(bad.closeCode).toBe(CloseCode.Unauthorized);
    expect(bad.control[0]).toMatchObject({ error: 'unauthorized' });
  });

  it('refuses websocket upgrades from origins outside FRAMECAST_ALLOWED_ORIGINS with 4403, and lets the same origin and non-browsers in', async () => {
    expect((await reg.api('POST', '/rooms', { name: 'square', visibility: 'public' })).status).toBe(201);
    publish('square');
    await publicAtGateway('square');
    const evil = await refusal(gw.wsUrl('square'), { headers: { origin: 'https://evil.example' } });
    expect(evil.closeCode).toBe(CloseCode.Forbidden);
    expect(evil.control[0]).toMatchObject({ error: 'origin_forbidden' });
    for (const origin of [ALLOWED_ORIGIN, `http://127.0.0.1:${gw.port}`, undefined]) {
      (await watching(gw.wsUrl('square'), origin ? { headers: { origin } } : {})).close();
    }
    expect(await gw.metric('framecast_gateway_viewers_refused_total', 'reason="origin_forbidden"')).toBe(1);
  });
});
