import type { Logger } from '@framecast/logging';
import { AGENT_VERSION, type CaptureAgent } from '../agent.ts';
import type { HeartbeatConfig } from '../config/heartbeat-config.ts';
import { CameraReporter } from './camera-reports.ts';
import { RegistryHeartbeat } from './heartbeat.ts';

/** Starts heartbeats when FRAMECAST_REGISTRY_URL is set; null (and no traffic) otherwise. */
export function startRegistryHeartbeat(config: HeartbeatConfig, agent: CaptureAgent, logger: Logger, url = config.FRAMECAST_REGISTRY_URL): RegistryHeartbeat | null {
  if (!url) return null;
  const reporter = new CameraReporter(() => agent.stats().cameras);
  const heartbeat = new RegistryHeartbeat({
    url,
    agentId: config.FRAMECAST_AGENT_ID,
    agentKey: config.FRAMECAST_AGENT_KEY,
    intervalMs: config.FRAMECAST_HEARTBEAT_INTERVAL_MS,
    version: AGENT_VERSION,
    reports: () => reporter.reports(),
    logger,
  });
  heartbeat.start();
  return heartbeat;
}
