import type { FastifyInstance } from 'fastify';
import type { ViewerHub } from '../viewer-hub.ts';

/** Probes and metrics: /healthz (the process answers), /readyz (it can serve frames), /metrics. */
export function registerOpsRoutes(app: FastifyInstance, hub: ViewerHub): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    if (hub.draining) return reply.code(503).send({ status: 'draining' });
    if (!hub.bus.isReady()) return reply.code(503).send({ status: 'bus_down', bus: hub.bus.kind });
    return { status: 'ready', bus: hub.bus.kind, viewers: hub.viewerCount, rooms: hub.subscriptions.size };
  });

  app.get('/metrics', async (_req, reply) => {
    const register = hub.metrics.register;
    return reply.header('content-type', register.contentType).send(await register.metrics());
  });
}
