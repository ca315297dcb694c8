import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { RegistryStore } from '@framecast/registry-store';
import type { RegistryConfig } from './config.ts';
import { ApiError } from './errors.ts';

/** The bearer token of a request: null without an Authorization header, '' when it is not a bearer. */
export function bearerOf(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (header === undefined) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : '';
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Compares digests, so the time taken says nothing about how much of the key matched. */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

/**
 * Whether the request carries the admin key. No header: false (the caller decides whether that is
 * a 401 or a public view); a wrong key is always a 403, never a silent downgrade to public.
 */
export function hasAdminKey(req: FastifyRequest, config: RegistryConfig): boolean {
  if (config.FRAMECAST_AUTH === 'off') return true;
  const key = bearerOf(req);
  if (key === null) return false;
  if (!sameSecret(key, config.FRAMECAST_ADMIN_KEY ?? '')) throw new ApiError('forbidden', 'the admin key is not valid');
  return true;
}

/** onRequest hook for admin routes: runs before the body is parsed, so strangers learn nothing about schemas. */
export function adminOnly(config: RegistryConfig) {
  return async (req: FastifyRequest): Promise<void> => {
    if (!hasAdminKey(req, config)) throw new ApiError('unauthorized', 'this route needs the admin key: Authorization: Bearer <FRAMECAST_ADMIN_KEY>');
  };
}

/** The rooms an agent's key allows ('*' for any), or throws 401/403. Auth off allows any room. */
export async function agentAllowedRooms(req: FastifyRequest, config: RegistryConfig, store: RegistryStore): Promise<Set<string> | '*'> {
  if (config.FRAMECAST_AUTH === 'off') return '*';
  const key = bearerOf(req);
  if (key === null) throw new ApiError('unauthorized', 'heartbeats need an agent key: Authorization: Bearer <FRAMECAST_AGENT_KEY>');
  const record = key === '' ? null : await store.agentKeyByHash(sha256Hex(key));
  if (!record) throw new ApiError('forbidden', 'the agent key is not valid');
  return record.rooms.includes('*') ? '*' : new Set(record.rooms);
}
