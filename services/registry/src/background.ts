import { Queue, Worker } from 'bullmq';
import type { Logger } from '@framecast/logging';
import { BULLMQ_PREFIX, SWEEP_QUEUE, WEBHOOK_QUEUE } from '@framecast/protocol';
import { connectRedis, quitRedis, type RedisClient, type RedisTarget } from '@framecast/redis';
import { registryListeningTtlMs, type Liveness, type RegistryStore, type SweepResult } from '@framecast/registry-store';
import type { RegistryConfig } from './config.ts';
import type { RegistryMetrics } from './metrics.ts';
import { startDeliveryWorker, type DeliveryJob } from './webhooks/delivery.ts';
import { EVENTS_BLOCK_MS, EventDispatcher } from './webhooks/event-dispatcher.ts';
import type { AllowList, HostLookup } from './webhooks/url-guard.ts';

export interface Background {
  stop(): Promise<void>;
}

interface BackgroundOptions {
  config: RegistryConfig;
  store: RegistryStore;
  liveness: Liveness;
  metrics: RegistryMetrics;
  logger: Logger;
}

function countSweep(metrics: RegistryMetrics, r: SweepResult): void {
  metrics.sweeps.inc();
  metrics.expired.inc({ what: 'camera' }, r.camerasExpired);
  metrics.expired.inc({ what: 'room' }, r.roomsOffline.length);
  metrics.expired.inc({ what: 'gateway' }, r.gatewaysExpired.length);
  metrics.expired.inc({ what: 'viewer' }, r.viewersExpired);
}

function logSweep(logger: Logger, r: SweepResult): void {
  if (r.camerasExpired + r.gatewaysExpired.length > 0) logger.info({ ...r }, 'sweep expired cameras/gateways');
}

/**
 * With Redis: the sweep is a BullMQ job scheduler (one job per interval, whichever replica's
 * worker takes it; the scheduler lives in Redis, so it outlives any replica), webhook deliveries
 * are BullMQ jobs, and the event dispatcher feeds them from the events stream.
 */
export async function startRedisBackground(
  opts: BackgroundOptions & { redis: RedisTarget; webhookGuard: { allow: AllowList; lookup: HostLookup } },
): Promise<Background> {
  const { config, store, liveness, metrics, logger, redis } = opts;
  const id = config.FRAMECAST_REGISTRY_ID;
  const commandTimeout = config.FRAMECAST_REDIS_COMMAND_TIMEOUT_MS;
  // Workers block on Redis: BullMQ requires maxRetriesPerRequest null on their connections, and a
  // command timeout would cut their blocking waits (BullMQ retries its own commands meanwhile).
  // Queues never block: their commands (adding jobs, the scheduler) fail instead of hanging on a hung Redis.
  // One Redis: BullMQ opens its connections from these options. A cluster: BullMQ takes ioredis
  // Cluster connections (it duplicates the worker's for blocking reads); its keys share the
  // `{framecast}` hash tag (BULLMQ_PREFIX), so each queue's scripts run in one slot.
  const ownConnections: RedisClient[] = [];
  const clusterConnection = (suffix: string, options: Parameters<typeof connectRedis>[2]) => {
    const conn = connectRedis(redis, `framecast-registry:${id}:${suffix}`, options);
    conn.on('error', () => {}); // BullMQ reports through its own 'error' events
    ownConnections.push(conn);
    return conn;
  };
  const workerConnection =
    redis.mode === 'single'
      ? { url: redis.url, maxRetriesPerRequest: null, connectionName: `framecast-registry:${id}:bullmq` }
      : clusterConnection('bullmq', { maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined });
  const queueConnection =
    redis.mode === 'single'
      ? { url: redis.url, connectionName: `framecast-registry:${id}:queue`, commandTimeout }
      : clusterConnection('queue', { commandTimeout, enableOfflineQueue: true, maxRetriesPerRequest: 20 });
  const sweepQueue = new Queue(SWEEP_QUEUE, { connection: queueConnection, prefix: BULLMQ_PREFIX });
  const webhookQueue = new Queue<DeliveryJob>(WEBHOOK_QUEUE, { connection: queueConnection, prefix: BULLMQ_PREFIX });
  for (const q of [sweepQueue, webhookQueue]) q.on('error', (err) => logger.debug({ err: err.message }, 'queue connection error'));
  const listening = startListening(store, liveness, logger);
  await sweepQueue.upsertJobScheduler(
    'sweep',
    { every: config.FRAMECAST_SWEEP_INTERVAL_MS },
    { name: 'sweep', opts: { removeOnComplete: true, removeOnFail: { count: 50 } } },
  );
  const sweeper = new Worker(
    SWEEP_QUEUE,
    async () => {
      const result = await store.sweep(Date.now(), liveness);
      countSweep(metrics, result);
      logSweep(logger, result);
      if (result.graceBegan) logGraceBegan(logger, liveness);
      return result;
    },
    { connection: workerConnection, prefix: BULLMQ_PREFIX, concurrency: 1, name: id },
  );
  sweeper.on('error', (err) => logger.debug({ err: err.message }, 'sweep worker error'));
  const deliveries = startDeliveryWorker({
    connection: workerConnection,
    store,
    metrics,
    logger,
    workerName: id,
    concurrency: config.FRAMECAST_WEBHOOK_CONCURRENCY,
    timeoutMs: config.FRAMECAST_WEBHOOK_TIMEOUT_MS,
    allow: opts.webhookGuard.allow,
    lookup: opts.webhookGuard.lookup,
  });
  // One loop uses it, one command at a time: a queued command while connecting is harmless. Its
  // timeout outlasts the XREADGROUP block; an entry whose reply a timeout dropped stays pending
  // and is claimed again after the claim idle time.
  const blocking: RedisClient = connectRedis(redis, `framecast-registry:${id}:events`, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    commandTimeout: EVENTS_BLOCK_MS + commandTimeout,
    slotsRefreshTimeout: commandTimeout,
  });
  blocking.on('error', () => {});
  const dispatcher = new EventDispatcher({
    redis: blocking,
    queue: webhookQueue,
    store,
    metrics,
    logger,
    consumer: id,
    attempts: config.FRAMECAST_WEBHOOK_ATTEMPTS,
    backoffMs: config.FRAMECAST_WEBHOOK_BACKOFF_MS,
  });
  dispatcher.start();
  logger.info(
    { sweepIntervalMs: config.FRAMECAST_SWEEP_INTERVAL_MS, attempts: config.FRAMECAST_WEBHOOK_ATTEMPTS, concurrency: config.FRAMECAST_WEBHOOK_CONCURRENCY },
    'webhooks on: deliveries and sweeps run on BullMQ',
  );
  return {
    async stop() {
      clearInterval(listening);
      await dispatcher.stop();
      // Workers finish the job in hand (bounded by the webhook timeout) and keep the rest in Redis.
      await Promise.allSettled([sweeper.close(), deliveries.close()]);
      await Promise.allSettled([sweepQueue.close(), webhookQueue.close()]);
      await Promise.allSettled(ownConnections.map((c) => quitRedis(c)));
    },
  };
}

