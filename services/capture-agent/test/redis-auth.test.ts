import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestRedis, stopAllServices, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import { startGateway } from '../../gateway/test/helpers.ts';
import { FrameTap, getEndpoint, startAgent } from './helpers.ts';

// Redis refusing the agent's credentials (its ACL user missing, a wrong password) used to show as
// "frame bus down" with the cause only in debug lines. It must be one error line naming WRONGPASS
// and what to check, once per episode however often the agent retries.

const room = 'authroom';
const user = 'framecast-agent-box1';
const password = 'right-agent-key-0123456789';
let redis: TestRedis;
let admin: Redis;

beforeAll(async () => {
  // ACL changes must not touch a shared Redis: always a private one.
  redis = await startTestRedis({ needsControl: true });
  admin = new Redis(redis.url);
  await createUser();
});
afterAll(async () => {
  admin?.disconnect();
  await stopAllServices();
  await redis?.close();
});

/** The agent's user as the registry's ACL line makes it (see redisAclFor). */
async function createUser(): Promise<void> {
  await admin.call('ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, `%W~video_${room}:last`, `%W~video_${room}~*:last`, `&video_${room}`, `&video_${room}~*`, '+publish', '+set', '+pubsub|numsub', '+hello', '+client|setname', '+select', '+ping');
}

function urlAs(pass: string): string {
  const u = new URL(redis.url);
  u.username = user;
  u.password = pass;
  return u.toString().replace(/\/$/, '');
}

/** Pino lines of a service, parsed. */
const json = (svc: ServiceProcess) => svc.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
const authErrors = (svc: ServiceProcess) => json(svc).filter((l) => l.level === 50 && /Redis refused authentication \(WRONGPASS\)/.test(l.msg));
/** Connection attempts Redis refused (ioredis retries each; they are debug lines). */
const refusedAttempts = (svc: ServiceProcess) => json(svc).filter((l) => l.level === 20 && l.msg === 'redis connection error' && /WRONGPASS/.test(l.err)).length;

describe('Redis refuses the credentials', () => {
  it('a wrong password: one error line naming WRONGPASS and what to check, however often the agent retries; /healthz says why', async () => {
    const metricsPort = await freePort();
    const agent = await startAgent({
      REDIS_URL: urlAs('wrong-password'),
      FRAMECAST_ROOM: room,
      LOG_LEVEL: 'debug',
      FRAMECAST_METRICS_PORT: String(metricsPort),
      FRAMECAST_METRICS_HOST: '127.0.0.1',
    });
    await waitFor('several refused attempts', () => refusedAttempts(agent) >= 4, 15_000);
    const errors = authErrors(agent);
    console.log(`redis auth: ${refusedAttempts(agent)} refused connection attempts, ${errors.length} error line: ${errors[0]?.msg}`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ reason: 'auth', code: 'WRONGPASS', msg: expect.stringMatching(/check REDIS_URL's user and password.*framecast-agent-<key id>/) });
    const health = await getEndpoint(metricsPort, '/healthz');
    expect(health.status).toBe(503);
    expect(JSON.parse(health.text)).toMatchObject({ busUp: false, busProblem: expect.stringMatching(/Redis refused authentication \(WRONGPASS\)/) });
    // Nothing else at error level, and no line per retry at info or above: more retries, no more lines.
    expect(json(agent).filter((l) => l.level >= 50)).toHaveLength(1);
    const visible = () => json(agent).filter((l) => l.level >= 30 && /WRONGPASS/.test(JSON.stringify(l))).length;
    const [linesBefore, attemptsBefore] = [visible(), refusedAttempts(agent)];
    await waitFor('more refused attempts', () => refusedAttempts(agent) >= attemptsBefore + 2, 15_000);
    expect(visible()).toBe(linesBefore);
    expect(authErrors(agent)).toHaveLength(1);
    await agent.stop();
  });

  it('the ACL user deleted while the agent streams: one error line, frames again once the user is back, one line saying so', async () => {
    const tap = new FrameTap(redis.url, room);
    await tap.ready;
    const agent = await startAgent({ REDIS_URL: urlAs(password), FRAMECAST_ROOM: room, LOG_LEVEL: 'debug' });
    try {
      await waitFor('frames', () => tap.frames.length >= 5, 15_000);
      await admin.call('ACL', 'DELUSER', user); // Redis also closes the user's connections
      await waitFor('several refused attempts', () => refusedAttempts(agent) >= 4, 15_000);
      expect(authErrors(agent)).toHaveLength(1);
      expect(json(agent).filter((l) => l.msg?.startsWith('frame bus down'))).toHaveLength(1);

      await createUser();
      const back = Date.now();
      const n = tap.frames.length;
      await waitFor('frames again', () => tap.frames.length > n, 5000);
      const resumedMs = Date.now() - back;
      await waitFor('recovery line', () => json(agent).some((l) => l.level === 30 && /Redis accepts us again \(auth resolved\)/.test(l.msg)), 5000);
      console.log(`redis auth: ACL user deleted mid-stream, ${refusedAttempts(agent)} refused attempts, 1 error line; frames again ${resumedMs} ms after the user was restored`);
      expect(authErrors(agent)).toHaveLength(1);
    } finally {
      tap.close();
      await agent.stop();
    }
  });

  it('the gateway too: one error line naming WRONGPASS, /readyz 503 saying why', async () => {
    const gw = await startGateway(urlAs('wrong-password'), { LOG_LEVEL: 'debug' });
    await waitFor('several refused attempts', () => refusedAttempts(gw) >= 4, 15_000);
    expect(authErrors(gw)).toHaveLength(1);
    const ready = await fetch(`http://127.0.0.1:${gw.port}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'bus_down', problem: expect.stringMatching(/WRONGPASS/) });
    await gw.stop();
  });
});
