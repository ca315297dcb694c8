import { describe, expect, it } from 'vitest';
import { loadRegistryConfig } from './config.ts';

const BASE = { REDIS_URL: 'redis://127.0.0.1:6379', FRAMECAST_ADMIN_KEY: 'unit-admin-key-0123456789', FRAMECAST_TOKEN_SECRET: 'x'.repeat(32) };

describe('registry configuration', () => {
  const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ['missing REDIS_URL', { REDIS_URL: undefined }, /REDIS_URL: is required/],
    ['no token secret with auth on', { FRAMECAST_TOKEN_SECRET: undefined }, /FRAMECAST_TOKEN_SECRET: is required while FRAMECAST_AUTH=on/],
    ['no admin key with auth on', { FRAMECAST_ADMIN_KEY: undefined }, /FRAMECAST_ADMIN_KEY: is required while FRAMECAST_AUTH=on/],
    ['short token secret', { FRAMECAST_TOKEN_SECRET: 'short' }, /FRAMECAST_TOKEN_SECRET: must be at least 32 bytes/],
    ['bad FRAMECAST_AUTH', { FRAMECAST_AUTH: 'maybe' }, /FRAMECAST_AUTH: must be on or off/],
    ['sweep slower than the timeouts', { FRAMECAST_SWEEP_INTERVAL_MS: '60000' }, /FRAMECAST_SWEEP_INTERVAL_MS: must not exceed/],
    ['bad webhook attempts', { FRAMECAST_WEBHOOK_ATTEMPTS: 'many' }, /FRAMECAST_WEBHOOK_ATTEMPTS: must be an integer/],
  ];
  it.each(cases)('%s: refused, naming the variable', (_name, env, message) => {
    expect(() => loadRegistryConfig({ ...BASE, ...env })).toThrow(message);
  });

  it('embedded, REDIS_URL is optional (the in-memory store); standalone it is not', () => {
    expect(loadRegistryConfig({ ...BASE, REDIS_URL: undefined }, { embedded: true }).config.REDIS_URL).toBeUndefined();
    expect(() => loadRegistryConfig({ ...BASE, REDIS_URL: undefined })).toThrow(/REDIS_URL: is required/);
  });
});
