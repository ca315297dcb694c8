import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@framecast/protocol';
import { startService, startTestRedis, stopAllServices, TestViewer, waitFor, type TestRedis } from '@framecast/testing';
import { ViewerTokenSigner } from '@framecast/viewer-tokens';
import { startGateway, TestPublisher, type GatewayProcess } from './helpers.ts';
import { startRegistry, TOKEN_SECRET, type RegistryProcess } from '../../registry/test/helpers.ts';

let redis: TestRedis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let pub: TestPublisher;
let publishing: NodeJS.Timeout;

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

beforeAll(async () => {
  redis = await startTestRedis();
  reg = await startRegistry(redis.url);
  for (const [name, visibility] of [['vaulta', 'private'], ['vaultb', 'private'], ['plaza', 'public'], ['turning', 'public']]) {
    expect((await reg.api('POST', '/rooms', { name, visibility })).status).toBe(201);
  }
  gw = await startGateway(redis.url, { FRAMECAST_AUTH: 'on', FRAMECAST_TOKEN_SECRET: TOKEN_SECRET, FRAMECAST_ROOMS_REFRESH_MS: '60000' });
  // Until the public set is loaded every room is private and /readyz is 503; see public-rooms.ts.
  await gw.waitForLine(/public room list loaded/);
  pub = new TestPublisher(redis.url, 'vaulta');
  publishing = setInterval(() => void pub.frame(2000), 50);
});
afterAll(async () => {
  clearInterval(publishing);
  pub?.close();
  await stopAllServices();
  await redis?.close();
});

async function token(room: string, user?: string): Promise<string> {
  const res = await reg.api('POST', `/rooms/${room}/tokens`, user ? { user, ttlSeconds: 600 } : {});
  expect(res.status).toBe(201);
  return res.body.token;
}

async function refused(url: string): Promise<TestViewer> {
  const v = new TestViewer(url);
  await v.closed;
  return v;
}

