/**
 * docker-compose one-shot: prepares the demo the compose file runs, through the registry's own
 * API with the admin key, so `docker compose up` needs no manual step:
 *
 * 1. the room (`demo`) exists and is public: deny by default means a room is private unless its
 *    record says public, and the demo is meant to be watched at http://localhost:8080/ without a
 *    token. An existing room is made public again (PATCH), nothing else about it changes;
 * 2. an agent key allowed to heartbeat for that room only. It is created once and reused while the
 *    registry still knows it (its id is kept in the state directory); if Redis lost its data the
 *    key is gone there too and a new one is made;
 * 3. for the capture agent, in the state directory (a volume only this container writes):
 *    `agent.env` (FRAMECAST_AGENT_KEY, and REDIS_URL naming the key's own Redis user) and
 *    `agent.acl`, the registry's ACL line for that user, which apply-agent-acl.sh runs on Redis.
 *
 * The key is written to files readable by the agent's user only and never printed.
 *
 * Runs in the registry image with plain `node` (no dependencies: fetch and node:fs only):
 *   node /opt/framecast/bootstrap.ts
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** Every variable this script reads (deploy/test/cross-check.test.ts holds the compose file to it). */
export const BOOTSTRAP_ENV = {
  /** The registry's base URL, as the agent uses it (same meaning as the agent's variable). */
  FRAMECAST_REGISTRY_URL: 'http://registry:8081',
  /** The registry's admin key (required). */
  FRAMECAST_ADMIN_KEY: undefined,
  /** The room to create, make public and give the agent. */
  FRAMECAST_DEMO_ROOM: 'demo',
  /** Where agent.env, agent.acl and agent-key.json go. */
  FRAMECAST_STATE_DIR: '/var/lib/framecast',
  /** host:port of Redis as the agent reaches it, for the agent's REDIS_URL. */
  FRAMECAST_AGENT_REDIS_ADDRESS: 'redis:6379',
  /** How long to wait for the registry's /readyz. */
  FRAMECAST_BOOTSTRAP_TIMEOUT_MS: '120000',
} as const satisfies Record<string, string | undefined>;

type Settings = { -readonly [K in keyof typeof BOOTSTRAP_ENV]: string };

interface AgentKeyView {
  id: string;
  name: string;
  rooms: string[];
  redisAcl: string;
}

class BootstrapError extends Error {
  override readonly name = 'BootstrapError';
}

function settings(env: NodeJS.ProcessEnv): Settings {
  const out = {} as Settings;
  for (const [name, fallback] of Object.entries(BOOTSTRAP_ENV) as [keyof Settings, string | undefined][]) {
    const value = env[name]?.trim() || fallback;
    if (!value) throw new BootstrapError(`${name} is required`);
    out[name] = value;
  }
  out.FRAMECAST_REGISTRY_URL = out.FRAMECAST_REGISTRY_URL.replace(/\/+$/, '');
  return out;
}

function log(message: string): void {
  process.stdout.write(`framecast-bootstrap: ${message}\n`);
}

async function api(s: Settings, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${s.FRAMECAST_REGISTRY_URL}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${s.FRAMECAST_ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

function expectStatus(what: string, r: { status: number; json: unknown }, ...ok: number[]): void {
  if (!ok.includes(r.status)) throw new BootstrapError(`${what}: the registry answered ${r.status} ${JSON.stringify(r.json)}`);
}

/** The registry is ready once /readyz answers 200 (Redis connected); compose may start us first. */
async function waitForRegistry(s: Settings): Promise<void> {
  const deadline = Date.now() + Number(s.FRAMECAST_BOOTSTRAP_TIMEOUT_MS);
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${s.FRAMECAST_REGISTRY_URL}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await delay(500);
  }
  throw new BootstrapError(`the registry at ${s.FRAMECAST_REGISTRY_URL} was not ready within ${s.FRAMECAST_BOOTSTRAP_TIMEOUT_MS} ms (last: ${last})`);
}

async function ensurePublicRoom(s: Settings): Promise<void> {
  const room = s.FRAMECAST_DEMO_ROOM;
  const created = await api(s, 'POST', '/rooms', { name: room, title: 'Demo camera', description: 'ffmpeg test pattern from docker-compose', visibility: 'public' });
  if (created.status === 201) return log(`room ${room} created, public`);
  expectStatus(`creating room ${room}`, created, 409);
  expectStatus(`making room ${room} public`, await api(s, 'PATCH', `/rooms/${room}`, { visibility: 'public' }), 200, 204);
  log(`room ${room} exists; made public`);
}

/** Reuses the key this script made before if the registry still has it, else makes a new one. */
async function ensureAgentKey(s: Settings): Promise<{ view: AgentKeyView; key: string }> {
  const saved = join(s.FRAMECAST_STATE_DIR, 'agent-key.json');
  const list = await api(s, 'GET', '/agent-keys');
  expectStatus('listing agent keys', list, 200);
  const known = (list.json as { keys: AgentKeyView[] }).keys;
  if (existsSync(saved)) {
    const prev = JSON.parse(readFileSync(saved, 'utf8')) as { id: string; key: string };
    const view = known.find((k) => k.id === prev.id);
    if (view) {
      log(`agent key ${view.id} kept`);
      return { view, key: prev.key };
    }
    log(`agent key ${prev.id} is no longer known to the registry (Redis data lost?): making a new one`);
  }
  const created = await api(s, 'POST', '/agent-keys', { name: 'compose-demo-agent', rooms: [s.FRAMECAST_DEMO_ROOM] });
  expectStatus('creating an agent key', created, 201);
  const { key, ...view } = created.json as AgentKeyView & { key: string };
  writePrivate(saved, `${JSON.stringify({ id: view.id, key })}\n`);
  log(`agent key ${view.id} created for room ${s.FRAMECAST_DEMO_ROOM}`);
  return { view, key };
}

/**
 * agent.env, which the compose file's capture-agent sources before it starts the agent: the key
 * (for heartbeats) and REDIS_URL naming the key's own Redis user, whose password is the key
 * itself; that user may publish to the key's rooms and nothing else (apply-agent-acl.sh creates
 * it from agent.acl). deploy/test/cross-check.test.ts runs the agent's config loader on it.
 */
export function agentEnvFile(keyId: string, key: string, redisAddress: string): string {
  const redisUrl = `redis://framecast-agent-${keyId}:${encodeURIComponent(key)}@${redisAddress}`;
  return `FRAMECAST_AGENT_KEY=${key}\nREDIS_URL=${redisUrl}\n`;
}

/** Written whole (temp file + rename), readable by this user only: it holds the agent key. */
function writePrivate(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const s = settings(env);
  mkdirSync(s.FRAMECAST_STATE_DIR, { recursive: true });
  await waitForRegistry(s);
  await ensurePublicRoom(s);
  const { view, key } = await ensureAgentKey(s);
  writePrivate(join(s.FRAMECAST_STATE_DIR, 'agent.env'), agentEnvFile(view.id, key, s.FRAMECAST_AGENT_REDIS_ADDRESS));
  writePrivate(join(s.FRAMECAST_STATE_DIR, 'agent.acl'), `${view.redisAcl}\n`);
  log(`wrote agent.env and agent.acl to ${s.FRAMECAST_STATE_DIR}`);
}

if (import.meta.main) {
  bootstrap().catch((err: unknown) => {
    process.stderr.write(`framecast-bootstrap: ${err instanceof BootstrapError ? err.message : String((err as Error).stack ?? err)}\n`);
    process.exit(1);
  });
}
