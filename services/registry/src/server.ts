import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { httpServerOptions } from '@framecast/config';
import { healthBody, packageVersion } from '@framecast/lifecycle';
import type { Logger } from '@framecast/logging';
import { RedisRegistryStore } from '@framecast/registry-store';
import type { RegistryConfig } from './config.ts';
import type { TrustProxy } from './trust-proxy.ts';
import { createRegistry, type Registry } from './registry.ts';

export const REGISTRY_VERSION = packageVersion(new URL('../package.json', import.meta.url));

export interface RegistryServer {
  app: FastifyInstance;
  registry: Registry;
  listen(): Promise<{ host: string; port: number }>;
  /** Stops accepting, lets requests in flight finish, stops background work, closes Redis. */
  shutdown(): Promise<void>;
}

/** The standalone registry: the API under /api plus probes and metrics. */
export async function buildRegistryServer(config: RegistryConfig, logger: Logger): Promise<RegistryServer> {
  const registry = await createRegistry(config, logger);
  const app = fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
    // Slow or unfinished requests are cut (slowloris); see FRAMECAST_HTTP_*_TIMEOUT_MS.
    ...httpServerOptions(config),
    // req.ip, which auth failures are counted by, is the TCP peer unless proxies are named.
    trustProxy: trustProxyOption(config.FRAMECAST_TRUST_PROXY ?? false),
  });
  // Before the routes: the hook times every route of this server, the API's too.
  registry.metrics.http.instrument(app);
  await app.register(registry.api, { prefix: '/api' });
  let draining = false;
  // The body every framecast service answers with (@framecast/lifecycle healthBody); always 200.
  app.get('/healthz', async () => healthBody({ service: 'registry', version: REGISTRY_VERSION }, 'ok', { id: config.FRAMECAST_REGISTRY_ID, store: registry.store.kind }));
  app.get('/readyz', async (_req, reply) => {
    if (draining) return reply.code(503).send({ status: 'draining' });
    const store = registry.store;
    // Connected and answering: a hung Redis (the connection up, no replies) is not ready either.
    if (store instanceof RedisRegistryStore && !store.available()) return reply.code(503).send({ status: 'store_down', problem: store.problem() });
    return { status: 'ready', store: store.kind };
  });
  app.get('/metrics', async (_req, reply) => reply.header('content-type', registry.metrics.register.contentType).send(await registry.metrics.register.metrics()));

  let shuttingDown: Promise<void> | null = null;
  return {
    app,
    registry,
    async listen() {
      await app.listen({ host: config.HOST, port: config.PORT });
      const addr = app.server.address();
      if (!addr || typeof addr === 'string') throw new Error('registry did not bind a TCP port');
      return { host: config.HOST, port: addr.port };
    },
    shutdown() {
      shuttingDown ??= (async () => {
        draining = true;
        await app.close();
        await registry.close();
      })();
      return shuttingDown;
    },
  };
}

/** fastify's trustProxy: a hop count as the function fastify would build from it (its types take no number). */
function trustProxyOption(tp: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof tp === 'number' ? (_address, hop) => hop < tp : tp;
}
