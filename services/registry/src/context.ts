import type { Logger } from '@framecast/logging';
import type { Liveness, RegistryStore } from '@framecast/registry-store';
import type { ViewerTokenSigner } from '@framecast/viewer-tokens';
import type { AuthFailureLimiter } from './auth-limit.ts';
import type { RegistryConfig } from './config.ts';
import type { RegistryMetrics } from './metrics.ts';
import type { AllowList, HostLookup } from './webhooks/url-guard.ts';

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
  /** What webhook URLs are checked with: the parsed FRAMECAST_WEBHOOK_ALLOW_HOSTS and a resolver. */
  webhookGuard: { allow: AllowList; lookup: HostLookup };
  /** Failed admin/agent key checks per client address (brute-force protection). */
  authLimiter: AuthFailureLimiter;
  /** False while the store cannot be reached (answers become 503). */
  storeReady(): boolean;
}
