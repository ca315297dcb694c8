import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { isValidRoomName } from '@framecast/protocol';

/** Who signs and who accepts: a token minted for something else is not a viewer token. */
export const TOKEN_ISSUER = 'framecast-registry';
export const TOKEN_AUDIENCE = 'framecast-gateway';
/**
 * The audience of publish tokens. Publish tokens differ from viewer tokens twice over: their
 * `scope` claim says `publish`, and their audience is not the viewers' one, so even a gateway
 * that predates the scope claim refuses a publish token as a viewer token (the audience check
 * fails), and no viewer token passes the publish check (it has neither).
 */
export const PUBLISH_TOKEN_AUDIENCE = 'framecast-gateway-publish';
/**
 * What a token is for. `view`: watch the rooms it names (tokens without a scope claim, all the
 * tokens issued before publish tokens existed, are viewer tokens). `publish`: send frames to them
 * from a browser (the gateway's /ws/publish/<room>); a publish token never opens a room for viewing.
 */
export const TOKEN_SCOPES = ['view', 'publish'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
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
  /** What the token is for; always the scope that was asked of verify(). */
  scope: TokenScope;
}

/** `wrong_scope`: a genuine token (signature, issuer and expiry check out) for the other purpose. */
export type TokenFailure = 'missing' | 'expired' | 'invalid' | 'wrong_scope';
export type TokenCheck = { ok: true; claims: ViewerClaims } | { ok: false; reason: TokenFailure; message: string };

function keyOf(secret: string): Uint8Array<ArrayBuffer> {
  const key = new TextEncoder().encode(secret);
  if (key.byteLength < MIN_SECRET_BYTES) throw new Error(`token secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

export interface IssueOptions {
  rooms: string[];
  user?: string | null;
  ttlSeconds: number;
  /** Default `view`: a viewer token (no scope claim, as before publish tokens existed). */
  scope?: TokenScope;
  now?: number;
}

const AUDIENCES: Record<TokenScope, string> = { view: TOKEN_AUDIENCE, publish: PUBLISH_TOKEN_AUDIENCE };
const TOKEN_NAMES: Record<TokenScope, string> = { view: 'viewer token', publish: 'publish token' };

/** Signs viewer tokens (the registry). */
export class ViewerTokenSigner {
  private readonly sign: (payload: Record<string, unknown>) => string;
  constructor(secret: string) {
    this.sign = createSigner({ key: Buffer.from(keyOf(secret)), algorithm: TOKEN_ALGORITHM });
  }

  async issue(opts: IssueOptions): Promise<{ token: string; expiresAt: number }> {
    const nowS = Math.floor((opts.now ?? Date.now()) / 1000);
    const exp = nowS + opts.ttlSeconds;
    const scope = opts.scope ?? 'view';
    // Viewer tokens keep exactly the claims they always had; only publish tokens carry a scope.
    const claims: Record<string, unknown> = scope === 'view' ? { rooms: opts.rooms } : { rooms: opts.rooms, scope };
    claims.iss = TOKEN_ISSUER;
    claims.aud = AUDIENCES[scope];
    if (opts.user) claims.sub = opts.user;
    claims.iat = nowS;
    claims.exp = exp;
    return { token: this.sign(claims), expiresAt: exp * 1000 };
  }
}

/** Verifies viewer tokens locally (the gateway): no registry call, only the shared secret. */
export class ViewerTokenVerifier {
  /**
   * fast-jwt checks synchronously with node:crypto. jose (used before) can only check through
   * WebCrypto, a promise and a job on libuv's thread pool per token: measured ~7 KB more memory kept
   * per connected viewer (20.0 → 14.0 KB in `pnpm bench --workload idle`), and every viewer's
   * connect pays it (docs/PERFORMANCE.md).
   */
  private readonly check: (token: string) => Record<string, unknown>;
  constructor(secret: string) {
    this.check = createVerifier({
      key: Buffer.from(keyOf(secret)),
      algorithms: [TOKEN_ALGORITHM],
      allowedIss: TOKEN_ISSUER,
      // The audience is checked below, after the signature: a genuine token for the other purpose
      // gets its own answer.
      clockTolerance: CLOCK_TOLERANCE_S * 1000,
      // fast-jwt checks a claim's value only when the claim is there: the issuer must be.
      requiredClaims: ['exp', 'rooms', 'iss'],
    });
  }

  /**
   * Checks a token for one purpose (`view` unless said): a viewer token never passes as a publish
   * token, nor a publish token as a viewer token. Both the audience and the `scope` claim must
   * match; a token without a scope claim is a viewer token. Synchronous: the check needs no I/O.
   */
  verify(token: string | null | undefined, scope: TokenScope = 'view'): TokenCheck {
    const name = TOKEN_NAMES[scope];
    if (!token) return { ok: false, reason: 'missing', message: scope === 'view' ? 'this room is private: a viewer token is required' : 'a publish token is required' };
    let payload: Record<string, unknown>;
    try {
      payload = this.check(token);
    } catch (err) {
      if (err instanceof TokenError && err.code === TokenError.codes.expired) return { ok: false, reason: 'expired', message: `${name} expired` };
      // Forged signatures, other algorithms (including `none`), wrong issuer and garbage all end
      // here; the client learns only that the token is not acceptable.
      return { ok: false, reason: 'invalid', message: `${name} is not valid` };
    }
    // RFC 7519 §4.1.6; fast-jwt checks exp and nbf but lets any iat through.
    if (payload.iat !== undefined && typeof payload.iat !== 'number') return { ok: false, reason: 'invalid', message: `${name} is not valid` };
    const aud = payload.aud;
    const wanted = AUDIENCES[scope];
    // Past the signature and issuer checks, a token for another audience is ours, minted for the
    // other purpose, and worth saying so.
    if (!(aud === wanted || (Array.isArray(aud) && aud.includes(wanted)))) return wrongScope(scope);
    if ((payload.scope ?? 'view') !== scope) return wrongScope(scope);
    const rooms = payload.rooms;
    if (!Array.isArray(rooms) || !rooms.every(isValidRoomName)) return { ok: false, reason: 'invalid', message: 'token has no valid rooms claim' };
    const user = typeof payload.sub === 'string' ? payload.sub : null;
    return { ok: true, claims: { user, rooms, expiresAt: (payload.exp as number) * 1000, scope } };
  }
}

function wrongScope(wanted: TokenScope): TokenCheck {
  return {
    ok: false,
    reason: 'wrong_scope',
    message: wanted === 'publish' ? 'a viewer token cannot publish: publishing needs a publish token for this room' : 'a publish token cannot open a room for viewing: a viewer token is required',
  };
}

export function grantsRoom(claims: ViewerClaims, room: string): boolean {
  return claims.rooms.includes(room);
}
