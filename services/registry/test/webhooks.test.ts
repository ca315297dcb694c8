import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_HEADERS } from '@framecast/protocol';
import { sleep, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { verifyWebhookSignature } from '../src/webhooks/signature.ts';
import { heartbeat, startReceiver, startRegistry, type RegistryProcess } from './helpers.ts';

let redis: TestRedis;
let reg: RegistryProcess;
let agentKey: string;
const SECRET = 'webhook-secret-0123456789';
const TIMEOUT_MS = 1500;
// The receivers listen on loopback, which webhooks may reach only when allow-listed.
const env = {
  FRAMECAST_WEBHOOK_BACKOFF_MS: '300',
  FRAMECAST_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
  FRAMECAST_SWEEP_INTERVAL_MS: '500',
  FRAMECAST_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
};

beforeAll(async () => {
  redis = await startTestRedis();
  reg = await startRegistry(redis.url, env);
  agentKey = (await reg.api('POST', '/agent-keys', { name: 'any', rooms: ['*'] })).body.key;
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

const online = (room: string) => reg.api('POST', '/agents/cam-1/heartbeat', heartbeat([room]), agentKey);

describe('webhooks on BullMQ', () => {
  it('a receiver failing twice then succeeding gets exactly one successful, correctly signed delivery', async () => {
    const receiver = await startReceiver((_req, n) => (n <= 2 ? 500 : 200));
    const hook = await reg.api('POST', '/webhooks', { url: receiver.url, events: ['room.online'], room: 'alpha', secret: SECRET });
    expect(hook.status).toBe(201);
    expect((await online('alpha')).body.wentOnline).toEqual(['alpha']);
    await waitFor('three attempts', () => receiver.received.length >= 3, 10_000);
    await sleep(1500); // nothing more arrives after the success
    expect(receiver.received).toHaveLength(3);
    const deliveryIds = new Set(receiver.received.map((r) => r.headers[WEBHOOK_HEADERS.delivery]));
    expect(deliveryIds.size).toBe(1);
    for (const r of receiver.received) {
      const sig = String(r.headers[WEBHOOK_HEADERS.signature]);
      expect(verifyWebhookSignature(SECRET, String(r.headers[WEBHOOK_HEADERS.timestamp]), r.body, sig)).toBe(true);
      expect(verifyWebhookSignature('wrong-secret-wrong-secret', String(r.headers[WEBHOOK_HEADERS.timestamp]), r.body, sig)).toBe(false);
      expect(JSON.parse(r.body)).toMatchObject({ type: 'room.online', room: 'alpha', data: { agent: 'cam-1' } });
    }
    // Exponential backoff: the second wait is about twice the first.
    const [a, b, c] = receiver.received.map((r) => r.at);
    expect(b! - a!).toBeGreaterThanOrEqual(250);
    expect(c! - b!).toBeGreaterThanOrEqual(500);
    const log = await reg.api('GET', `/webhooks/${hook.body.id}/deliveries`);
    expect(log.body.deliveries.map((d: { attempt: number; ok: boolean; status: number }) => [d.attempt, d.ok, d.status])).toEqual([
      [3, true, 200],
      [2, false, 500],
      [1, false, 500],
    ]);
    await receiver.close();
  });

  it('a receiver that never answers does not hold up other deliveries', async () => {
    const hanging = await startReceiver(() => 'hang');
    const fast = await startReceiver(() => 204);
    // The hanging hook is created first, so its delivery is queued first.
    await reg.api('POST', '/webhooks', { url: hanging.url, events: ['room.online'], room: 'beta' });
    await reg.api('POST', '/webhooks', { url: fast.url, events: ['room.online'], room: 'beta' });
    const sent = Date.now();
    await online('beta');
    await waitFor('fast delivery', () => fast.received.length === 1, 5000);
    expect(hanging.received.length).toBeGreaterThanOrEqual(1);
    // Delivered while the other receiver still sits on its request (it times out at 1.5 s).
    expect(fast.received[0]!.at - sent).toBeLessThan(TIMEOUT_MS);
    const hooks = (await reg.api('GET', '/webhooks')).body.webhooks;
    const hangId = hooks.find((h: { url: string }) => h.url === hanging.url).id;
    await waitFor('timeout logged', async () => (await reg.api('GET', `/webhooks/${hangId}/deliveries`)).body.deliveries.length > 0, 5000);
    const [first] = (await reg.api('GET', `/webhooks/${hangId}/deliveries`)).body.deliveries;
    expect(first).toMatchObject({ ok: false, status: null, error: `no answer within ${TIMEOUT_MS} ms` });
    await reg.api('DELETE', `/webhooks/${hangId}`);
    await Promise.all([hanging.close(), fast.close()]);
  });

  it('a retry pending when the registry dies is delivered by the next registry (jobs live in Redis)', async () => {
    let up = false;
    const receiver = await startReceiver(() => (up ? 200 : 503));
    await reg.api('POST', '/webhooks', { url: receiver.url, events: ['room.online'], room: 'gamma' });
    await online('gamma');
    await waitFor('first failed attempt', () => receiver.received.length >= 1, 5000);
    await reg.stop('SIGKILL');
    up = true;
    const before = receiver.received.length;
    reg = await startRegistry(redis.url, env, reg.port);
    await waitFor('retried by the new process', () => receiver.received.length > before, 10_000);
    await sleep(1000);
    expect(receiver.received.filter((r) => JSON.parse(r.body).room === 'gamma').length).toBe(before + 1);
    await receiver.close();
  });
});
