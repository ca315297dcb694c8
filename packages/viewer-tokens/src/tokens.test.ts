import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PUBLISH_TOKEN_AUDIENCE, TOKEN_AUDIENCE, TOKEN_ISSUER, ViewerTokenSigner, ViewerTokenVerifier } from './tokens.ts';

const SECRET = 'a'.repeat(40);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

/** A compact JWS built by hand from RFC 7515, so the check is held to the standard, not to our signer. */
function handMade(claims: Record<string, unknown>, opts: { alg?: string; secret?: string; hash?: string } = {}): string {
  const input = `${b64({ alg: opts.alg ?? 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  if (opts.alg === 'none') return `${input}.`;
  const sig = createHmac(opts.hash ?? 'sha256', opts.secret ?? SECRET).update(input).digest('base64url');
  return `${input}.${sig}`;
}

const viewerClaims = (over: Record<string, unknown> = {}) => ({ rooms: ['lobby'], iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: nowS(), exp: nowS() + 60, ...over });

describe('viewer tokens', () => {
  const verifier = new ViewerTokenVerifier(SECRET);

  it('accepts a standard HS256 token (as issued before the signer changed), with its claims', () => {
    const check = verifier.verify(handMade(viewerClaims({ sub: 'ada' })));
    expect(check).toMatchObject({ ok: true, claims: { user: 'ada', rooms: ['lobby'], scope: 'view' } });
  });

  it('round-trips the signer: viewer and publish tokens, each only for its own purpose', async () => {
    const signer = new ViewerTokenSigner(SECRET);
    const { token, expiresAt } = await signer.issue({ rooms: ['a', 'b'], ttlSeconds: 30 });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    // Viewer tokens keep the claims they always had: no scope claim.
    expect(payload).toEqual({ rooms: ['a', 'b'], iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: expect.any(Number), exp: payload.iat + 30 });
    expect(expiresAt).toBe(payload.exp * 1000);
    expect(verifier.verify(token)).toMatchObject({ ok: true, claims: { user: null, rooms: ['a', 'b'] } });
    expect(verifier.verify(token, 'publish')).toMatchObject({ ok: false, reason: 'wrong_scope' });
    const publish = (await signer.issue({ rooms: ['a'], ttlSeconds: 30, scope: 'publish', user: 'cam' })).token;
    expect(verifier.verify(publish, 'publish')).toMatchObject({ ok: true, claims: { user: 'cam', scope: 'publish' } });
    expect(verifier.verify(publish)).toMatchObject({ ok: false, reason: 'wrong_scope' });
  });

  it('refuses alg:none, other algorithms, a wrong secret, a tampered payload and garbage as invalid', () => {
    const good = handMade(viewerClaims());
    const [h, , s] = good.split('.');
    const bad = [
      handMade(viewerClaims(), { alg: 'none' }),
      handMade(viewerClaims(), { alg: 'HS512', hash: 'sha512' }),
      handMade(viewerClaims(), { secret: 'b'.repeat(40) }),
      `${h}.${b64(viewerClaims({ rooms: ['lobby', 'vault'] }))}.${s}`,
      `${good}x`,
      'not.a.token',
      'garbage',
    ];
    for (const token of bad) expect(verifier.verify(token), token).toMatchObject({ ok: false, reason: 'invalid', message: 'viewer token is not valid' });
  });

  it('refuses a wrong or missing issuer, a missing exp or rooms claim, a non-numeric iat, and bad room names', () => {
    expect(verifier.verify(handMade(viewerClaims({ iss: 'someone-else' })))).toMatchObject({ reason: 'invalid' });
    expect(verifier.verify(handMade(viewerClaims({ iss: undefined })))).toMatchObject({ reason: 'invalid' });
    expect(verifier.verify(handMade(viewerClaims({ iat: 'yesterday' })))).toMatchObject({ reason: 'invalid' });
    expect(verifier.verify(handMade({ rooms: ['lobby'], iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE }))).toMatchObject({ reason: 'invalid' });
    expect(verifier.verify(handMade({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, exp: nowS() + 60 }))).toMatchObject({ reason: 'invalid' });
    expect(verifier.verify(handMade(viewerClaims({ rooms: ['../etc'] })))).toMatchObject({ reason: 'invalid', message: 'token has no valid rooms claim' });
    expect(verifier.verify(handMade(viewerClaims({ rooms: 'lobby' })))).toMatchObject({ reason: 'invalid' });
  });

  it('a genuine token for another audience or scope is wrong_scope; an audience list naming ours passes', () => {
    expect(verifier.verify(handMade(viewerClaims({ aud: PUBLISH_TOKEN_AUDIENCE })))).toMatchObject({ reason: 'wrong_scope' });
    expect(verifier.verify(handMade(viewerClaims({ aud: undefined })))).toMatchObject({ reason: 'wrong_scope' });
    expect(verifier.verify(handMade(viewerClaims({ scope: 'publish' })))).toMatchObject({ reason: 'wrong_scope' });
    expect(verifier.verify(handMade(viewerClaims({ aud: ['other', TOKEN_AUDIENCE] })))).toMatchObject({ ok: true });
  });

  it('tolerates 5 s of clock difference on exp and nbf, and no more', () => {
    expect(verifier.verify(handMade(viewerClaims({ exp: nowS() - 2 })))).toMatchObject({ ok: true });
    expect(verifier.verify(handMade(viewerClaims({ exp: nowS() - 10 })))).toMatchObject({ ok: false, reason: 'expired', message: 'viewer token expired' });
    expect(verifier.verify(handMade(viewerClaims({ nbf: nowS() + 2 })))).toMatchObject({ ok: true });
    expect(verifier.verify(handMade(viewerClaims({ nbf: nowS() + 60 })))).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('says what is missing without a token, and refuses a secret shorter than 32 bytes', () => {
    expect(verifier.verify(undefined)).toMatchObject({ ok: false, reason: 'missing', message: 'this room is private: a viewer token is required' });
    expect(verifier.verify('', 'publish')).toMatchObject({ ok: false, reason: 'missing', message: 'a publish token is required' });
    expect(() => new ViewerTokenVerifier('short')).toThrow(/at least 32 bytes/);
    expect(() => new ViewerTokenSigner('short')).toThrow(/at least 32 bytes/);
  });
});
