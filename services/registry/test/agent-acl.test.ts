import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { ChannelTap, startAgent } from '../../gateway/test/helpers.ts';
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
    allowed.close();
    denied.close();
    await Promise.all([good.stop(), bad.stop()]);
  });
});
