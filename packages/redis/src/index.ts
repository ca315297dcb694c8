import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisClient, RedisTarget } from './redis-target.ts';

/**
 * How long a command may wait for Redis's answer before it fails ("Command timed out"), unless
 * FRAMECAST_REDIS_COMMAND_TIMEOUT_MS says otherwise. Redis answers in well under a millisecond
 * when it is well; a second without an answer means it is hung, swapping or cut off, and a caller
 * is better served by a failure (a 503, a frame replaced by the next) than by waiting.
 */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1000;

/**
 * A Redis connection as every framecast service opens it. It fails fast while Redis is away (no
 * offline queue): a frame that cannot go now is replaced by the next one, an API call answers 503
 * at once, a presence report is retried as a sync on its next flush, instead of commands piling
 * up in memory and running late. It reconnects with capped exponential backoff plus jitter, and
 * on READONLY/LOADING, which Redis answers for a moment during restarts and failovers. Every
 * command has a timeout (`commandTimeout`, DEFAULT_REDIS_COMMAND_TIMEOUT_MS unless overridden), so
 * a hung Redis fails commands instead of holding them forever; a blocking reader passes a timeout
 * longer than its block time. Subscribers and blocking readers pass
 * `{ enableOfflineQueue: true, maxRetriesPerRequest: null }`.
 */
export function connectRedis(target: RedisTarget | string, connectionName: string, overrides: ConnectOptions = {}, maxReconnectDelayMs = 1000): RedisClient {
  const retryStrategy = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 10), maxReconnectDelayMs) + Math.floor(Math.random() * 50);
  const options: ConnectOptions = {
    connectionName,
    commandTimeout: DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy,
    reconnectOnError: (err) => /READONLY|LOADING/.test(err.message),
    ...overrides,
  };
  // One Redis never re-sends an unanswered command (no offline queue, no retries per request).
  const { shardedSubscribers: _sharded, resendAfterFailover: _resend, slotsRefreshTimeout: _refresh, ...single } = options;
  if (typeof target === 'string') return new Redis(target, single);
  if (target.mode === 'single') return new Redis(target.url, single);
  return connectCluster(target, options, retryStrategy);
}

/**
 * A Redis Cluster connection with the same habits. Per-node settings (timeouts, retries, name,
 * credentials, TLS) go to every node's connection; the cluster itself re-reads the slot map every
 * `SLOTS_REFRESH_MS` as well as on MOVED/ASK and on a node's failure, so a failover or a slot that
 * migrated is noticed even on a connection that only subscribes (it gets no MOVED). Sharded
 * subscribers (`shardedSubscribers`) open one connection per primary that owns a subscribed slot.
 */
function connectCluster(target: Extract<RedisTarget, { mode: 'cluster' }>, options: ConnectOptions, retryStrategy: (attempt: number) => number): Cluster {
  const { enableOfflineQueue, enableReadyCheck, shardedSubscribers, resendAfterFailover, slotsRefreshTimeout, ...nodeOptions } = options;
  const clusterOptions: ClusterOptions = {
    redisOptions: {
      ...nodeOptions,
      // Each node connection runs the same ready check (INFO) unless told not to (the agent's user may not).
      ...(enableReadyCheck === undefined ? {} : { enableReadyCheck }),
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue: enableOfflineQueue ?? false,
    enableReadyCheck: enableReadyCheck ?? true,
    slotsRefreshInterval: SLOTS_REFRESH_MS,
    slotsRefreshTimeout: slotsRefreshTimeout ?? options.commandTimeout ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    shardedSubscribers: shardedSubscribers ?? false,
    // A failover answers MOVED/CLUSTERDOWN/TRYAGAIN for a moment; retry soon, not never. A command
    // whose node connection closed unanswered is sent again to the slot's new owner unless the
    // caller said a late command is worse than none (resendAfterFailover: false).
    retryDelayOnFailover: resendAfterFailover === false ? 0 : 100,
    retryDelayOnClusterDown: 100,
    // With TLS, connect to the names as given: ioredis would otherwise resolve a seed's host name
    // first and connect to the address, and the certificate (issued for the name) would not match.
    ...(target.tls ? { dnsLookup: (address: string, callback: (err: NodeJS.ErrnoException | null, address: string) => void) => callback(null, address) } : {}),
  };
  return new Cluster(
    target.seeds.map((s) => ({ host: s.host, port: s.port })),
    clusterOptions,
  );
}

/**
 * Per-connection settings. Cluster only: `shardedSubscribers` (a connection that SSUBSCRIBEs), and
 * `resendAfterFailover: false`, for commands that must not run late: ioredis would otherwise send
 * a command again after its node's connection closed (a hung primary dropped from the slot map),
 * seconds after its caller gave up on it and sent newer ones, so it lands out of order.
 * `slotsRefreshTimeout`: how long a slot-map read may wait for a node (the command timeout unless
 * given), for a blocking reader whose command timeout outlasts its block: a refresh that asks a
 * hung node first would otherwise wait that long before trying the next.
 */
export type ConnectOptions = RedisOptions & { shardedSubscribers?: boolean; resendAfterFailover?: boolean; slotsRefreshTimeout?: number };

/** How often a cluster connection re-reads the slot map without being told to (see connectCluster). */
export const SLOTS_REFRESH_MS = 1000;

/** Runs a pipeline or transaction and returns its results, throwing the first command error. */
export async function execPipeline(p: ReturnType<RedisClient['pipeline']>): Promise<unknown[]> {
  const results = (await p.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** QUIT, or drop the connection when Redis cannot answer (down, or mid-reconnect). */
export async function quitRedis(conn: RedisClient | null): Promise<void> {
  if (!conn) return;
  try {
    await conn.quit();
  } catch {
    conn.disconnect();
  }
}

export type { Redis, RedisOptions, Cluster };
export { describeRedisTarget, isCluster, redisTargetOf, type RedisClient, type RedisTarget } from './redis-target.ts';
export { classifyRedisError, REDIS_PROBLEM_REASONS, type RedisProblem, type RedisProblemReason } from './redis-errors.ts';
export { RedisLiveness, type RedisLivenessOptions } from './redis-liveness.ts';
export { RedisProblemLog, type ProblemLogger, type RedisProblemLogOptions } from './redis-problem-log.ts';
