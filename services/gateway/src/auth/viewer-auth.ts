import type { IncomingMessage } from 'node:http';
import { TOKEN_SUBPROTOCOL_PREFIX, type ErrorName } from '@framecast/protocol';
import { grantsRoom, type TokenCheck, type ViewerTokenVerifier } from '@framecast/viewer-tokens';
import { ANONYMOUS, type ViewerIdentity } from '../presence/viewer-listener.ts';
import type { PublicRoomCache } from './public-rooms.ts';

export type Admission =
  /** `leaseUntil` (ms): set when a token is what opened the room; the viewer is closed then. */
  | { ok: true; identity: ViewerIdentity; leaseUntil?: number }
  | { ok: false; error: ErrorName; message?: string };

/**
 * The token of a websocket request, from (in order) the `Sec-WebSocket-Protocol` header
 * (`framecast.token.<jwt>`, what browsers use: it stays out of the request line and so out of
 * access logs and history), `Authorization: Bearer` (clients that can set headers), or `?token=`
 * (clients that can do neither; the least private, documented as such). Publishers pass
 * `fromQuery: false`: a publish token never travels in a URL.
 */
export function tokenOf(req: IncomingMessage, { fromQuery = true }: { fromQuery?: boolean } = {}): string | null {
  const offered = req.headers['sec-websocket-protocol'];
  if (offered) {
    for (const p of offered.split(',')) {
      const name = p.trim();
      if (name.startsWith(TOKEN_SUBPROTOCOL_PREFIX) && name.length > TOKEN_SUBPROTOCOL_PREFIX.length) return name.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
    }
  }
  const auth = req.headers.authorization;
  const bearer = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] : undefined;
  if (bearer) return bearer;
  if (!fromQuery) return null;
  const q = req.url?.indexOf('?') ?? -1;
  if (q < 0) return null;
  return new URLSearchParams(req.url!.slice(q + 1)).get('token') || null;
}

/**
 * Decides at connect time whether a viewer may watch a room, with no registry call. Deny by
 * default: a room is open without a token only while the cached public set names it; before that
 * set has loaded, without a registry, or for a room it does not name, a token is required. Tokens
 * are checked with the shared secret. A valid token on a public room still names the viewer in
 * presence; an invalid one is ignored there.
 */
export class ViewerAuth {
  /** null: FRAMECAST_AUTH=off, everyone may watch everything. */
  private readonly verifier: ViewerTokenVerifier | null;
  /** null: no registry store, so no room is public. */
  private readonly publicRooms: PublicRoomCache | null;

  constructor(verifier: ViewerTokenVerifier | null, publicRooms: PublicRoomCache | null) {
    this.verifier = verifier;
    this.publicRooms = publicRooms;
  }

  get enabled(): boolean {
    return this.verifier !== null;
  }

  /** Whether admission can be decided for every room (auth off, or the public set has loaded). */
  get ready(): boolean {
    return !this.verifier || !this.publicRooms || this.publicRooms.known;
  }

  isPublic(room: string): boolean {
    return !this.verifier || (this.publicRooms?.isPublic(room) ?? false);
  }

  /** Synchronous: the token check needs no I/O, so a viewer is admitted in the upgrade's own tick. */
  admit(room: string, token: string | null): Admission {
    if (!this.verifier) return { ok: true, identity: ANONYMOUS };
    const isPublic = this.isPublic(room);
    if (isPublic && token === null) return { ok: true, identity: ANONYMOUS };
    return this.checkToken(this.verifier, room, token, isPublic);
  }

  private checkToken(verifier: ViewerTokenVerifier, room: string, token: string | null, isPublic: boolean): Admission {
    const check = verifier.verify(token);
    if (check.ok && grantsRoom(check.claims, room)) {
      const identity = identityOf(check);
      return isPublic ? { ok: true, identity } : { ok: true, identity, leaseUntil: check.claims.expiresAt };
    }
    if (isPublic) return { ok: true, identity: check.ok ? identityOf(check) : ANONYMOUS };
    // A tokenless viewer of a room the gateway cannot judge yet is told to retry, not turned away
    // for good: the room may well be public once the set has loaded.
    if (token === null && !this.ready) return { ok: false, error: 'not_ready' };
    if (token === null) return { ok: false, error: 'room_private' };
    if (!check.ok) return check.reason === 'expired' ? { ok: false, error: 'token_expired' } : { ok: false, error: 'unauthorized', message: check.message };
    return { ok: false, error: 'forbidden', message: `this token does not open room ${room}` };
  }
}

function identityOf(check: TokenCheck & { ok: true }): ViewerIdentity {
  return { user: check.claims.user, grants: check.claims.rooms, expiresAt: check.claims.expiresAt };
}
