import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryKeys } from '@framecast/protocol';
import { REPO_ROOT, sleep, startTestRedis, stopAllServices, TestViewer, waitFor, type TestRedis } from '@framecast/testing';
import { startReceiver, startRegistry, type RegistryProcess } from '../../registry/test/helpers.ts';
import { startGateway, type GatewayProcess } from './helpers.ts';

let redis: TestRedis;
let reg: RegistryProcess;
const GATEWAY_TIMEOUT_MS = 1500;

beforeAll(async () => {
  redis = await startTestRedis();
  // The webhook receiver listens on loopback, which webhooks may reach only when allow-listed.
  reg = await startRegistry(redis.url, { FRAMECAST_GATEWAY_TIMEOUT_MS: String(GATEWAY_TIMEOUT_MS), FRAMECAST_SWEEP_INTERVAL_MS: '300', FRAMECAST_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
  await reg.api('POST', '/rooms', { name: 'watch' });
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

const fast = { FRAMECAST_PRESENCE_FLUSH_MS: '200', FRAMECAST_PRESENCE_HEARTBEAT_MS: '300' };
const viewers = async () => (await reg.api('GET', '/rooms/watch')).body.viewers;

describe('presence from gateways', () => {
  it('counts viewers per gateway, fires viewer webhooks, and heals by itself when a gateway dies', async () => {
    const receiver = await startReceiver(() => 200);
    await reg.api('POST', '/webhooks', { url: receiver.url, events: ['viewer.joined', 'viewer.left'], room: 'watch' });
    const [gw1, gw2] = await Promise.all([startGateway(redis.url, fast), startGateway(redis.url, fast)]);
    const on1 = [0, 1, 2].map(() => new TestViewer(gw1.wsUrl('watch')));
    const on2 = [0, 1].map(() => new TestViewer(gw2.wsUrl('watch')));
    await Promise.all([...on1, ...on2].map((v) => v.opened));
    const id1 = `gw-${gw1.port}`;
    const id2 = `gw-${gw2.port}`;
    await waitFor('five viewers', async () => (await viewers()).total === 5, 5000);
    expect((await viewers()).byGateway).toEqual({ [id1]: 3, [id2]: 2 });
    on1[0]!.close();
    await waitFor('four viewers', async () => (await viewers()).total === 4, 5000);

    await gw2.stop('SIGKILL');
    const killedAt = Date.now();
    await waitFor('dead gateway no longer counted', async () => (await viewers()).total === 2, 5000);
    const healedAfter = Date.now() - killedAt;
    // Not before its last report is older than the timeout; soon after (reads filter by age, the sweep cleans up).
    expect(healedAfter).toBeGreaterThanOrEqual(GATEWAY_TIMEOUT_MS - 500);
    expect(healedAfter).toBeLessThan(GATEWAY_TIMEOUT_MS + 1500);
    expect((await viewers()).byGateway).toEqual({ [id1]: 2 });

    await waitFor('swept leaves in the history', async () => {
      const h = (await reg.api('GET', '/rooms/watch/history')).body.entries as Array<{ event: string; gateway: string; reason: string | null }>;
      return h.filter((e) => e.gateway === id2 && e.event === 'left' && e.reason === 'gateway_timeout').length === 2;
    }, 5000);
    await waitFor('webhooks', () => receiver.received.length === 5 + 1 + 2, 5000);
    const events = receiver.received.map((r) => JSON.parse(r.body)).map((e) => `${e.type}${e.data.reason ? ` ${e.data.reason}` : ''}`);
    expect(events.filter((e) => e === 'viewer.joined')).toHaveLength(5);
    expect(events.filter((e) => e === 'viewer.left')).toHaveLength(1);
    expect(events.filter((e) => e === 'viewer.left gateway_timeout')).toHaveLength(2);
    const list = (await reg.api('GET', '/rooms/watch/viewers')).body;
    expect(list.viewers.map((v: { gateway: string }) => v.gateway)).toEqual([id1, id1]);
    for (const v of on1) v.close();
    await receiver.close();
  });

  it('measures presence traffic per viewer join: one script call per batch, ~4 commands and <100 bytes per join', async () => {
    // A Redis of its own with only this gateway on it, so the counters hold nothing else.
    const quiet = await startTestRedis({ needsControl: true });
    const admin = new Redis(quiet.url);
    const gw = await startGateway(quiet.url, { FRAMECAST_PRESENCE_FLUSH_MS: '1000', FRAMECAST_PRESENCE_HEARTBEAT_MS: '5000' });
    const N = 100;
    const measure = async (label: string) => {
      await sleep(1200); // the gateway's first sync is done
      await admin.config('RESETSTAT');
      const opened = Array.from({ length: N }, () => new TestViewer(gw.wsUrl('measure')));
      await Promise.all(opened.map((v) => v.opened));
      await waitFor('all reported', async () => (await admin.hlen(registryKeys.roomPresence('measure', `gw-${gw.port}`))) === N, 5000);
      const stats = parseInfo(await admin.info('commandstats'));
      const net = parseInfo(await admin.info('stats'));
      for (const v of opened) v.close();
      await waitFor('all left', async () => (await admin.hlen(registryKeys.roomPresence('measure', `gw-${gw.port}`))) === 0, 5000);
      const calls = (cmd: string) => Number(/calls=(\d+)/.exec(stats[`cmdstat_${cmd}`] ?? '')?.[1] ?? 0);
      // What a join batch runs inside Redis (HLEN is left out: this test polls with it).
      const presenceCommands = ['evalsha', 'eval', 'hsetnx', 'sadd', 'xadd', 'zadd', 'zscore', 'exists', 'pexpire'];
      const commands = presenceCommands.reduce((sum, c) => sum + calls(c), 0);
      const result = {
        label,
        joins: N,
        roundTrips: calls('evalsha') + calls('eval'),
        redisCommandsPerJoin: commands / N,
        bytesToRedisPerJoin: Math.round(Number(net.total_net_input_bytes) / N),
        perCommand: Object.fromEntries(presenceCommands.map((c) => [c, calls(c)]).filter(([, n]) => n !== 0)),
      };
      return result;
    };
    const plain = await measure('no viewer webhooks');
    await admin.set(registryKeys.viewerEventsWanted(), '1');
    const withEvents = await measure('viewer webhooks wanted');
    const out = join(REPO_ROOT, 'test-results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'presence-traffic.json'), `${JSON.stringify([plain, withEvents], null, 2)}\n`);
    process.stdout.write(`presence traffic per join: ${JSON.stringify([plain, withEvents])}\n`);
    // 100 joins inside a 1 s flush are a handful of script calls, not 100.
    expect(plain.roundTrips).toBeLessThanOrEqual(4);
    expect(plain.redisCommandsPerJoin).toBeLessThan(6);
    expect(plain.bytesToRedisPerJoin).toBeLessThan(200);
    expect(withEvents.redisCommandsPerJoin).toBeGreaterThan(plain.redisCommandsPerJoin);
    admin.disconnect();
    await gw.stop();
    await quiet.close();
  });
});

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
