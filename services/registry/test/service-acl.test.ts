import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startAgent, startTestRedis, stopAllServices, TestViewer, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import { startGateway, type GatewayProcess } from '../../gateway/test/helpers.ts';
import { startReceiver, startRegistry, TOKEN_SECRET, type RegistryProcess } from './helpers.ts';

const GATEWAY_PW = 'gateway-pw-0123456789';
const REGISTRY_PW = 'registry-pw-0123456789';

let redis: TestRedis;
let admin: Redis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let agent: ServiceProcess;
let lines: string[];

const userUrl = (user: string, password: string) => {
  const url = new URL(redis.url);
  url.username = user;
  url.password = password;
  return url.toString().replace(/\/$/, '');
};
const noperm = (svc: ServiceProcess) => svc.lines.filter((l) => /NOPERM|no permissions|ready check/i.test(l));

beforeAll(async () => {
  redis = await startTestRedis({ needsControl: true });
  admin = new Redis(redis.url);
  // The CLI as an operator runs it.
  const printed = spawnSync(process.execPath, ['services/registry/src/print-acl.ts', '--gateway-password', GATEWAY_PW, '--registry-password', REGISTRY_PW], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  expect(printed.status, printed.stderr).toBe(0);
  lines = printed.stdout.trim().split('\n');
  for (const line of lines) {
    const [, , ...args] = line.split(' ');
    expect(await admin.call('ACL', 'SETUSER', ...args)).toBe('OK');
  }
  reg = await startRegistry(userUrl('framecast-registry', REGISTRY_PW), {
    FRAMECAST_SWEEP_INTERVAL_MS: '500',
    FRAMECAST_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
  });
  gw = await startGateway(userUrl('framecast-gateway', GATEWAY_PW), {
    FRAMECAST_AUTH: 'on',
    FRAMECAST_TOKEN_SECRET: TOKEN_SECRET,
    FRAMECAST_PRESENCE_FLUSH_MS: '200',
    FRAMECAST_PRESENCE_HEARTBEAT_MS: '500',
  });
});
afterAll(async () => {
  admin?.disconnect();
  await stopAllServices();
  await redis?.close();
});

describe('service users (Redis ACL)', () => {
  it('prints one line per service, passwords only as SHA-256', () => {
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ACL SETUSER framecast-gateway reset on #[0-9a-f]{64} /);
    expect(lines[1]).toMatch(/^ACL SETUSER framecast-registry reset on #[0-9a-f]{64} /);
    expect(lines.join('\n')).not.toContain(GATEWAY_PW);
    expect(lines[1]).not.toMatch(/\+@all|\+@admin|\+@dangerous/);
  });

  it('agent -> Redis -> gateway -> viewer works with every service as its own user; the registry counts presence and delivers a webhook through BullMQ', async () => {
    const receiver = await startReceiver(() => 200);
    expect((await reg.api('POST', '/webhooks', { url: receiver.url, events: ['room.online'], room: null })).status).toBe(201);
    expect((await reg.api('POST', '/rooms', { name: 'acllive', visibility: 'public' })).status).toBe(201);
    const created = (await reg.api('POST', '/agent-keys', { name: 'box', rooms: ['acllive'] })).body;
    const [, , ...agentArgs] = (created.redisAcl as string).split(' ');
    await admin.call('ACL', 'SETUSER', ...agentArgs);
    agent = await startAgent(userUrl(`framecast-agent-${created.id}`, created.key), 'acllive', 'testsrc', {
      FRAMECAST_REGISTRY_URL: reg.url,
      FRAMECAST_AGENT_KEY: created.key,
      FRAMECAST_AGENT_ID: 'box-1',
      FRAMECAST_HEARTBEAT_INTERVAL_MS: '500',
    });
    // A snapshot while this gateway holds no subscription: it reads the last-frame key as its user.
    await waitFor('a last frame in Redis', async () => (await admin.exists('video_acllive:last')) === 1, 10_000);
    const snap = await fetch(`http://127.0.0.1:${gw.port}/video/acllive.jpg`);
    expect(snap.status).toBe(200);
    expect((await snap.arrayBuffer()).byteLength).toBeGreaterThan(100);
    // A public room: the gateway admits without a token because it read the public set as its user.
    const viewer = new TestViewer(gw.wsUrl('acllive'));
    await waitFor('frames at the viewer', () => viewer.frames.length >= 10, 10_000);
    await waitFor('live with one viewer, counted by the registry', async () => {
      const r = (await reg.api('GET', '/rooms/acllive')).body;
      return r.live && r.viewers.total === 1;
    }, 10_000);
    const presence = (await reg.api('GET', '/rooms/acllive/viewers')).body;
    expect(presence.viewers[0].gateway).toBe(`gw-${gw.port}`);
    await waitFor('room.online webhook delivered', () => receiver.received.some((r) => JSON.parse(r.body).type === 'room.online'), 10_000);
    viewer.close();
    await waitFor('presence gone after the viewer left', async () => (await reg.api('GET', '/rooms/acllive')).body.viewers.total === 0, 10_000);
    // Nothing any service did was refused.
    expect(noperm(reg)).toEqual([]);
    expect(noperm(gw)).toEqual([]);
    expect(noperm(agent)).toEqual([]);
    await receiver.close();
  });

  it('the gateway user is refused outside its job', async () => {
    const conn = new Redis(userUrl('framecast-gateway', GATEWAY_PW), { maxRetriesPerRequest: 0 });
    try {
      await waitFor('gateway connection ready', () => conn.status === 'ready', 5000);
      expect(await conn.smembers('{framecast}:rooms:public')).toContain('acllive');
      const refused: Array<[string, () => Promise<unknown>]> = [
        ['SET a registry key', () => conn.set('{framecast}:rooms:public', 'x')],
        ['HSET a room record', () => conn.hset('{framecast}:room:acllive', 'visibility', 'public')],
        ['SADD the public set', () => conn.sadd('{framecast}:rooms:public', 'secret')],
        ['HGETALL agent keys', () => conn.hgetall('{framecast}:agent-keys')],
        ['PUBLISH a frame', () => conn.publish('video_acllive', 'x')],
        ['SET a last frame', () => conn.set('video_acllive:last', 'x')],
        ['BullMQ keys', () => conn.zrange('{framecast}:bull:sweep:delayed', '0', '-1')],
        ['a script reading agent keys', () => conn.eval("return redis.call('HGET', '{framecast}:agent-keys', 'x')", 0)],
        ['a script writing the public set', () => conn.eval("return redis.call('SADD', '{framecast}:rooms:public', 'secret')", 0)],
        ['HGETALL in a script', () => conn.eval("return redis.call('HGETALL', '{framecast}:gateways')", 0)],
        ['FLUSHALL', () => conn.flushall()],
        ['CONFIG GET', () => conn.config('GET', 'requirepass')],
        ['KEYS', () => conn.keys('*')],
        ['SCAN', () => conn.scan(0)],
        ['CLIENT LIST', () => conn.call('CLIENT', 'LIST')],
        ['ACL LIST', () => conn.call('ACL', 'LIST')],
      ];
      // Inside a script Redis answers "ERR The user executing the script can't run this command" or "… can't access at least one of the keys".
      for (const [what, run] of refused) await expect(run(), what).rejects.toThrow(/NOPERM|can't run this command|can't access at least one of the keys/);
    } finally {
      conn.disconnect();
    }
  });

  it('the registry user is refused outside its job', async () => {
    const conn = new Redis(userUrl('framecast-registry', REGISTRY_PW), { maxRetriesPerRequest: 0 });
    try {
      await waitFor('registry connection ready', () => conn.status === 'ready', 5000);
      expect(await conn.zrange('{framecast}:rooms', '0', '-1')).toContain('acllive');
      expect(await conn.exists('{framecast}:bull:sweep:meta')).toBe(1);
      const refused: Array<[string, () => Promise<unknown>]> = [
        ['PUBLISH to video_x', () => conn.publish('video_x', 'x')],
        ['GET a last frame', () => conn.get('video_acllive:last')],
        ['SUBSCRIBE to frames', () => conn.call('SUBSCRIBE', 'video_acllive')],
        ['a key outside {framecast}', () => conn.set('other', 'x')],
        ['FLUSHALL', () => conn.flushall()],
        ['FLUSHDB', () => conn.flushdb()],
        ['CONFIG GET', () => conn.config('GET', 'requirepass')],
        ['KEYS', () => conn.keys('{framecast}:*')],
        ['CLIENT KILL', () => conn.call('CLIENT', 'KILL', 'ID', '1')],
        ['ACL SETUSER', () => conn.call('ACL', 'SETUSER', 'x')],
        ['SHUTDOWN', () => conn.call('SHUTDOWN')],
      ];
      for (const [what, run] of refused) await expect(run(), what).rejects.toThrow(/NOPERM/);
      // DEBUG is refused by the server before ACL is asked; ACL DRYRUN says the user may not either.
      expect(await admin.call('ACL', 'DRYRUN', 'framecast-registry', 'DEBUG', 'SLEEP', '0')).toMatch(/no permissions/i);
    } finally {
      conn.disconnect();
    }
  });

  it("the registry user may run every command of the registry's and BullMQ's Lua scripts", async () => {
    // The commands their scripts call (from packages/registry-store/src/lua and bullmq/dist/esm/commands).
    const used = ['DEL', 'EXISTS', 'GET', 'HDEL', 'HEXISTS', 'HGET', 'HGETALL', 'HINCRBY', 'HKEYS', 'HLEN', 'HMGET', 'HMSET', 'HSET', 'HSETNX', 'HVALS', 'INCR', 'INCRBY',
      'LINDEX', 'LLEN', 'LPOP', 'LPOS', 'LPUSH', 'LRANGE', 'LREM', 'LTRIM', 'PEXPIRE', 'PEXPIREAT', 'PTTL', 'PUBLISH', 'RENAME', 'RPOP', 'RPOPLPUSH', 'RPUSH', 'SADD',
      'SCARD', 'SET', 'SISMEMBER', 'SMEMBERS', 'SREM', 'TIME', 'TYPE', 'XADD', 'XDEL', 'XLEN', 'XRANGE', 'XREAD', 'XTRIM', 'ZADD', 'ZCARD', 'ZCOUNT', 'ZLEXCOUNT',
      'ZRANGE', 'ZRANGEBYLEX', 'ZRANGEBYSCORE', 'ZREM', 'ZREMRANGEBYSCORE', 'ZREVRANGE', 'ZSCORE', 'BZPOPMIN', 'EVALSHA', 'EVAL', 'MULTI', 'EXEC', 'XREADGROUP', 'XACK', 'XGROUP'];
    const refused: string[] = [];
    for (const cmd of used) {
      const arity = ((await admin.call('COMMAND', 'INFO', cmd)) as Array<[string, number]>)[0]![1];
      const args = Array.from({ length: Math.abs(arity) - 1 }, () => '{framecast}:bull:x');
      if (cmd === 'XGROUP') args.splice(0, args.length, 'CREATE', '{framecast}:events', 'g', '$');
      const answer = await admin.call('ACL', 'DRYRUN', 'framecast-registry', cmd, ...args).catch((err: Error) => err.message);
      if (answer !== 'OK') refused.push(`${cmd}: ${answer}`);
    }
    expect(refused).toEqual([]);
  });
});
