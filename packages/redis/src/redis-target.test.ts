import { describe, expect, it } from 'vitest';
import { describeRedisTarget, redisTargetOf } from './redis-target.ts';

describe('redisTargetOf', () => {
  it('no Redis, one Redis, or a cluster', () => {
    expect(redisTargetOf({})).toBeNull();
    expect(redisTargetOf({ REDIS_URL: 'redis://r:6379' })).toEqual({ mode: 'single', url: 'redis://r:6379' });
    expect(redisTargetOf({ REDIS_CLUSTER_NODES: [{ host: 'a', port: 7000 }] })).toEqual({ mode: 'cluster', seeds: [{ host: 'a', port: 7000 }], tls: false });
  });

  it("with a cluster, REDIS_URL gives every node's user, password and TLS, and is one more seed", () => {
    const target = redisTargetOf({ REDIS_CLUSTER_NODES: [{ host: 'a', port: 7000 }], REDIS_URL: 'rediss://svc%40x:p%3Ass@b:7001' });
    expect(target).toEqual({ mode: 'cluster', seeds: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }], username: 'svc@x', password: 'p:ss', tls: true });
    // Already a seed: not listed twice.
    expect(redisTargetOf({ REDIS_CLUSTER_NODES: [{ host: 'a', port: 7000 }], REDIS_URL: 'redis://a:7000' })).toMatchObject({ seeds: [{ host: 'a', port: 7000 }] });
  });

  it('describes a target for logs without its password', () => {
    expect(describeRedisTarget('redis://u:secret@r:6379')).toBe('redis://u:***@r:6379');
    const cluster = redisTargetOf({ REDIS_CLUSTER_NODES: [{ host: '::1', port: 7000 }], REDIS_URL: 'rediss://u:secret@b:7001' })!;
    expect(describeRedisTarget(cluster)).toBe('Redis Cluster via [::1]:7000,b:7001 (TLS)');
  });
});
