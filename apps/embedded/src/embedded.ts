import { MemoryBroker, MemoryFrameBus, RedisFrameBus, redisTargetOf, type FrameBus } from '@framecast/bus';
import type { Env, LoadedConfig } from '@framecast/config';
import { loadAgentConfig, startCaptureAgent, startRegistryHeartbeat } from '@framecast/capture-agent';
import { buildGateway, loadGatewayConfig, type Gateway, type GatewayConfig } from '@framecast/gateway';
import { packageVersion } from '@framecast/lifecycle';
import { createLogger, type Logger } from '@framecast/logging';
import { createAgentKey, createRegistry, loadRegistryConfig, type Registry, type RegistryConfig } from '@framecast/registry';

export const EMBEDDED_VERSION = packageVersion(new URL('../package.json', import.meta.url));

export interface Embedded {
  gateway: Gateway;
  registry: Registry;
  url: string;
  /** The room directory (the viewer app's start page). */
  directoryUrl: string;
  /** Where the registry's API answers (the gateway's server, under /api). */
  apiUrl: string;
  room: string;
  auth: 'on' | 'off';
  logger: Logger;
  stop(): Promise<void>;
}

export interface EmbeddedConfig {
  gateway: GatewayConfig;
  agent: ReturnType<typeof loadAgentConfig>['config'];
  registry: RegistryConfig;
  /** The process's: the gateway's (every part reads the same variable). */
  LOG_LEVEL: GatewayConfig['LOG_LEVEL'];
  FRAMECAST_SHUTDOWN_TIMEOUT_MS: number;
}

/**
 * Validates the embedded runner's environment; throws ConfigError naming the bad variable. Auth
 * is off unless FRAMECAST_AUTH=on says otherwise: this is the try-it-now default, and start-up
 * says so loudly.
 */
export function loadEmbeddedConfig(env: Env = process.env): LoadedConfig<EmbeddedConfig> {
  const merged: Env = { FRAMECAST_ROOM: 'demo', FRAMECAST_SOURCE: 'testsrc', FRAMECAST_AUTH: 'off', ...env };
  // Auth off opens every room anyway; the camera's room is then listed as what it is, public.
  if (merged.FRAMECAST_AUTH === 'off') merged.FRAMECAST_CAMERA_ROOM_VISIBILITY ??= 'public';
  // Each part applies its own rules (secrets while auth is on, timeouts that must fit): none copied here.
  const gw = loadGatewayConfig(merged, { embedded: true });
  const agent = loadAgentConfig(merged, { embedded: true });
  const registry = loadRegistryConfig(merged, { embedded: true });
  // Unknown to the process only if no part reads it.
  const unknown = gw.unknown.filter((v) => agent.unknown.includes(v) && registry.unknown.includes(v));
  const config: EmbeddedConfig = {
    gateway: gw.config,
    agent: agent.config,
    registry: registry.config,
    LOG_LEVEL: gw.config.LOG_LEVEL,
    FRAMECAST_SHUTDOWN_TIMEOUT_MS: gw.config.FRAMECAST_SHUTDOWN_TIMEOUT_MS,
  };
  return { config: Object.freeze(config), unknown };
}

/**
 * The embedded default: gateway, registry and a test-pattern agent for room `demo` in one process.
 * Without REDIS_URL (or REDIS_CLUSTER_NODES) they share an in-memory bus and an in-memory registry store (nothing to
 * install, no webhooks); with it they go through Redis exactly as separate services would. The
 * registry's API is mounted on the gateway's server under /api, so the viewer page can list rooms.
 * For trying and developing, never for production.
 */
export async function startEmbedded(cfg: EmbeddedConfig, logger: Logger = createLogger('framecast', cfg.LOG_LEVEL)): Promise<Embedded> {
  const redis = redisTargetOf(cfg.gateway);
  const broker = new MemoryBroker();
  const commandTimeoutMs = cfg.gateway.FRAMECAST_REDIS_COMMAND_TIMEOUT_MS;
  const makeBus = (name: string): FrameBus => (redis ? new RedisFrameBus({ redis, connectionName: name, commandTimeoutMs }) : new MemoryFrameBus(broker));
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
    directoryUrl: `http://${host}:${port}/`,
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
