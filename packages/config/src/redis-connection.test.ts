import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redisConnectionEnvFields, requireRedis, v } from './index.ts';

const schema = v.object(redisConnectionEnvFields);
const load = (env: Record<string, string>, required = true) => {
  const { config } = loadConfig(schema, env);
  requireRedis(config, { required });
  return config;
};
const problem = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('no ConfigError');
};

describe('REDIS_URL / REDIS_CLUSTER_NODES', () => {
  it('one Redis by URL, or a cluster by seed nodes (host names, IPv4, bracketed IPv6)', () => {
    expect(load({ REDIS_URL: 'redis://r:6379' }).REDIS_URL).toBe('redis://r:6379');
    expect(load({ REDIS_CLUSTER_NODES: 'redis-0:7000, 10.0.0.2:7001,[::1]:7002' }).REDIS_CLUSTER_NODES).toEqual([
      { host: 'redis-0', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    // REDIS_URL beside the seeds: credentials and TLS for every node.
    expect(load({ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'rediss://u:p@a:1' }).REDIS_CLUSTER_NODES).toEqual([{ host: 'a', port: 1 }]);
  });

  it('standalone, one of them is required; embedded, neither', () => {
    expect(problem(() => load({}))).toBe('REDIS_URL: is required but not set (or set REDIS_CLUSTER_NODES to use a Redis Cluster)');
    expect(load({}, false)).toEqual({});
  });

  it('refuses seeds that are not host:port, naming the variable and the bad item', () => {
    for (const bad of ['redis-0', 'redis-0:', 'redis-0:0', 'redis-0:70000', 'redis://a:1', 'a:1;b:2', ',']) {
      const message = problem(() => load({ REDIS_CLUSTER_NODES: bad }));
      expect(message, bad).toMatch(/^REDIS_CLUSTER_NODES: must (be a comma-separated list of host:port seed nodes|list at least one)/);
    }
  });

  it('refuses a database other than 0 with a cluster (a cluster has only database 0)', () => {
    expect(problem(() => load({ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://a:1/3' }))).toBe(
      'REDIS_URL: names database 3, but a Redis Cluster has only database 0 (REDIS_CLUSTER_NODES is set)',
    );
    expect(load({ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://a:1/0' }).REDIS_URL).toBe('redis://a:1/0');
  });
});
