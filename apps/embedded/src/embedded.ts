import { MemoryBroker, MemoryFrameBus, RedisFrameBus, type FrameBus } from '@framecast/bus';
import { loadConfig, requireWhenAuthOn, type Env } from '@framecast/config';
import { loadAgentConfig, startCaptureAgent, startRegistryHeartbeat } from '@framecast/capture-agent';
import { buildGateway, embeddedGatewayEnvSchema, type Gateway } from '@framecast/gateway';
import { packageVersion } from '@framecast/lifecycle';
import { createLogger, type Logger } from '@framecast/logging';
import { checkRegistryConfig, createAgentKey, createRegistry, embeddedRegistryEnvSchema, type Registry, type RegistryConfig } from '@framecast/registry';

export const EMBEDDED_VERSION = packageVersion(new URL('../package.json', import.meta.url));

export interface Embedded {
  gateway: Gateway;
  registry: Registry;
  url: string;
  /** Where the registry's API answers (the gateway's server, under /api). */
  apiUrl: string;
  room: string;
  auth: 'on' | 'off';
  logger: Logger;
  stop(): Promise<void>;
}

export interface EmbeddedConfig {
  gateway: ReturnType<typeof loadConfig<typeof embeddedGatewayEnvSchema>>['config'];
  agent: ReturnType<typeof loadAgentConfig>['config'];
  registry: RegistryConfig;
  /** FRAMECAST_* variables no part reads: probably typos. */
  unknown: string[];
}

/**
 * Validates the embedded runner's environment; throws ConfigError naming the bad variable. Auth
 * is off unless FRAMECAST_AUTH=on says otherwise: this is the try-it-now default, and start-up
 * says so loudly.
 */
export function loadEmbeddedConfig(env: Env = process.env): EmbeddedConfig {
  const merged: Env = { FRAMECAST_ROOM: 'demo', FRAMECAST_SOURCE: 'testsrc', FRAMECAST_AUTH: 'off', ...env };
  // Auth off opens every room anyway; the camera's room is then listed as what it is, public.
  if (merged.FRAMECAST_AUTH === 'off') merged.FRAMECAST_CAMERA_ROOM_VISIBILITY ??= 'public';
  const gw = loadConfig(embeddedGatewayEnvSchema, merged);
  requireWhenAuthOn(gw.config, 'FRAMECAST_TOKEN_SECRET', gw.config.FRAMECAST_TOKEN_SECRET);
  const agent = loadAgentConfig(merged, { requireRedisUrl: false });
  const registry = loadConfig(embeddedRegistryEnvSchema, merged);
  checkRegistryConfig(registry.config);
  const unknown = gw.unknown.filter((v) => agent.unknown.includes(v) && registry.unknown.includes(v));
  return { gateway: gw.config, agent: agent.config, registry: registry.config, unknown };
}

/**
 * The embedded default: gateway, registry and a test-pattern agent for room `demo` in one process.
 * Without REDIS_URL they share an in-memory bus and an in-memory registry store (nothing to
 * install, no webhooks); with it they go through Redis exactly as separate services would. The
 * registry's API is mounted on the gateway's server under /api, so the viewer page can list rooms.
 * For trying and developing, never for production.
 */
export async function startEmbedded(cfg: EmbeddedConfig): Promise<Embedded> {
  const logger = createLogger('framecast', cfg.gateway.LOG_LEVEL);
  if (cfg.unknown.length > 0) logger.warn({ variables: cfg.unknown }, 'unknown FRAMECAST_* environment variables ignored');

  const redisUrl = cfg.gateway.REDIS_URL;
  const broker = new MemoryBroker();
  const commandTimeoutMs = cfg.gateway.FRAMECAST_REDIS_COMMAND_TIMEOUT_MS;
  const makeBus = (name: string): FrameBus => (redisUrl ? new RedisFrameBus({ url: redisUrl, connectionName: name, commandTimeoutMs }) : new MemoryFrameBus(broker));
  const gatewayBus = makeBus('framecast-embedded-gateway');
  const agentBus = makeBus('framecast-embedded-agent');

  const registry = await createRegistry(cfg.registry, logger.child({ component: 'registry' }));
  const gateway = await buildGateway({
    config: cfg.gateway,
    bus: gatewayBus,
    logger: logger.child({ component: 'gateway' }),
    control: { publicRooms: registry.store, presence: registry.store },
    health: { service: 'embedded', version: EMBEDDED_VERSION },
  });
  await gateway.app.register(registry.api, { prefix: '/api' });
  const { port } = await gateway.listen();
  const capture = await startCaptureAgent({ config: cfg.agent, bus: agentBus, logger: logger.child({ component: 'capture-agent' }) });

  // The agent heartbeats to the registry over HTTP like a remote one would, on loopback.
  const loopback = cfg.gateway.HOST === '0.0.0.0' ? '127.0.0.1' : cfg.gateway.HOST === '::' ? '[::1]' : cfg.gateway.HOST;
  const rooms = cfg.agent.cameras.map((c) => c.room);
  const agentKey = cfg.registry.FRAMECAST_AUTH === 'on' ? (await createAgentKey(registry.store, 'embedded agent', rooms)).key : undefined;
  const heartbeat = startRegistryHeartbeat({ ...cfg.agent, FRAMECAST_AGENT_KEY: agentKey }, capture, logger.child({ component: 'capture-agent' }), `http://${loopback}:${port}`);

  const host = cfg.gateway.HOST === '0.0.0.0' || cfg.gateway.HOST === '::' ? 'localhost' : cfg.gateway.HOST;
  const room = rooms[0]!;
  return {
    gateway,
    registry,
    url: `http://${host}:${port}/rooms/${room}`,
    apiUrl: `http://${host}:${port}/api`,
    room,
    auth: cfg.registry.FRAMECAST_AUTH,
    logger,
    async stop() {
      await heartbeat?.stop();
      await capture.stop();
      await Promise.allSettled([gateway.shutdown(), agentBus.close()]);
      await registry.close();
    },
  };
}
