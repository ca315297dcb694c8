import { randomBytes } from 'node:crypto';
import { RedisRegistryStore } from '@framecast/registry-store';
import { ViewerTokenSigner } from '@framecast/viewer-tokens';

/**
 * framecast is measured as shipped, viewer auth included: the bench rooms are private in the
 * registry's store and every viewer presents a valid token, so each connection pays for a JWT
 * verification and the private-room lookup. The floor has no auth at all.
 */
export async function privateBenchRooms(redisUrl: string, rooms: string[]): Promise<{ gatewayEnv: Record<string, string>; viewerTokenQuery: string }> {
  const secret = randomBytes(32).toString('hex');
  const store = new RedisRegistryStore({ redis: redisUrl, connectionName: 'framecast-bench' });
  // The store's connection fails fast instead of queueing: wait until it is up.
  if (store.connection.status !== 'ready') await new Promise((r) => store.connection.once('ready', r));
  const now = Date.now();
  for (const name of rooms) await store.createRoom({ name, title: name, description: 'bench', visibility: 'private', createdAt: now, updatedAt: now });
  await store.close();
  const { token } = await new ViewerTokenSigner(secret).issue({ rooms, user: 'bench', ttlSeconds: 3600 });
  return { gatewayEnv: { FRAMECAST_AUTH: 'on', FRAMECAST_TOKEN_SECRET: secret }, viewerTokenQuery: `?token=${token}` };
}
