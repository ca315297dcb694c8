import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ApiContext } from './context.ts';
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

/** What the guards need: the settings, the agent keys and the auth-failure limit (ApiContext has them). */
export type AuthDeps = Pick<ApiContext, 'config' | 'store' | 'authLimiter'>;

/**
 * Whether the request carries the admin key. No header: false (the caller decides whether that is
 * a 401 or a public view); a wrong key is always a 403, never a silent downgrade to public. A key is
 * checked only while its address is within the failure limit (else 429), and a wrong one counts.
 */
export async function hasAdminKey(req: FastifyRequest, deps: Pick<AuthDeps, 'config' | 'authLimiter'>): Promise<boolean> {
  if (deps.config.FRAMECAST_AUTH === 'off') return true;
  const key = bearerOf(req);
  if (key === null) return false;
  await deps.authLimiter.assertNotBlocked(req, 'admin');
  if (!sameSecret(key, deps.config.FRAMECAST_ADMIN_KEY ?? '')) {
    await deps.authLimiter.recordFailure(req, 'admin');
    throw new ApiError('forbidden', 'the admin key is not valid');
  }
  return true;
}

/** onRequest hook for admin routes: runs before the body is parsed, so strangers learn nothing about schemas. */
export function adminOnly(deps: Pick<AuthDeps, 'config' | 'authLimiter'>) {
  return async (req: FastifyRequest): Promise<void> => {
    if (!(await hasAdminKey(req, deps))) throw new ApiError('unauthorized', 'this route needs the admin key: Authorization: Bearer <FRAMECAST_ADMIN_KEY>');
  };
}

/** The rooms an agent's key allows ('*' for any), or throws 401/403 (429 past the failure limit). Auth off allows any room. */
export async function agentAllowedRooms(req: FastifyRequest, deps: AuthDeps): Promise<Set<string> | '*'> {
  if (deps.config.FRAMECAST_AUTH === 'off') return '*';
  const key = bearerOf(req);
  if (key === null) throw new ApiError('unauthorized', 'heartbeats need an agent key: Authorization: Bearer <FRAMECAST_AGENT_KEY>');
  await deps.authLimiter.assertNotBlocked(req, 'agent');
  const record = key === '' ? null : await deps.store.agentKeyByHash(sha256Hex(key));
  if (!record) {
    await deps.authLimiter.recordFailure(req, 'agent');
    throw new ApiError('forbidden', 'the agent key is not valid');
  }
  return record.rooms.includes('*') ? '*' : new Set(record.rooms);
}
