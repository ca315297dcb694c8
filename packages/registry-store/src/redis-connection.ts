import { Redis, type RedisOptions } from 'ioredis';

/**
 * Control-path connections fail fast while Redis is away (no offline queue): an API call answers
 * 503 at once and a gateway's presence report is retried as a sync on its next flush, instead of
 * commands piling up in memory and running late.
 */
export function controlConnection(url: string, connectionName: string, overrides: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), 1000) + Math.floor(Math.random() * 50),
    reconnectOnError: (err) => /READONLY|LOADING/.test(err.message),
    ...overrides,
  });
  return redis;
}

/** Runs a pipeline and returns its results, throwing the first command error. */
export async function execPipeline(p: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await p.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
