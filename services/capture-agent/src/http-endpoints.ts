import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { healthBody } from '@framecast/lifecycle';
import type { Logger } from '@framecast/logging';
import { AGENT_VERSION, type CaptureAgent } from './agent.ts';

export interface AgentEndpoints {
  port: number;
  close(): Promise<void>;
}

/**
 * GET /metrics (Prometheus text) and GET /healthz on a small node:http server: the agent serves
 * nothing else, so a web framework would only add weight on the camera box. /healthz answers
 * 200 while Redis is connected and every camera streams, 503 otherwise; the JSON body (the shape
 * every service's /healthz has, status "ok" or "failing") says which camera is down and why, so a
 * monitor's alert can carry the cause.
 */
export function startAgentEndpoints(agent: CaptureAgent, opts: { host: string; port: number; logger: Logger }): Promise<AgentEndpoints> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      const register = agent.metrics.register;
      register.metrics().then(
        (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
        (err: unknown) => {
          opts.logger.error({ err: String(err) }, 'metrics collection failed');
          res.writeHead(500).end();
        },
      );
      return;
    }
    if (path === '/healthz') {
      // The body every framecast service answers with (@framecast/lifecycle healthBody), 503 "failing" while a camera or the bus is down.
      const { ok, ...details } = agent.health();
      const body = healthBody({ service: 'capture-agent', version: AGENT_VERSION }, ok ? 'ok' : 'failing', details);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
  });
  agent.metrics.instrumentHttp(server);
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
