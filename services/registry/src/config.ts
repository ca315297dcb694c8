import { hostname } from 'node:os';
import { ConfigError, envField, loadConfig, z, type Env, type LoadedConfig } from '@framecast/config';
import { isValidNodeId, NODE_ID_RULE } from '@framecast/protocol';
import { authEnvFields, requireWhenAuthOn } from '@framecast/viewer-tokens';

const fields = {
  HOST: envField.host('0.0.0.0'),
  PORT: envField.port(8081),
  LOG_LEVEL: envField.logLevel(),
  /** Replica id: its BullMQ worker and events consumer name, and in logs. */
  FRAMECAST_REGISTRY_ID: z.string().default(hostname()).refine(isValidNodeId, `must be an id: ${NODE_ID_RULE}`),
  ...authEnvFields,
  /** Bearer key for the admin API (rooms, tokens, webhooks, agent keys, presence). */
  FRAMECAST_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Lifetime of a viewer token when the request does not say. */
  FRAMECAST_TOKEN_TTL_S: envField.int(10, 7 * 86_400, 3_600),
  /** A camera whose heartbeats stop for this long is offline (its room too, once no camera is left). */
  FRAMECAST_AGENT_TIMEOUT_MS: envField.ms(1_000, 3_600_000, 15_000),
  /** A gateway whose presence reports stop for this long is gone, and its viewers stop counting. */
  FRAMECAST_GATEWAY_TIMEOUT_MS: envField.ms(1_000, 3_600_000, 15_000),
  /** How often the sweep (a BullMQ job scheduler) expires cameras and gateways. */
  FRAMECAST_SWEEP_INTERVAL_MS: envField.ms(200, 600_000, 5_000),
  /** Delivery attempts per webhook event before it is given up (first try included). */
  FRAMECAST_WEBHOOK_ATTEMPTS: envField.int(1, 50, 8),
  /** First retry delay; each further retry waits twice as long (exponential backoff). */
  FRAMECAST_WEBHOOK_BACKOFF_MS: envField.ms(10, 3_600_000, 1_000),
  /** A receiver that has not answered by then counts as failed (and is retried). */
  FRAMECAST_WEBHOOK_TIMEOUT_MS: envField.ms(100, 60_000, 5_000),
  /** Deliveries in flight at once per replica, so one slow receiver cannot hold up the others. */
  FRAMECAST_WEBHOOK_CONCURRENCY: envField.int(1, 1_000, 16),
  /** Graceful shutdown deadline. */
  FRAMECAST_SHUTDOWN_TIMEOUT_MS: envField.ms(100, 120_000, 10_000),
};

export const registryEnvSchema = z.object({ ...fields, REDIS_URL: envField.redisUrl() });
/** In-process (embedded) registry: without REDIS_URL it keeps state in memory, without webhooks. */
export const embeddedRegistryEnvSchema = z.object({ ...fields, REDIS_URL: envField.redisUrl().optional() });

export type RegistryConfig = z.infer<typeof embeddedRegistryEnvSchema>;

/** Cross-field rules the schema cannot say: secrets are required while auth is on. */
export function checkRegistryConfig(config: RegistryConfig): void {
  requireWhenAuthOn(config, 'FRAMECAST_TOKEN_SECRET', config.FRAMECAST_TOKEN_SECRET);
  requireWhenAuthOn(config, 'FRAMECAST_ADMIN_KEY', config.FRAMECAST_ADMIN_KEY);
  if (config.FRAMECAST_SWEEP_INTERVAL_MS > Math.min(config.FRAMECAST_AGENT_TIMEOUT_MS, config.FRAMECAST_GATEWAY_TIMEOUT_MS)) {
    throw new ConfigError('FRAMECAST_SWEEP_INTERVAL_MS', 'must not exceed FRAMECAST_AGENT_TIMEOUT_MS or FRAMECAST_GATEWAY_TIMEOUT_MS');
  }
}

export function loadRegistryConfig(env: Env = process.env, opts: { requireRedisUrl?: boolean } = {}): LoadedConfig<RegistryConfig> {
  const loaded = loadConfig((opts.requireRedisUrl ?? true) ? registryEnvSchema : embeddedRegistryEnvSchema, env);
  checkRegistryConfig(loaded.config);
  return loaded;
}
