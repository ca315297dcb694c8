import { describe, expect, it } from 'vitest';
import { ViewerTokenSigner, ViewerTokenVerifier } from '@framecast/viewer-tokens';
import { PublishAuth } from './publish-auth.ts';

// Who may publish, decided locally from the token alone: deny by default with auth on, open with
// auth off (local use). The end-to-end refusals (close codes, the page) are in test/browser-publish.test.ts.

const SECRET = 'k'.repeat(32);
const signer = new ViewerTokenSigner(SECRET);
const auth = new PublishAuth(new ViewerTokenVerifier(SECRET));

describe('PublishAuth', () => {
  it('admits a publish token for the room, with its subject and expiry', async () => {
    const { token, expiresAt } = await signer.issue({ rooms: ['desk'], user: 'tab', ttlSeconds: 60, scope: 'publish' });
    expect(auth.admit('desk', token)).toEqual({ ok: true, user: 'tab', expiresAt });
  });

  it('refuses everything else, naming the row of the close table', async () => {
    const publishOther = (await signer.issue({ rooms: ['hall'], ttlSeconds: 60, scope: 'publish' })).token;
    const viewer = (await signer.issue({ rooms: ['desk'], ttlSeconds: 60 })).token;
    const expired = (await signer.issue({ rooms: ['desk'], ttlSeconds: 10, scope: 'publish', now: Date.now() - 60_000 })).token;
    const forged = (await new ViewerTokenSigner('f'.repeat(32)).issue({ rooms: ['desk'], ttlSeconds: 60, scope: 'publish' })).token;
    expect(auth.admit('desk', null)).toMatchObject({ ok: false, error: 'publish_unauthorized', message: expect.stringMatching(/publish-tokens/) });
    expect(auth.admit('desk', publishOther)).toMatchObject({ ok: false, error: 'forbidden', message: 'this publish token does not open room desk' });
    expect(auth.admit('desk', viewer)).toMatchObject({ ok: false, error: 'publish_unauthorized', message: expect.stringMatching(/viewer token cannot publish/) });
    expect(auth.admit('desk', expired)).toMatchObject({ ok: false, error: 'publish_token_expired' });
    expect(auth.admit('desk', forged)).toMatchObject({ ok: false, error: 'publish_unauthorized', message: 'publish token is not valid' });
    expect(auth.admit('desk', 'not.a.jwt')).toMatchObject({ ok: false, error: 'publish_unauthorized' });
  });

  it('with auth off (no verifier) anyone may publish, with no lease', () => {
    expect(new PublishAuth(null).admit('desk', null)).toEqual({ ok: true, user: null, expiresAt: null });
  });
});
