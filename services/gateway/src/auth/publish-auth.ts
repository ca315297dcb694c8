import type { ErrorName } from '@framecast/protocol';
import { grantsRoom, type ViewerTokenVerifier } from '@framecast/viewer-tokens';

export type PublishAdmission =
  /** `expiresAt` (ms): when the token runs out and the publisher is closed; null with auth off. */
  | { ok: true; user: string | null; expiresAt: number | null }
  | { ok: false; error: ErrorName; message: string };

const HOW = 'ask the registry for one (POST /api/rooms/<room>/publish-tokens) and present it as the subprotocol framecast.token.<jwt> or Authorization: Bearer';

/**
 * Who may publish to a room from a browser: the holder of a publish token for that room, checked
 * locally with the shared secret (no registry call). Deny by default: no token, a viewer token, a
 * token of another room, an expired or forged one are all refused; there is no "public" room for
 * publishing. With FRAMECAST_AUTH=off (local use, where the registry issues no tokens at all) every
 * client may publish, like every viewer may watch.
 */
export class PublishAuth {
  /** null: FRAMECAST_AUTH=off. */
  private readonly verifier: ViewerTokenVerifier | null;

  constructor(verifier: ViewerTokenVerifier | null) {
    this.verifier = verifier;
  }

  admit(room: string, token: string | null): PublishAdmission {
    if (!this.verifier) return { ok: true, user: null, expiresAt: null };
    if (token === null) return { ok: false, error: 'publish_unauthorized', message: `publishing needs a publish token for room ${room}: ${HOW}` };
    const check = this.verifier.verify(token, 'publish');
    if (!check.ok) {
      if (check.reason === 'expired') return { ok: false, error: 'publish_token_expired', message: 'publish token expired: ask the registry for a new one' };
      return { ok: false, error: 'publish_unauthorized', message: check.message };
    }
    if (!grantsRoom(check.claims, room)) return { ok: false, error: 'forbidden', message: `this publish token does not open room ${room}` };
    return { ok: true, user: check.claims.user, expiresAt: check.claims.expiresAt };
  }
}
