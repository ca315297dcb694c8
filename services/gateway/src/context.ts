import type { FrameBus } from '@framecast/bus';
import type { HealthIdentity } from '@framecast/lifecycle';
import type { Logger } from '@framecast/logging';
import type { GatewayConfig } from './config.ts';
import type { ControlPlane } from './control-plane.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { ViewerHub } from './viewer-hub.ts';

/** What the gateway's routes work with, handed to them explicitly when they are registered. */
export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly bus: FrameBus;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** The viewers and rooms of this replica. */
  readonly hub: ViewerHub;
  /** Admission (auth), token leases, presence. */
  readonly control: ControlPlane;
  /** Who answers /healthz: the gateway, or the embedded runner hosting it; and the replica id. */
  readonly identity: HealthIdentity & { id: string };
  /** The gateway's own version, told to viewers in the hello message. */
  readonly version: string;
}
