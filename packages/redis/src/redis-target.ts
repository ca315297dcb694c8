import type { Cluster, Redis } from 'ioredis';

/**
 * Where a service's Redis is: one server (a `redis://` or `rediss://` URL), or a Redis Cluster
 * reached through seed nodes, with the user, password and TLS every node shares.
 */
export type RedisTarget =
  | { mode: 'single'; url: string }
  | { mode: 'cluster'; seeds: ReadonlyArray<{ host: string; port: number }>; username?: string; password?: string; tls: boolean };

/** A connection to either: the commands framecast uses are the same on both. */
export type RedisClient = Redis | Cluster;

/**
 * The target a validated configuration names (REDIS_URL, REDIS_CLUSTER_NODES; see @framecast/config
 * redisConnectionEnvFields), or null when it names none (the in-memory default).
 */
export function redisTargetOf(config: { REDIS_URL?: string | undefined; REDIS_CLUSTER_NODES?: ReadonlyArray<{ host: string; port: number }> | undefined }): RedisTarget | null {
  const { REDIS_URL: url, REDIS_CLUSTER_NODES: seeds } = config;
  if (!seeds) return url ? { mode: 'single', url } : null;
  if (!url) return { mode: 'cluster', seeds, tls: false };
  const u = new URL(url);
  const extra = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) };
  const all = seeds.some((s) => s.host === extra.host && s.port === extra.port) ? seeds : [...seeds, extra];
  return {
    mode: 'cluster',
    seeds: all,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: u.protocol === 'rediss:',
  };
}

/** For logs: where, never the password. */
export function describeRedisTarget(target: RedisTarget | string): string {
  if (typeof target === 'string' || target.mode === 'single') {
    const u = new URL(typeof target === 'string' ? target : target.url);
    if (u.password) u.password = '***';
    return u.toString();
  }
  return `Redis Cluster via ${target.seeds.map((s) => (s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`)).join(',')}${target.tls ? ' (TLS)' : ''}`;
}

export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}
