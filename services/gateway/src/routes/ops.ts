import type { FastifyInstance } from 'fastify';
import type { ViewerAuth } from '../auth/viewer-auth.ts';
import type { ViewerHub } from '../viewer-hub.ts';

/**
 * Probes and metrics: /healthz (the process answers), /readyz (it can serve frames and decide
 * admission: a load balancer that sends a viewer here once it is ready must never see it refused
 * for what the gateway has not loaded yet), /metrics.
 */
export function registerOpsRoutes(app: FastifyInstance, hub: ViewerHub, auth: ViewerAuth): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    if (hub.draining) return reply.code(503).send({ status: 'draining' });
    if (!hub.bus.isReady()) return reply.code(503).send({ status: 'bus_down', bus: hub.bus.kind });
    if (!auth.ready) return reply.code(503).send({ status: 'rooms_unknown', message: 'the public room list has not loaded yet' });
    return { status: 'ready', bus: hub.bus.kind, viewers: hub.viewerCount, rooms: hub.subscriptions.size };
  });

  app.get('/metrics', async (_req, reply) => {
    const register = hub.metrics.register;
    return reply.header('content-type', register.contentType).send(await register.metrics());
  });
}
