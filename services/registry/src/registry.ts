import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '@framecast/logging';
import { RedisProblemLog, redisTargetOf } from '@framecast/redis';
import { MemoryRegistryStore, RedisRegistryStore, type Liveness, type RegistryStore } from '@framecast/registry-store';
import { ViewerTokenSigner } from '@framecast/viewer-tokens';
import { registryApi } from './api.ts';
import { AuthFailureLimiter } from './auth-limit.ts';
import { startMemoryBackground, startRedisBackground, type Background } from './background.ts';
import type { RegistryConfig } from './config.ts';
import { RegistryMetrics } from './metrics.ts';
import { parseAllowList, systemLookup, type HostLookup } from './webhooks/url-guard.ts';

export interface RegistryOptions {
  /** Resolves webhook host names, at creation and at delivery (tests stub it). Default: the system resolver. */
  webhookLookup?: HostLookup;
}

export interface Registry {
  store: RegistryStore;
  metrics: RegistryMetrics;
  liveness: Liveness;
  /** The REST API; register it with `{ prefix: '/api' }`. */
  api: FastifyPluginAsync;
  /** Stops background work (sweeps, deliveries, event reading) and closes the store. */
  close(): Promise<void>;
}

/**
 * The registry without its HTTP server: the store (Redis with REDIS_URL, memory without), the
 * background work, and the API plugin. The standalone service (server.ts) and the embedded runner
 * each mount the plugin on their own server.
 */
export async function createRegistry(config: RegistryConfig, logger: Logger, metrics = new RegistryMetrics(), opts: RegistryOptions = {}): Promise<Registry> {
  const liveness: Liveness = { agentTimeoutMs: config.FRAMECAST_AGENT_TIMEOUT_MS, gatewayTimeoutMs: config.FRAMECAST_GATEWAY_TIMEOUT_MS };
  const redis = redisTargetOf(config);
  const commandTimeoutMs = config.FRAMECAST_REDIS_COMMAND_TIMEOUT_MS;
  const redisStore = redis ? new RedisRegistryStore({ redis, connectionName: `framecast-registry:${config.FRAMECAST_REGISTRY_ID}`, commandTimeoutMs }) : null;
  const store: RegistryStore = redisStore ?? new MemoryRegistryStore();
  if (redisStore) {
    // Why the store cannot connect (a refused password, say): once per episode, not per retry.
    const connectionProblems = new RedisProblemLog(logger, { what: 'registry store' });
    redisStore.connection.on('error', (err: Error) => connectionProblems.report(err));
    redisStore.connection.on('ready', () => connectionProblems.clear());
  }
  if (config.FRAMECAST_AUTH === 'off') logger.warn('auth is off (FRAMECAST_AUTH=off): the admin API is open and no viewer tokens can be issued');
  const webhookGuard = { allow: parseAllowList(config.FRAMECAST_WEBHOOK_ALLOW_HOSTS), lookup: opts.webhookLookup ?? systemLookup };
  if (redis && webhookGuard.allow.entries.length > 0) logger.info({ allow: webhookGuard.allow.entries }, 'webhooks may reach these non-public hosts (FRAMECAST_WEBHOOK_ALLOW_HOSTS)');
  const background: Background = redis
    ? await startRedisBackground({ config, store, liveness, metrics, logger, redis, webhookGuard })
    : startMemoryBackground({ config, store, liveness, metrics, logger });
  // Connected and answering (a hung Redis counts as down): the API's 503s and the store_up gauge.
  const storeUp = () => redisStore === null || redisStore.available();
  // Gauges of rooms, cameras and viewers, read from the store when Prometheus scrapes.
  metrics.observeState({ counts: () => store.counts(Date.now(), liveness), up: storeUp });
  const signer = config.FRAMECAST_AUTH === 'on' ? new ViewerTokenSigner(config.FRAMECAST_TOKEN_SECRET!) : null;
  const api = registryApi({
    store,
    config,
    liveness,
    signer,
    metrics,
    logger,
    webhooksEnabled: redisStore !== null,
    webhookGuard,
    authLimiter: new AuthFailureLimiter({
      limit: config.FRAMECAST_AUTH_FAILURE_LIMIT,
      windowS: config.FRAMECAST_AUTH_FAILURE_WINDOW_S,
      redis: redisStore?.connection ?? null,
      redisAvailable: () => redisStore === null || redisStore.available(),
      metrics,
      logger,
    }),
    // Connected and answering: a hung Redis counts as unavailable too.
    storeReady: storeUp,
  });
  return {
    store,
    metrics,
    liveness,
    api,
    async close() {
      await background.stop();
      await store.close();
    },
  };
}
