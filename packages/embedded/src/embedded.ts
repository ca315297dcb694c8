import { MemoryBroker, MemoryFrameBus, RedisFrameBus, type FrameBus } from '@framecast/bus';
import { loadConfig, type Env } from '@framecast/config';
import { loadAgentConfig, startCaptureAgent } from '@framecast/capture-agent';
import { buildGateway, embeddedGatewayEnvSchema, type Gateway } from '@framecast/gateway';
import { createLogger, type Logger } from '@framecast/logging';

export interface Embedded {
  gateway: Gateway;
  url: string;
  room: string;
  logger: Logger;
  stop(): Promise<void>;
}

export interface EmbeddedConfig {
  gateway: ReturnType<typeof loadConfig<typeof embeddedGatewayEnvSchema>>['config'];
  agent: ReturnType<typeof loadAgentConfig>['config'];
  /** FRAMECAST_* variables neither part reads: probably typos. */
  unknown: string[];
}

/** Validates the embedded runner's environment; throws ConfigError naming the bad variable. */
export function loadEmbeddedConfig(env: Env = process.env): EmbeddedConfig {
  const merged: Env = { FRAMECAST_ROOM: 'demo', FRAMECAST_SOURCE: 'testsrc', ...env };
  const gw = loadConfig(embeddedGatewayEnvSchema, merged);
  const agent = loadAgentConfig(merged, { requireRedisUrl: false });
  return { gateway: gw.config, agent: agent.config, unknown: gw.unknown.filter((v) => agent.unknown.includes(v)) };
}

/**
 * The embedded default: the gateway and a test-pattern agent for room `demo` in one process.
 * Without REDIS_URL they share an in-memory bus (nothing to install); with it they go through
 * Redis exactly as separate services would. For trying and developing, never for production.
 */
export async function startEmbedded(cfg: EmbeddedConfig): Promise<Embedded> {
  const gw = { config: cfg.gateway };
  const agent = { config: cfg.agent };
  const logger = createLogger('framecast', gw.config.LOG_LEVEL);
  if (cfg.unknown.length > 0) logger.warn({ variables: cfg.unknown }, 'unknown FRAMECAST_* environment variables ignored');

  const redisUrl = gw.config.REDIS_URL;
  const broker = new MemoryBroker();
  const makeBus = (name: string): FrameBus => (redisUrl ? new RedisFrameBus({ url: redisUrl, connectionName: name }) : new MemoryFrameBus(broker));
  const gatewayBus = makeBus('framecast-embedded-gateway');
  const agentBus = makeBus('framecast-embedded-agent');

  const gateway = await buildGateway({ config: gw.config, bus: gatewayBus, logger: logger.child({ component: 'gateway' }) });
  const { port } = await gateway.listen();
  const capture = await startCaptureAgent({ config: agent.config, bus: agentBus, logger: logger.child({ component: 'capture-agent' }) });

  const host = gw.config.HOST === '0.0.0.0' || gw.config.HOST === '::' ? 'localhost' : gw.config.HOST;
  const room = agent.config.FRAMECAST_ROOM;
  return {
    gateway,
    url: `http://${host}:${port}/rooms/${room}`,
    room,
    logger,
    async stop() {
      await capture.stop();
      await Promise.allSettled([gateway.shutdown(), agentBus.close()]);
    },
  };
}
