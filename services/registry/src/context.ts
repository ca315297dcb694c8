import type { Logger } from '@framecast/logging';
import type { Liveness, RegistryStore } from '@framecast/registry-store';
import type { ViewerTokenSigner } from '@framecast/viewer-tokens';
import type { RegistryConfig } from './config.ts';
import type { RegistryMetrics } from './metrics.ts';

/** What every route module is handed: the store and the settings it answers from. */
export interface ApiContext {
  store: RegistryStore;
  config: RegistryConfig;
  liveness: Liveness;
  /** null while auth is off: no tokens can be issued. */
  signer: ViewerTokenSigner | null;
  metrics: RegistryMetrics;
  logger: Logger;
  /** Webhooks need Redis (BullMQ); the in-memory registry has none. */
  webhooksEnabled: boolean;
  /** False while the store cannot be reached (answers become 503). */
  storeReady(): boolean;
}
