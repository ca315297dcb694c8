import { authEnvFields, ConfigError, envField, requireWhenAuthOn, v } from '@framecast/config';

/**
 * The agent's registry settings, spread into its config schema. All optional: without
 * FRAMECAST_REGISTRY_URL the agent sends no heartbeats and publishes frames as before.
 */
export const heartbeatEnvFields = {
  /** Base URL of the registry (e.g. http://registry:8081); heartbeats go to <url>/api/agents/<id>/heartbeat. */
  FRAMECAST_REGISTRY_URL: v.optional(
    v.pipe(
      v.string(),
      v.check((url) => /^https?:\/\/[^\s]+$/.test(url) && URL.canParse(url), 'must be an http:// or https:// URL'),
      v.transform((url) => url.replace(/\/+$/, '')),
    ),
  ),
  /** The agent key from POST /api/agent-keys: it says which rooms this agent may heartbeat for. */
  FRAMECAST_AGENT_KEY: v.optional(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters'))),
  /** This agent's id in the registry; cameras are `<room>/<agent id>`. */
  FRAMECAST_AGENT_ID: envField.nodeId(),
  FRAMECAST_HEARTBEAT_INTERVAL_MS: envField.ms(500, 60_000, 5_000),
  ...authEnvFields,
};

export interface HeartbeatConfig {
  FRAMECAST_REGISTRY_URL?: string | undefined;
  FRAMECAST_AGENT_KEY?: string | undefined;
  FRAMECAST_AGENT_ID: string;
  FRAMECAST_HEARTBEAT_INTERVAL_MS: number;
  FRAMECAST_AUTH: 'on' | 'off';
}

/** A registry URL without a key would only ever be refused: say so at start-up instead. */
export function checkHeartbeatConfig(config: HeartbeatConfig): void {
  if (!config.FRAMECAST_REGISTRY_URL) {
    if (config.FRAMECAST_AGENT_KEY) throw new ConfigError('FRAMECAST_REGISTRY_URL', 'is required when FRAMECAST_AGENT_KEY is set');
    return;
  }
  requireWhenAuthOn(config, 'FRAMECAST_AGENT_KEY', config.FRAMECAST_AGENT_KEY);
}
