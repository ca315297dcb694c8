import type { IncomingMessage } from 'node:http';
import { CloseCode, type CloseCodeValue, type ErrorName } from '@framecast/protocol';
import { grantsRoom, type ViewerTokenVerifier } from '@framecast/viewer-tokens';
import { ANONYMOUS, type ViewerIdentity } from '../presence/viewer-listener.ts';
import type { PrivateRoomCache } from './private-rooms.ts';

export type Admission =
  /** `expiresAt` (ms): set when a token opened a private room; the viewer is closed then. */
  | { ok: true; identity: ViewerIdentity; expiresAt?: number }
  | { ok: false; code: CloseCodeValue; error: ErrorName; message: string };

/**
 * The token of a websocket request: `?token=` (browsers cannot set headers on a websocket) or
 * `Authorization: Bearer` (other clients). The query form shows up in access logs of proxies in
 * front of the gateway, which is why tokens are short-lived and room-scoped.
 */
export function tokenOf(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  const bearer = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] : undefined;
  if (bearer) return bearer;
  const q = req.url?.indexOf('?') ?? -1;
  if (q < 0) return null;
  return new URLSearchParams(req.url!.slice(q + 1)).get('token') || null;
}

/**
 * Decides at connect time whether a viewer may watch a room, with no registry call: privacy from
 * the cached private-room set, tokens checked with the shared secret. Public rooms need no token
 * (a valid one still names the viewer in presence; an invalid one is ignored there).
 */
export class ViewerAuth {
  constructor(
    /** null: FRAMECAST_AUTH=off, everyone may watch everything. */
    private readonly verifier: ViewerTokenVerifier | null,
    private readonly privateRooms: PrivateRoomCache | null,
  ) {}

  get enabled(): boolean {
    return this.verifier !== null;
  }

  /** Synchronous for the common case (public room, no token); a Promise when a token must be checked. */
  admit(room: string, token: string | null): Admission | Promise<Admission> {
    if (!this.verifier) return { ok: true, identity: ANONYMOUS };
    const known = this.privateRooms?.known ?? false;
    const isPrivate = known ? this.privateRooms!.isPrivate(room) : true;
    if (!isPrivate && token === null) return { ok: true, identity: ANONYMOUS };
    return this.checkToken(this.verifier, room, token, isPrivate, known);
  }

  private async checkToken(verifier: ViewerTokenVerifier, room: string, token: string | null, isPrivate: boolean, known: boolean): Promise<Admission> {
    const check = await verifier.verify(token);
    if (check.ok && grantsRoom(check.claims, room)) {
      const identity = { user: check.claims.user, grants: check.claims.rooms };
      return isPrivate ? { ok: true, identity, expiresAt: check.claims.expiresAt } : { ok: true, identity };
    }
    if (!isPrivate) return { ok: true, identity: check.ok ? { user: check.claims.user, grants: check.claims.rooms } : ANONYMOUS };
    if (!known) {
      // Without the private set (Redis unreachable since start-up) a tokenless viewer cannot be
      // judged; a transient code makes it retry rather than give up on a public room.
      return { ok: false, code: CloseCode.TryAgainLater, error: 'unauthorized', message: 'room access cannot be checked yet; retry' };
    }
    if (!check.ok) return { ok: false, code: CloseCode.Unauthorized, error: 'unauthorized', message: check.message };
    return { ok: false, code: CloseCode.Forbidden, error: 'forbidden', message: `this token does not open room ${room}` };
  }
}
