import { createServer, type IncomingMessage, type Server } from 'node:http';
import { freePort, startService, type ServiceProcess } from '@framecast/testing';

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const TOKEN_SECRET = 'test-token-secret-0123456789abcdef0123456789';

export interface ApiAnswer {
  status: number;
  body: any;
}

export interface RegistryProcess extends ServiceProcess {
  port: number;
  url: string;
  /** Calls the API with the admin key (or `key`; null sends no Authorization header). */
  api(method: string, path: string, body?: unknown, key?: string | null): Promise<ApiAnswer>;
}

/** Starts a registry as its own process, configured only by environment variables. */
export async function startRegistry(redisUrl: string, env: Record<string, string> = {}, port?: number): Promise<RegistryProcess> {
  const p = port ?? (await freePort());
  const svc = await startService(`registry:${p}`, {
    entry: 'services/registry/src/main.ts',
    env: {
      REDIS_URL: redisUrl,
      PORT: String(p),
      HOST: '127.0.0.1',
      FRAMECAST_REGISTRY_ID: `reg-${p}`,
      FRAMECAST_ADMIN_KEY: ADMIN_KEY,
      FRAMECAST_TOKEN_SECRET: TOKEN_SECRET,
      ...env,
    },
    readyLine: /registry listening/,
  });
  const url = `http://127.0.0.1:${p}`;
  return Object.assign(svc, { port: p, url, api: (method: string, path: string, body?: unknown, key?: string | null) => callApi(url, method, path, body, key) });
}

export async function callApi(base: string, method: string, path: string, body?: unknown, key: string | null = ADMIN_KEY): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let payload: string | undefined;
  if (typeof body === 'string') {
    payload = body;
    headers['content-type'] = 'application/json';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${base}/api${path}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

export interface ReceivedHook {
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/**
 * A real HTTP server receiving webhooks. `answer` decides per request: a status code, or 'hang'
 * (never answer: the connection stays open until the server closes).
 */
export async function startReceiver(answer: (req: ReceivedHook, n: number) => number | 'hang' = () => 200) {
  const received: ReceivedHook[] = [];
  const hanging = new Set<IncomingMessage>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const hook = { headers: req.headers, body, at: Date.now() };
      received.push(hook);
      const a = answer(hook, received.length);
      if (a === 'hang') hanging.add(req);
      else res.writeHead(a).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A heartbeat body for one camera. */
export function heartbeat(rooms: string[], fps = 15) {
  return {
    cameras: rooms.map((room) => ({
      room,
      fps,
      width: 640,
      height: 360,
      bitrateBps: 2_000_000,
      frameBytes: 17_000,
      captureToPublishMs: 3,
      droppedFrames: 0,
      lastFrameAgeMs: 20,
      busUp: true,
    })),
    intervalMs: 1000,
    version: 'test',
  };
}
