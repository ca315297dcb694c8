import type { Registry } from 'prom-client';
import type { Logger } from '@framecast/logging';
import type { PresenceWriter, PublicRoomSource } from '@framecast/registry-store';
import { ViewerTokenVerifier } from '@framecast/viewer-tokens';
import { PublicRoomCache, type PublicRoomChanges } from './auth/public-rooms.ts';
import { ViewerAuth } from './auth/viewer-auth.ts';
import { ViewerLeases } from './auth/viewer-leases.ts';
import type { GatewayConfig } from './config.ts';
import type { Viewer } from './fanout/viewer.ts';
import { PresenceReporter } from './presence/presence-reporter.ts';
import type { ViewerIdentity } from './presence/viewer-listener.ts';
import type { ViewerHub } from './viewer-hub.ts';

/** Where a gateway reads room privacy and writes presence: the registry's store (Redis or, embedded, memory). */
export interface GatewayControl {
  publicRooms: PublicRoomSource;
  presence: PresenceWriter;
}

export interface ControlPlane {
  auth: ViewerAuth;
  /** Token leases of the viewers a token admitted to a private room. */
  leases: ViewerLeases;
  /** Resolves when admission can be decided for every room (the public set has loaded). */
  ready(): Promise<void>;
  /** Writes the last presence report and stops the timers. */
  close(): Promise<void>;
}

/**
 * Wires the gateway to the control path: viewer auth at connect, token leases, presence reports in
 * batches, and what happens to watching viewers when a room's privacy changes. Nothing here runs
 * per frame; the hub calls the listeners once per viewer join and leave.
 */
export function startControlPlane(hub: ViewerHub, config: GatewayConfig, control: GatewayControl | undefined, logger: Logger, register: Registry): ControlPlane {
  const authOn = config.FRAMECAST_AUTH === 'on';
  if (!authOn) logger.warn('auth is off (FRAMECAST_AUTH=off): every room is open to every viewer, and to every publisher (/ws/publish/<room>)');
  else if (!control) logger.warn('no registry store: every room needs a viewer token');
  const identities = new Map<Viewer, ViewerIdentity>();
  const leases = new ViewerLeases((viewer) => hub.close(viewer, 'token_expired'));

  const onPrivacyChange = ({ turnedPrivate, turnedPublic }: PublicRoomChanges) => {
    const closing = new Set(turnedPrivate);
    const opened = new Set(turnedPublic);
    const now = Date.now();
    for (const [viewer, identity] of identities) {
      if (viewer.closing) continue;
      if (opened.has(viewer.room)) {
        // Open again: the token no longer admits the viewer, the room does.
        leases.release(viewer);
      } else if (closing.has(viewer.room)) {
        // The room now needs a token: a viewer whose token opens it stays, on a lease that ends
        // with the token; everyone else leaves at once.
        if (identity.grants.includes(viewer.room) && identity.expiresAt !== null && identity.expiresAt > now) leases.hold(viewer, identity.expiresAt);
        else hub.close(viewer, 'room_private', 'this room became private: a viewer token is required');
      }
    }
  };
  const publicRooms = authOn && control ? new PublicRoomCache(control.publicRooms, config.FRAMECAST_ROOMS_REFRESH_MS, logger, onPrivacyChange) : null;
  const auth = new ViewerAuth(authOn ? new ViewerTokenVerifier(config.FRAMECAST_TOKEN_SECRET!) : null, publicRooms);
  hub.viewerListeners.push({
    joined: (v, identity) => identities.set(v, identity),
    left: (v) => {
      identities.delete(v);
      leases.release(v);
    },
  });
  const reporter = control
    ? new PresenceReporter({
        writer: control.presence,
        gatewayId: config.FRAMECAST_GATEWAY_ID,
        flushMs: config.FRAMECAST_PRESENCE_FLUSH_MS,
        heartbeatMs: config.FRAMECAST_PRESENCE_HEARTBEAT_MS,
        logger,
        register,
      })
    : null;
  if (reporter) hub.viewerListeners.push(reporter);
  return {
    auth,
    leases,
    ready: () => publicRooms?.loaded() ?? Promise.resolve(),
    async close() {
      publicRooms?.close();
      leases.releaseAll();
      await reporter?.close();
    },
  };
}
