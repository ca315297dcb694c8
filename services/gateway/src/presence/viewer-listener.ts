import type { Viewer } from '../fanout/viewer.ts';

/** Who a viewer is, as its token (if any) says. */
export interface ViewerIdentity {
  /** The token's subject, or null for anonymous viewers. */
  user: string | null;
  /** Rooms the viewer's token opens (empty without a valid token). */
  grants: readonly string[];
  /** When the token expires (ms); null without a valid token. */
  expiresAt: number | null;
}

export const ANONYMOUS: ViewerIdentity = Object.freeze({ user: null, grants: [], expiresAt: null });

/**
 * Told by the viewer hub about every viewer that joins or leaves. Called once per connection,
 * never per frame: presence and auth bookkeeping stay off the frame path.
 */
export interface ViewerLifecycleListener {
  joined(viewer: Viewer, identity: ViewerIdentity): void;
  left(viewer: Viewer): void;
}
