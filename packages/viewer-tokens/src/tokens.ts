import { SignJWT, jwtVerify, errors } from 'jose';
import { isValidRoomName } from '@framecast/protocol';

/** Who signs and who accepts: a token minted for something else is not a viewer token. */
export const TOKEN_ISSUER = 'framecast-registry';
export const TOKEN_AUDIENCE = 'framecast-gateway';
/** The only algorithm accepted: `alg: none` and every other algorithm are refused. */
export const TOKEN_ALGORITHM = 'HS256';
/** Tolerated clock difference between the registry that signs and the gateway that checks. */
export const CLOCK_TOLERANCE_S = 5;
/** HS256 keys shorter than the hash output weaken it (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 32;

export interface ViewerClaims {
  /** The viewer's name as the token issuer saw it (the `sub` claim), or null for anonymous tokens. */
  user: string | null;
  /** Rooms this token opens. */
  rooms: string[];
  /** Expiry, ms since the Unix epoch. */
  expiresAt: number;
}

export type TokenFailure = 'missing' | 'expired' | 'invalid';
export type TokenCheck = { ok: true; claims: ViewerClaims } | { ok: false; reason: TokenFailure; message: string };

function keyOf(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.byteLength < MIN_SECRET_BYTES) throw new Error(`token secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

export interface IssueOptions {
  rooms: string[];
  user?: string | null;
  ttlSeconds: number;
  now?: number;
}

/** Signs viewer tokens (the registry). */
export class ViewerTokenSigner {
  private readonly key: Uint8Array;
  constructor(secret: string) {
    this.key = keyOf(secret);
  }

  async issue(opts: IssueOptions): Promise<{ token: string; expiresAt: number }> {
    const nowS = Math.floor((opts.now ?? Date.now()) / 1000);
    const exp = nowS + opts.ttlSeconds;
    const jwt = new SignJWT({ rooms: opts.rooms })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(nowS)
      .setExpirationTime(exp);
    if (opts.user) jwt.setSubject(opts.user);
    return { token: await jwt.sign(this.key), expiresAt: exp * 1000 };
  }
}

/** Verifies viewer tokens locally (the gateway): no registry call, only the shared secret. */
export class ViewerTokenVerifier {
  private readonly key: Uint8Array;
  constructor(secret: string) {
    this.key = keyOf(secret);
  }

  async verify(token: string | null | undefined): Promise<TokenCheck> {
    if (!token) return { ok: false, reason: 'missing', message: 'this room is private: a viewer token is required' };
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'rooms'],
      });
      const rooms = payload.rooms;
      if (!Array.isArray(rooms) || !rooms.every(isValidRoomName)) return { ok: false, reason: 'invalid', message: 'token has no valid rooms claim' };
      const user = typeof payload.sub === 'string' ? payload.sub : null;
      return { ok: true, claims: { user, rooms, expiresAt: (payload.exp ?? 0) * 1000 } };
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { ok: false, reason: 'expired', message: 'viewer token expired' };
      // Forged signatures, other algorithms (including `none`), wrong issuer or audience and
      // garbage all end here; the client learns only that the token is not acceptable.
      return { ok: false, reason: 'invalid', message: 'viewer token is not valid' };
    }
  }
}

export function grantsRoom(claims: ViewerClaims, room: string): boolean {
  return claims.rooms.includes(room);
}
