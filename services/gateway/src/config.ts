import { authEnvFields, envField, httpTimeoutEnvFields, loadConfig, redisConnectionEnvFields, redisEnvFields, requireRedis, requireWhenAuthOn, v, type Env, type LoadedConfig } from '@framecast/config';
import { ENVELOPE_MAX_BYTES } from '@framecast/protocol';
import { tokenSecretEnvFields } from '@framecast/viewer-tokens';
import { allowedOriginsField } from './auth/origins.ts';

const common = {
  HOST: envField.host('0.0.0.0'),
  PORT: envField.port(8080),
  LOG_LEVEL: envField.logLevel(),
  /** Replica id in hello messages and logs; the pod name under Kubernetes. */
  FRAMECAST_GATEWAY_ID: envField.nodeId(),
  /** Bytes that may sit unsent in one viewer's socket before frames are skipped for it. */
  FRAMECAST_MAX_BUFFERED_BYTES: envField.bytes(16 * 1024, 64 * 1024 * 1024, 512 * 1024),
  /** A viewer whose socket stays over the bound this long is closed with 4508. */
  FRAMECAST_VIEWER_STALL_TIMEOUT_MS: envField.ms(100, 600_000, 10_000),
  /** Every viewer is pinged this often; one that has not answered (pong) by the next ping is closed with 4504. */
  FRAMECAST_PING_INTERVAL_MS: envField.ms(100, 300_000, 30_000),
  /** How long a room stays subscribed after its last local viewer leaves (quick rejoins are free). */
  FRAMECAST_SUBSCRIBE_LINGER_MS: envField.ms(0, 600_000, 3_000),
  /** Envelopes larger than this from the bus are dropped and counted. */
  FRAMECAST_MAX_ENVELOPE_BYTES: envField.bytes(1024, ENVELOPE_MAX_BYTES, 8 * 1024 * 1024),
  /** A kept latest frame older than this (by the gateway's clock) is not sent to a new viewer. */
  FRAMECAST_FIRST_FRAME_MAX_AGE_MS: envField.ms(0, 3_600_000, 10_000),
  /** Connections beyond this are refused with 1013 (try again later) so another replica takes them. */
  FRAMECAST_MAX_VIEWERS: envField.int(1, 1_000_000, 20_000),
  /** Graceful shutdown deadline: viewers closed with 1012, Redis quit, then exit regardless. */
  FRAMECAST_SHUTDOWN_TIMEOUT_MS: envField.ms(100, 120_000, 10_000),
  /** FRAMECAST_AUTH and FRAMECAST_TOKEN_SECRET: private rooms need a viewer token signed with the secret. */
  ...authEnvFields,
  ...tokenSecretEnvFields,
  /** Viewer joins and leaves are written to the registry's store in one batch this often. */
  FRAMECAST_PRESENCE_FLUSH_MS: envField.ms(50, 60_000, 1_000),
  /** With no joins or leaves, an empty report still goes out this often (keep it well under the registry's FRAMECAST_GATEWAY_TIMEOUT_MS). */
  FRAMECAST_PRESENCE_HEARTBEAT_MS: envField.ms(100, 600_000, 5_000),
  /** The public-room set is reloaded this often even without a change notice (notices can be lost, FLUSHALL sends none). */
  FRAMECAST_ROOMS_REFRESH_MS: envField.ms(100, 600_000, 10_000),
  /**
   * Frames per second one browser publisher (/ws/publish/<room>) may send; more are dropped and
   * counted (`rate`). A short burst of a quarter second's worth passes, the average may not.
   */
  FRAMECAST_MAX_PUBLISH_FPS: envField.int(1, 120, 30),
  /** Page origins allowed to open viewer websockets (comma-separated); unset: any. Same-origin pages always may. */
  FRAMECAST_ALLOWED_ORIGINS: allowedOriginsField,
  /** Headers, request and keep-alive timeouts of the HTTP server (slow clients are cut). */
  ...httpTimeoutEnvFields,
  /** FRAMECAST_REDIS_COMMAND_TIMEOUT_MS: every Redis command's timeout; a PING unanswered this long turns /readyz 503. */
  ...redisEnvFields,
};

/** The standalone gateway: Redis is required, it has no other source of frames. */
export const gatewayEnvSchema = v.object({ ...common, ...redisConnectionEnvFields });

/** The embedded default: Redis is optional (in-memory bus without it). */
export const embeddedGatewayEnvSchema = v.object({ ...common, ...redisConnectionEnvFields });

export type GatewayConfig = v.InferOutput<typeof embeddedGatewayEnvSchema>;

/**
 * The gateway's configuration with all of its own rules: standalone, REDIS_URL is required (it has
 * no other source of frames); embedded, it is optional (the in-memory bus). With auth on the token
 * secret is required either way.
 */
export function loadGatewayConfig(env: Env = process.env, opts: { embedded?: boolean } = {}): LoadedConfig<GatewayConfig> {
  const loaded = loadConfig(opts.embedded ? embeddedGatewayEnvSchema : gatewayEnvSchema, env);
  // REDIS_URL or REDIS_CLUSTER_NODES: standalone the gateway has no other source of frames.
  requireRedis(loaded.config, { required: !opts.embedded });
  requireWhenAuthOn(loaded.config, 'FRAMECAST_TOKEN_SECRET', loaded.config.FRAMECAST_TOKEN_SECRET);
  return loaded;
}
