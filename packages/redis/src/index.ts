import { Redis, type RedisOptions } from 'ioredis';

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
export function connectRedis(url: string, connectionName: string, overrides: RedisOptions = {}, maxReconnectDelayMs = 1000): Redis {
  return new Redis(url, {
    connectionName,
    commandTimeout: DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxReconnectDelayMs) + Math.floor(Math.random() * 50),
    reconnectOnError: (err) => /READONLY|LOADING/.test(err.message),
    ...overrides,
  });
}

/** Runs a pipeline or transaction and returns its results, throwing the first command error. */
export async function execPipeline(p: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await p.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** QUIT, or drop the connection when Redis cannot answer (down, or mid-reconnect). */
export async function quitRedis(conn: Redis | null): Promise<void> {
  if (!conn) return;
  try {
    await conn.quit();
  } catch {
    conn.disconnect();
  }
}

export type { Redis, RedisOptions };
export { classifyRedisError, REDIS_PROBLEM_REASONS, type RedisProblem, type RedisProblemReason } from './redis-errors.ts';
export { RedisLiveness, type RedisLivenessOptions } from './redis-liveness.ts';
export { RedisProblemLog, type ProblemLogger, type RedisProblemLogOptions } from './redis-problem-log.ts';
