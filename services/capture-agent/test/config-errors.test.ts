import { afterAll, describe, expect, it } from 'vitest';
import { startService, startTestRedis, stopAllServices, type TestRedis } from '@framecast/testing';
import { AGENT_ENTRY, startAgent } from './helpers.ts';

afterAll(async () => {
  await stopAllServices();
});

/** Runs the CLI to completion and returns its exit code and output lines. */
async function run(env: Record<string, string>, args: string[] = []) {
  const svc = await startService('agent-config', { entry: AGENT_ENTRY, env, args });
  const code = await svc.exited;
  return { code, lines: svc.lines.filter((l) => l.trim() !== '') };
}

const REDIS_URL = 'redis://127.0.0.1:1';

describe('agent start-up configuration', () => {
  // Every rule is held in process by src/config/config.test.ts; a process shows how a refusal
  // looks: one line, exit 2, for an environment variable, a flag's value and an unknown flag.
  it.each([
    [{ REDIS_URL, FRAMECAST_FPS: 'abc' }, [], /^framecast-agent: invalid configuration: FRAMECAST_FPS: must be an integer \(got "abc"\)$/],
    [{}, [], /^framecast-agent: invalid configuration: REDIS_URL: is required but not set \(or set REDIS_CLUSTER_NODES to use a Redis Cluster\)$/],
    [{ REDIS_URL }, ['--quality', '101'], /FRAMECAST_QUALITY \(--quality\): must be <= 100/],
    [{ REDIS_URL }, ['--qualty', '50'], /^framecast-agent: Unknown option '--qualty'/],
  ])('exits 2 with one line naming the problem: %j %j', async (env, args, message) => {
    const { code, lines } = await run(env, args);
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('prints usage for --help and exits 0', async () => {
    const { code, lines } = await run({}, ['--help']);
    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^Usage: framecast-agent/);
    for (const flag of ['--room', '--source', '--fps', '--size', '--quality', '--last-frame-ttl-ms', '--redis-url', '--log-level']) {
      expect(lines.join('\n')).toContain(flag);
    }
  });

  it('warns about unknown FRAMECAST_* variables but starts', async () => {
    let redis: TestRedis | undefined;
    try {
      redis = await startTestRedis();
      const agent = await startAgent({ REDIS_URL: redis.url, FRAMECAST_ROOM: 'warn', FRAMECAST_FSP: '10' });
      const warning = agent.lines.find((l) => l.includes('unknown FRAMECAST_* environment variables'));
      expect(warning).toBeDefined();
      expect(JSON.parse(warning!)).toMatchObject({ level: 40, variables: ['FRAMECAST_FSP'] });
      expect(await agent.stop()).toBe(0);
    } finally {
      await redis?.close();
    }
  });
});
