import type { Registry } from 'prom-client';
import type { Logger } from '@framecast/logging';
import { CloseCode, errorMessage } from '@framecast/protocol';
import type { PresenceWriter, PrivateRoomSource } from '@framecast/registry-store';
import { ViewerTokenVerifier } from '@framecast/viewer-tokens';
import { PrivateRoomCache } from './auth/private-rooms.ts';
import { ViewerAuth } from './auth/viewer-auth.ts';
import type { GatewayConfig } from './config.ts';
import type { Viewer } from './fanout/viewer.ts';
import { PresenceReporter } from './presence/presence-reporter.ts';
import type { ViewerIdentity } from './presence/viewer-listener.ts';
import type { ViewerHub } from './viewer-hub.ts';

/** Where a gateway reads room privacy and writes presence: the registry's store (Redis or, embedded, memory). */
export interface GatewayControl {
  privateRooms: PrivateRoomSource;
  presence: PresenceWriter;
}

export interface ControlPlane {
  auth: ViewerAuth;
  /** Writes the last presence report and stops the timers. */
  close(): Promise<void>;
}

/**
 * Wires the gateway to the control path: viewer auth at connect, presence reports in batches,
 * and closing viewers of a room that turns private unless their token opens it. Nothing here runs
 * per frame; the hub calls the listeners once per viewer join and leave.
 */
export function startControlPlane(hub: ViewerHub, config: GatewayConfig, control: GatewayControl | undefined, logger: Logger, register: Registry): ControlPlane {
  const authOn = config.FRAMECAST_AUTH === 'on';
  if (!authOn) logger.warn('auth is off (FRAMECAST_AUTH=off): every room is open to every viewer');
  const identities = new Map<Viewer, ViewerIdentity>();
  const privateRooms =
    authOn && control
      ? new PrivateRoomCache(control.privateRooms, config.FRAMECAST_ROOMS_REFRESH_MS, logger, (rooms) => {
          for (const [viewer, identity] of identities) {
            if (!rooms.includes(viewer.room) || identity.grants.includes(viewer.room) || viewer.closing) continue;
            viewer.ws.send(errorMessage(CloseCode.Unauthorized, 'unauthorized', 'this room became private: a viewer token is required'));
            hub.close(viewer, CloseCode.Unauthorized);
          }
        })
      : null;
  const auth = new ViewerAuth(authOn ? new ViewerTokenVerifier(config.FRAMECAST_TOKEN_SECRET!) : null, privateRooms);
  hub.viewerListeners.push({ joined: (v, identity) => identities.set(v, identity), left: (v) => identities.delete(v) });
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
    async close() {
      privateRooms?.close();
      await reporter?.close();
    },
  };
}