/**
 * Says "a registry replica is listening" in Redis every quarter of the listening TTL, so that when
 * every replica was away (down, or cut off from Redis) the first replica back, or the first sweep,
 * finds the mark expired and starts the restart grace: cameras that streamed through the outage
 * get one agent timeout to heartbeat before any sweep may expire them (sweep.lua). The mark and
 * the grace live in Redis and expire on its clock, because the sweep runs on whichever replica
 * takes the job: no replica's own start time or clock could say whether the others were up.
 */
function startListening(store: RegistryStore, liveness: Liveness, logger: Logger): NodeJS.Timeout {
  const ttlMs = registryListeningTtlMs(liveness.agentTimeoutMs);
  const note = () =>
    void store.noteListening(Date.now(), liveness).then(
      (began) => began && logGraceBegan(logger, liveness),
      (err: unknown) => logger.debug({ err: String(err) }, 'could not mark the registry as listening (Redis down?)'),
    );
  note();
  const timer = setInterval(note, Math.max(250, Math.floor(ttlMs / 4)));
  timer.unref();
  return timer;
}

function logGraceBegan(logger: Logger, liveness: Liveness): void {
  logger.info(
    { awayForMoreThanMs: registryListeningTtlMs(liveness.agentTimeoutMs), graceMs: liveness.agentTimeoutMs },
    'no registry replica was listening before (first start, or every replica was down or cut off from Redis): for one agent timeout no camera is expired, so those that streamed throughout can heartbeat first',
  );
}

/** Without Redis (embedded): a timer sweeps the in-memory store; there are no webhooks. */
export function startMemoryBackground(opts: BackgroundOptions): Background {
  const { store, liveness, metrics, logger, config } = opts;
  logger.warn('webhooks are off: no REDIS_URL, so the registry keeps its state in memory (for trying framecast, not for production)');
  const timer = setInterval(() => {
    void store.sweep(Date.now(), liveness).then((r) => (countSweep(metrics, r), logSweep(logger, r)));
  }, config.FRAMECAST_SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
    },
  };
}
