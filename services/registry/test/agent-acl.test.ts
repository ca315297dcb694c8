import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelTap, sleep, startAgent, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
// The bus as the capture agent opens it (relative: the registry does not depend on the bus package).
import { RedisFrameBus } from '../../../packages/bus/src/index.ts';
import { startRegistry, type RegistryProcess } from './helpers.ts';

let redis: TestRedis;
let reg: RegistryProcess;
let admin: Redis;

beforeAll(async () => {
  redis = await startTestRedis({ needsControl: true });
  reg = await startRegistry(redis.url);
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin?.disconnect();
  await stopAllServices();
  await redis?.close();
});

describe('agent keys on the publish side (Redis ACL)', () => {
  it("the ACL line of an agent key lets the agent publish to its rooms and nowhere else", async () => {
    const created = (await reg.api('POST', '/agent-keys', { name: 'box', rooms: ['aclok'] })).body;
    const [, ...args] = (created.redisAcl as string).split(' ');
    await admin.call('ACL', ...args);
    const url = new URL(redis.url);
    url.username = `framecast-agent-${created.id}`;
    url.password = created.key;
    const allowed = new ChannelTap(redis.url, 'aclok');
    const denied = new ChannelTap(redis.url, 'aclno');
    const good = await startAgent(url.toString(), 'aclok', 'testsrc');
    const bad = await startAgent(url.toString(), 'aclno', 'testsrc');
    await waitFor('frames from the allowed agent', () => allowed.bySequence.size >= 5, 5000);
    await sleep(1000);
    expect(denied.bySequence.size).toBe(0);
    // The refused agent keeps running and keeps its newest frame, as for any failing publish.
    expect(bad.lines.join('\n')).toMatch(/NOPERM|no permissions/i);
    expect(await admin.get('video_aclno:last')).toBeNull();
    // The key is the password, stored by Redis only as the SHA-256 the registry printed.
    const user = (await admin.call('ACL', 'GETUSER', `framecast-agent-${created.id}`)) as unknown[];
    expect(JSON.stringify(user)).toContain(created.redisAcl.match(/#([0-9a-f]{64})/)[1]);
    // The agent connects without INFO (its ready check is off), so ioredis has nothing to skip.
    expect(good.lines.join('\n')).not.toMatch(/ready check|NOPERM/i);
    allowed.close();
    denied.close();
    await Promise.all([good.stop(), bad.stop()]);
  });

  it('the agent user may publish its room and write its last-frame key, and do nothing else', async () => {
    const { url } = await agentUser(['aclonly']);
    // ioredis as the agent's bus opens it: HELLO 3 with AUTH, CLIENT SETNAME, no INFO.
    const agent = new Redis(url, { connectionName: 'framecast-agent-test', enableReadyCheck: false, maxRetriesPerRequest: 0 });
    try {
      await waitFor('agent connection ready', () => agent.status === 'ready', 5000);
      expect(await agent.publish('video_aclonly', 'frame')).toBe(0);
      expect(await agent.set('video_aclonly:last', 'frame', 'PX', 5000)).toBe('OK');
      expect(await agent.ping()).toBe('PONG');
      // Its rooms' variants (made only while watched, learned from PUBSUB NUMSUB).
      expect(await agent.publish('video_aclonly~small', 'frame')).toBe(0);
      expect(await agent.set('video_aclonly~small:last', 'frame', 'PX', 5000)).toBe('OK');
      expect(await agent.call('PUBSUB', 'NUMSUB', 'video_aclonly~small')).toEqual(['video_aclonly~small', 0]);
      expect(await admin.get('video_aclonly:last')).toBe('frame');
      expect(await admin.call('CLIENT', 'LIST')).toContain('name=framecast-agent-test');
      const refused: Array<[string, () => Promise<unknown>]> = [
        ['INFO', () => agent.info()],
        ['INFO server', () => agent.info('server')],
        ['SET … GET on its own key', () => agent.call('SET', 'video_aclonly:last', 'x', 'GET')],
        ['GET its own key', () => agent.get('video_aclonly:last')],
        ['GETEX', () => agent.call('GETEX', 'video_aclonly:last')],
        ['SET another room key', () => agent.set('video_other:last', 'x')],
        ['SET a registry key', () => agent.set('{framecast}:rooms:public', 'x')],
        ['DEL its own key', () => agent.del('video_aclonly:last')],
        ['PUBLISH another room', () => agent.publish('video_other', 'x')],
        ['PUBLISH another room variant', () => agent.publish('video_other~small', 'x')],
        ['SET another room variant key', () => agent.set('video_other~small:last', 'x')],
        ['PUBSUB CHANNELS (which rooms exist)', () => agent.call('PUBSUB', 'CHANNELS')],
        ['KEYS', () => agent.keys('*')],
        ['SCAN', () => agent.scan(0)],
        ['CONFIG GET', () => agent.config('GET', 'requirepass')],
        ['CLIENT LIST', () => agent.call('CLIENT', 'LIST')],
        ['ACL WHOAMI', () => agent.call('ACL', 'WHOAMI')],
        ['EVAL', () => agent.eval('return 1', 0)],
        ['FLUSHALL', () => agent.flushall()],
        ['SUBSCRIBE', () => agent.call('SUBSCRIBE', 'video_aclonly')],
      ];
      for (const [what, run] of refused) await expect(run(), what).rejects.toThrow(/NOPERM/);
    } finally {
      agent.disconnect();
    }
  });

  it("the capture agent's bus publishes as that user, with or without a database in the URL (SELECT)", async () => {
    const { url } = await agentUser(['aclbus']);
    for (const u of [url, `${url}/1`]) {
      const bus = new RedisFrameBus({ redis: u, connectionName: 'framecast-agent', readyCheck: false });
      const ready = new Promise<void>((resolve) => bus.once('ready', resolve));
      await ready;
      await bus.publish('aclbus', Buffer.alloc(40), 5000);
      await expect(bus.publish('aclbus-other', Buffer.alloc(40), 5000)).rejects.toThrow(/NOPERM/);
      await bus.close();
    }
    expect((await admin.getBuffer('video_aclbus:last'))?.length).toBe(40);
    const db1 = new Redis(`${redis.url}/1`);
    expect((await db1.getBuffer('video_aclbus:last'))?.length).toBe(40);
    db1.disconnect();
  });

  it('a key for any room may publish and write last-frame keys of every room, still nothing else', async () => {
    const { url, acl } = await agentUser(['*']);
    expect(acl).toMatch(/ %W~video_\*:last %W~\{video_\*\}:last &video_\* \+publish/);
    const agent = new Redis(url, { enableReadyCheck: false, maxRetriesPerRequest: 0 });
    try {
      await waitFor('agent connection ready', () => agent.status === 'ready', 5000);
      expect(await agent.publish('video_anyroom', 'x')).toBe(0);
      expect(await agent.set('video_anyroom:last', 'x', 'PX', 1000)).toBe('OK');
      await expect(agent.set('{framecast}:agent-keys', 'x')).rejects.toThrow(/NOPERM/);
      await expect(agent.info()).rejects.toThrow(/NOPERM/);
      await expect(agent.get('video_anyroom:last')).rejects.toThrow(/NOPERM/);
    } finally {
      agent.disconnect();
    }
  });
});

/** Creates an agent key for `rooms`, applies its ACL line to Redis, and returns the agent's Redis URL. */
async function agentUser(rooms: string[]): Promise<{ url: string; acl: string }> {
  const created = (await reg.api('POST', '/agent-keys', { name: 'box', rooms })).body;
  const [, ...args] = (created.redisAcl as string).split(' ');
  await admin.call('ACL', ...args);
  const url = new URL(redis.url);
  url.username = `framecast-agent-${created.id}`;
  url.password = created.key;
  return { url: url.toString().replace(/\/$/, ''), acl: created.redisAcl };
}
