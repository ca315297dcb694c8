import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { FrameBus } from '@framecast/bus';
import { httpServerOptions } from '@framecast/config';
import { packageVersion, type HealthIdentity } from '@framecast/lifecycle';
import type { Logger } from '@framecast/logging';
import type { GatewayConfig } from './config.ts';
import { startControlPlane, type GatewayControl } from './control-plane.ts';
import { GatewayMetrics } from './metrics.ts';
import { ViewerHub } from './viewer-hub.ts';
import type { GatewayContext } from './context.ts';
import { readiness, registerOpsRoutes } from './routes/ops.ts';
import { registerViewerPage } from './routes/viewer-page.ts';
import { registerVideoRoutes } from './routes/video-http.ts';
import { registerViewerUpgrades } from './routes/viewer-upgrade.ts';
import { registerPublishRoute } from './routes/publish.ts';
import type { PublisherHub } from './publish/publishers.ts';

export const GATEWAY_VERSION = packageVersion(new URL('../package.json', import.meta.url));

export interface GatewayOptions {
  config: GatewayConfig;
  bus: FrameBus;
  logger: Logger;
  metrics?: GatewayMetrics;
  /** Room privacy and presence (the registry's store). Without it presence is off and, with auth on, every room needs a token. */
  control?: GatewayControl;
  /** Who answers /healthz: the gateway (default) or the embedded runner that hosts it. */
  health?: HealthIdentity;
}

export interface Gateway {
  app: FastifyInstance;
  hub: ViewerHub;
  /** Browser publishers (/ws/publish/<room>), at most one per room. */
  publishers: PublisherHub;
  metrics: GatewayMetrics;
  /** Listens on HOST:PORT; resolves with the bound address (port 0 picks one). */
  listen(): Promise<{ host: string; port: number }>;
  /**
   * Graceful shutdown within FRAMECAST_SHUTDOWN_TIMEOUT_MS: stop accepting, close viewers and
   * publishers with 1012 so their clients reconnect to another replica, unsubscribe, quit the bus.
   */
  shutdown(): Promise<void>;
}

export async function buildGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config, bus, logger } = opts;
  const metrics = opts.metrics ?? new GatewayMetrics();
  const hub = new ViewerHub(config, bus, metrics, logger);
  const controlPlane = startControlPlane(hub, config, opts.control, logger, metrics.register);

  metrics.busUp.set(bus.isReady() ? 1 : 0);
  bus.on('ready', () => {
    metrics.busUp.set(1);
    logger.info({ bus: bus.kind }, 'bus connected');
  });
  bus.on('down', () => {
    metrics.busUp.set(0);
    // Lost, or connected but no longer answering (a hung Redis): viewers stay, frames resume when it is back.
    logger.warn({ bus: bus.kind, problem: bus.problem() }, 'bus down; recovering');
  });
  bus.on('reconnecting', () => metrics.busReconnects.inc());
  // A Redis Cluster with a silent primary: the gateway stays ready for the rooms on the other shards.
  bus.on('degraded', (problem: string) => logger.warn({ bus: bus.kind, problem }, 'bus degraded: some Redis Cluster primaries are not answering'));
  bus.on('undegraded', () => logger.info({ bus: bus.kind }, 'bus no longer degraded: every Redis Cluster primary answers'));

  const app = fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request lines would be noise next to probes and scrapes; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
    // Slow or unfinished requests are cut (slowloris); an upgraded viewer websocket is no longer a
    // request, so the request timeout does not end it. See FRAMECAST_HTTP_*_TIMEOUT_MS.
    ...httpServerOptions(config),
  });
  const ctx: GatewayContext = {
    config,
    bus,
    metrics,
    logger,
    hub,
    control: controlPlane,
    identity: { ...(opts.health ?? { service: 'gateway', version: GATEWAY_VERSION }), id: config.FRAMECAST_GATEWAY_ID },
    version: GATEWAY_VERSION,
  };
  // Before any route: the hook then times every route, the registry API mounted here (embedded) too.
  metrics.http.instrument(app);
  metrics.sampleReady = () => readiness(ctx) === 'ready';
  registerOpsRoutes(app, ctx);
  const publish = await registerPublishRoute(app, ctx);
  const wss = registerViewerUpgrades(app, ctx, publish.takeUpgrade);
  registerVideoRoutes(app, ctx);
  registerViewerPage(app);

  // Shutdown is fastify's close: first stop accepting and close every viewer with 1012 (before
  // fastify closes the server, which would otherwise wait on their sockets), then, once the server
  // is closed, the last presence report and the bus.
  let deadline = 0;
  app.addHook('preClose', async () => {
    hub.draining = true;
    app.server.close();
    await Promise.all([hub.closeAll('shutting_down', deadline), publish.publishers.closeAll(deadline)]);
  });
  app.addHook('onClose', async () => {
    // The leaves of the viewers just closed go out in one last presence report.
    await controlPlane.close();
    await Promise.allSettled([bus.close(), new Promise((r) => wss.close(r))]);
  });

  let shuttingDown: Promise<void> | null = null;
  return {
    app,
    hub,
    publishers: publish.publishers,
    metrics,
    async listen() {
      await app.listen({ host: config.HOST, port: config.PORT });
      const addr = app.server.address();
      if (!addr || typeof addr === 'string') throw new Error('gateway did not bind a TCP port');
      return { host: config.HOST, port: addr.port };
    },
    shutdown() {
      if (!shuttingDown) {
        deadline = Date.now() + config.FRAMECAST_SHUTDOWN_TIMEOUT_MS;
        shuttingDown = app.close();
      }
      return shuttingDown;
    },
  };
}
