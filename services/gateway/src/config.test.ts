import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.ts';

const BASE = { REDIS_URL: 'redis://127.0.0.1:6379', FRAMECAST_TOKEN_SECRET: 'x'.repeat(32) };

describe('gateway configuration', () => {
  const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ['missing REDIS_URL', { REDIS_URL: undefined }, /^REDIS_URL: is required/],
    ['malformed REDIS_URL', { REDIS_URL: 'localhost:6379' }, /^REDIS_URL: must be a redis/],
    ['malformed PORT', { PORT: 'eighty' }, /^PORT: must be an integer/],
    ['out-of-range stall timeout', { FRAMECAST_VIEWER_STALL_TIMEOUT_MS: '5' }, /^FRAMECAST_VIEWER_STALL_TIMEOUT_MS: must be >= 100/],
    ['bad LOG_LEVEL', { LOG_LEVEL: 'loud' }, /^LOG_LEVEL: must be one of/],
    ['ping interval too short', { FRAMECAST_PING_INTERVAL_MS: '50' }, /^FRAMECAST_PING_INTERVAL_MS: must be/],
    ['ping interval not a number', { FRAMECAST_PING_INTERVAL_MS: 'soon' }, /^FRAMECAST_PING_INTERVAL_MS: must be/],
    ['publish rate of 0', { FRAMECAST_MAX_PUBLISH_FPS: '0' }, /^FRAMECAST_MAX_PUBLISH_FPS: must be >= 1/],
    ['publish rate over 120', { FRAMECAST_MAX_PUBLISH_FPS: '240' }, /^FRAMECAST_MAX_PUBLISH_FPS: must be <= 120/],
    ['publish rate not an integer', { FRAMECAST_MAX_PUBLISH_FPS: '12.5' }, /^FRAMECAST_MAX_PUBLISH_FPS: must be an integer/],
    ['no token secret with auth on', { FRAMECAST_TOKEN_SECRET: undefined }, /^FRAMECAST_TOKEN_SECRET: is required while FRAMECAST_AUTH=on/],
  ];
  it.each(cases)('%s: refused, naming the variable', (_name, env, message) => {
    expect(() => loadGatewayConfig({ ...BASE, ...env })).toThrow(message);
  });

  it('embedded, REDIS_URL is optional (the in-memory bus); the token secret is not while auth is on', () => {
    expect(loadGatewayConfig({ FRAMECAST_TOKEN_SECRET: BASE.FRAMECAST_TOKEN_SECRET }, { embedded: true }).config.REDIS_URL).toBeUndefined();
    expect(() => loadGatewayConfig({}, { embedded: true })).toThrow(/FRAMECAST_TOKEN_SECRET: is required/);
    expect(loadGatewayConfig({ FRAMECAST_AUTH: 'off' }, { embedded: true }).config.FRAMECAST_AUTH).toBe('off');
  });

  it('browser publishers may send 30 frames a second unless FRAMECAST_MAX_PUBLISH_FPS says otherwise', () => {
    expect(loadGatewayConfig(BASE).config.FRAMECAST_MAX_PUBLISH_FPS).toBe(30);
    expect(loadGatewayConfig({ ...BASE, FRAMECAST_MAX_PUBLISH_FPS: '5' }).config.FRAMECAST_MAX_PUBLISH_FPS).toBe(5);
  });
});