describe('gateway viewer auth (tokens verified locally)', () => {
  it('refuses a private room without a token: error message first, then 4401', async () => {
    const v = await refused(gw.wsUrl('vaulta'));
    expect(v.closeCode).toBe(CloseCode.Unauthorized);
    expect(v.control[0]).toMatchObject({ type: 'error', code: CloseCode.Unauthorized, error: 'room_private' });
    expect(v.frames).toHaveLength(0);
  });

  it('refuses expired, forged, alg:none and garbage tokens with 4401', async () => {
    const signer = new ViewerTokenSigner(TOKEN_SECRET);
    const expired = (await signer.issue({ rooms: ['vaulta'], ttlSeconds: 60, now: Date.now() - 3_600_000 })).token;
    const forged = (await new ViewerTokenSigner('another-secret-another-secret-0123456789').issue({ rooms: ['vaulta'], ttlSeconds: 600 })).token;
    const claims = { rooms: ['vaulta'], iss: 'framecast-registry', aud: 'framecast-gateway', exp: Math.floor(Date.now() / 1000) + 600 };
    const algNone = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    const good = await token('vaulta');
    const tampered = `${good.split('.')[0]}.${b64({ ...claims, rooms: ['vaulta', 'vaultb'] })}.${good.split('.')[2]}`;
    for (const [what, t] of [['expired', expired], ['forged', forged], ['alg none', algNone], ['tampered', tampered], ['garbage', 'not.a.jwt']] as const) {
      const v = await refused(`${gw.wsUrl('vaulta')}?token=${encodeURIComponent(t)}`);
      expect(v.closeCode, what).toBe(CloseCode.Unauthorized);
      expect(v.control[0], what).toMatchObject({ type: 'error', code: CloseCode.Unauthorized });
      expect(v.frames, what).toHaveLength(0);
    }
    expect((await refused(`${gw.wsUrl('vaulta')}?token=${expired}`)).control[0]).toMatchObject({ message: 'viewer token expired' });
  });

  it('closes a private room viewer with 4401 when its token expires mid-stream', async () => {
    // exp has one-second resolution: a 2 s token runs out 1–2 s from now.
    const { token: shortLived, expiresAt } = await new ViewerTokenSigner(TOKEN_SECRET).issue({ rooms: ['vaulta'], user: 'brief', ttlSeconds: 2 });
    const v = new TestViewer(`${gw.wsUrl('vaulta')}?token=${shortLived}`);
    await waitFor('frames while the token is valid', () => v.frames.length > 0, 3000);
    expect(await v.closed).toBe(CloseCode.Unauthorized);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(Date.now() - expiresAt).toBeLessThan(1500);
    expect(v.control.at(-1)).toMatchObject({ type: 'error', code: CloseCode.Unauthorized, message: 'viewer token expired' });
  });

  it('a valid token for room A opens A (query or Bearer header) and not B (4403)', async () => {
    const t = await token('vaulta', 'ann');
    const v = new TestViewer(`${gw.wsUrl('vaulta')}?token=${t}`);
    await waitFor('frames in vaulta', () => v.frames.length >= 3, 5000);
    expect(v.control[0]).toMatchObject({ type: 'hello', room: 'vaulta' });
    const other = await refused(`${gw.wsUrl('vaultb')}?token=${t}`);
    expect(other.closeCode).toBe(CloseCode.Forbidden);
    expect(other.control[0]).toMatchObject({ type: 'error', code: CloseCode.Forbidden, error: 'forbidden' });

    const ws = new WebSocket(gw.wsUrl('vaulta'), { headers: { authorization: `Bearer ${t}` } });
    const firstBinary = new Promise<boolean>((resolve) => ws.on('message', (_d, isBinary) => isBinary && resolve(true)));
    expect(await firstBinary).toBe(true);
    ws.close();

    // The viewer is named after its token in the registry's presence (one batch later).
    await waitFor('presence with the token user', async () => (await reg.api('GET', '/rooms/vaulta/viewers')).body.viewers?.some((x: { user: string }) => x.user === 'ann'), 5000);
    v.close();
  });

  it('public rooms need no token, and ignore a bad one', async () => {
    const open = new TestViewer(gw.wsUrl('plaza'));
    await waitFor('hello', () => open.control.length > 0, 3000);
    expect(open.control[0]).toMatchObject({ type: 'hello', room: 'plaza' });
    const bad = new TestViewer(`${gw.wsUrl('plaza')}?token=garbage`);
    await waitFor('hello', () => bad.control.length > 0, 3000);
    expect(bad.control[0]).toMatchObject({ type: 'hello' });
    expect(open.closeCode).toBeNull();
    open.close();
    bad.close();
  });

  it('a room turned private closes its tokenless viewers with 4401 at once (change notice), keeping token holders', async () => {
    const anon = new TestViewer(gw.wsUrl('turning'));
    const holder = new TestViewer(`${gw.wsUrl('turning')}?token=${await token('turning')}`);
    await waitFor('both open', () => anon.control.length > 0 && holder.control.length > 0, 3000);
    const started = Date.now();
    expect((await reg.api('PATCH', '/rooms/turning', { visibility: 'private' })).status).toBe(200);
    expect(await anon.closed).toBe(CloseCode.Unauthorized);
    // FRAMECAST_ROOMS_REFRESH_MS is a minute here: only the pub/sub notice can be this quick.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(anon.control.at(-1)).toMatchObject({ type: 'error', code: CloseCode.Unauthorized });
    expect(holder.closeCode).toBeNull();
    holder.close();
    expect((await refused(gw.wsUrl('turning'))).closeCode).toBe(CloseCode.Unauthorized);
  });

  it('a gateway with auth on and no secret refuses to start, naming the variable', async () => {
    const svc = await startService('gateway-nosecret', { entry: 'services/gateway/src/main.ts', env: { REDIS_URL: redis.url, PORT: '0' } });
    expect(await svc.exited).toBe(2);
    expect(svc.lines.join('\n')).toMatch(/^framecast-gateway: invalid configuration: FRAMECAST_TOKEN_SECRET: is required while FRAMECAST_AUTH=on/m);
  });
});

