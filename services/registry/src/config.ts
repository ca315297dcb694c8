import { authEnvFields, ConfigError, envField, httpTimeoutEnvFields, loadConfig, redisConnectionEnvFields, redisEnvFields, requireRedis, requireWhenAuthOn, FieldProblem, parsedText, v, type Env, type LoadedConfig } from '@framecast/config';
import { tokenSecretEnvFields } from '@framecast/viewer-tokens';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.ts';
import { parseAllowList } from './webhooks/url-guard.ts';

const fields = {
  HOST: envField.host('0.0.0.0'),
  PORT: envField.port(8081),
  LOG_LEVEL: envField.logLevel(),
  /** Replica id: its BullMQ worker and events consumer name, and in logs. */
  FRAMECAST_REGISTRY_ID: envField.nodeId(),
  ...authEnvFields,
  ...tokenSecretEnvFields,
  /** Bearer key for the admin API (rooms, tokens, webhooks, agent keys, presence). */
  FRAMECAST_ADMIN_KEY: v.optional(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters'))),
  /** Failed admin/agent key checks one client address may make per window; then 429 until the window ends. */
  FRAMECAST_AUTH_FAILURE_LIMIT: envField.int(1, 100_000, 20),
  /** The auth-failure window, in seconds (fixed: it starts at an address's first failure). */
  FRAMECAST_AUTH_FAILURE_WINDOW_S: envField.int(1, 86_400, 60),
  /** Lifetime of a viewer token when the request does not say. */
  FRAMECAST_TOKEN_TTL_S: envField.int(10, 7 * 86_400, 3_600),
  /**
   * Visibility of a room that a camera heartbeat creates (no record yet). Private by default:
   * deny by default, an admin opens a room; `public` is the operator's explicit choice.
   */
  FRAMECAST_CAMERA_ROOM_VISIBILITY: v.optional(v.picklist(['private', 'public'], 'must be private or public'), 'private'),
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
  /**
   * Comma-separated host names, IP addresses and CIDR ranges webhooks may reach although they are
   * (or resolve to) loopback, private, link-local or other non-public addresses. Default: none.
   */
  FRAMECAST_WEBHOOK_ALLOW_HOSTS: v.optional(
    parsedText((value) => {
      try {
        parseAllowList(value);
        return value;
      } catch (err) {
        throw new FieldProblem((err as Error).message);
      }
    }),
    '',
  ),
  /** Graceful shutdown deadline. */
  FRAMECAST_SHUTDOWN_TIMEOUT_MS: envField.ms(100, 120_000, 10_000),
  /** Headers, request and keep-alive timeouts of the HTTP server (slow clients are cut). */
  ...httpTimeoutEnvFields,
  /** FRAMECAST_REDIS_COMMAND_TIMEOUT_MS: every Redis command's timeout; a PING unanswered this long turns /readyz 503 and requests 503 store_unavailable. */
  ...redisEnvFields,
};

/** Proxies whose X-Forwarded-For names the client (the address auth failures are counted by). Standalone server only. */
const trustProxyField = v.optional(
  parsedText((value): TrustProxy => {
    try {
      return parseTrustProxy(value);
    } catch (err) {
      throw new FieldProblem((err as Error).message);
    }
  }),
  'off',
);

/** REDIS_URL or REDIS_CLUSTER_NODES: required standalone (requireRedis), optional embedded. */
export const registryEnvSchema = v.object({ ...fields, FRAMECAST_TRUST_PROXY: trustProxyField, ...redisConnectionEnvFields });
/** In-process (embedded) registry: without Redis it keeps state in memory, without webhooks. */
export const embeddedRegistryEnvSchema = v.object({ ...fields, ...redisConnectionEnvFields });

/** FRAMECAST_TRUST_PROXY is the standalone server's only: embedded, the API is on the gateway's server. */
export type RegistryConfig = v.InferOutput<typeof embeddedRegistryEnvSchema> & { FRAMECAST_TRUST_PROXY?: TrustProxy };

/** Cross-field rules the schema cannot say: secrets are required while auth is on. */
function checkRegistryConfig(config: RegistryConfig): void {
  requireWhenAuthOn(config, 'FRAMECAST_TOKEN_SECRET', config.FRAMECAST_TOKEN_SECRET);
  requireWhenAuthOn(config, 'FRAMECAST_ADMIN_KEY', config.FRAMECAST_ADMIN_KEY);
  if (config.FRAMECAST_SWEEP_INTERVAL_MS > Math.min(config.FRAMECAST_AGENT_TIMEOUT_MS, config.FRAMECAST_GATEWAY_TIMEOUT_MS)) {
    throw new ConfigError('FRAMECAST_SWEEP_INTERVAL_MS', 'must not exceed FRAMECAST_AGENT_TIMEOUT_MS or FRAMECAST_GATEWAY_TIMEOUT_MS');
  }
}

/**
 * The registry's configuration with all of its own rules. Standalone, REDIS_URL is required and
 * FRAMECAST_TRUST_PROXY applies; embedded (in the gateway's server), state may live in memory.
 */
export function loadRegistryConfig(env: Env = process.env, opts: { embedded?: boolean } = {}): LoadedConfig<RegistryConfig> {
  const loaded = loadConfig(opts.embedded ? embeddedRegistryEnvSchema : registryEnvSchema, env);
  requireRedis(loaded.config, { required: !opts.embedded });
  checkRegistryConfig(loaded.config);
  return loaded;
}
