import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { authEnvFields, ConfigError, envField, loadConfig, redisEnvFields, requireWhenAuthOn, v } from './index.ts';

const schema = v.object({
  PORT: envField.port(8080),
  REDIS_URL: envField.redisUrl(),
  FRAMECAST_FLAG: envField.bool(false),
});

describe('loadConfig', () => {
  it('applies defaults, parses values and freezes the result', () => {
    const { config, unknown } = loadConfig(schema, { REDIS_URL: 'redis://127.0.0.1:1', FRAMECAST_FLAG: 'yes', FRAMECAST_TYPO: '1' });
    expect(config).toEqual({ PORT: 8080, REDIS_URL: 'redis://127.0.0.1:1', FRAMECAST_FLAG: true });
    expect(Object.isFrozen(config)).toBe(true);
    expect(unknown).toEqual(['FRAMECAST_TYPO']);
  });

  it('names a missing required variable', () => {
    expect(() => loadConfig(schema, {})).toThrow(new ConfigError('REDIS_URL', 'is required but not set'));
  });

  it('names a malformed variable and shows the value', () => {
    const err = (() => {
      try {
        loadConfig(schema, { REDIS_URL: 'redis://x', PORT: '70000' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.variable).toBe('PORT');
    expect(err?.message).toMatch(/^PORT: must be <= 65535 \(got "70000"\)$/);
  });

  it('refuses a variable that was split into per-service names, naming both successors', () => {
    expect(() => loadConfig(schema, { REDIS_URL: 'redis://x', FRAMECAST_STALL_TIMEOUT_MS: '5000' })).toThrow(/^FRAMECAST_STALL_TIMEOUT_MS: was split: set FRAMECAST_VIEWER_STALL_TIMEOUT_MS .* or FRAMECAST_SOURCE_STALL_TIMEOUT_MS/);
    expect(() => loadConfig(schema, { REDIS_URL: 'redis://x', FRAMECAST_MAX_FRAME_BYTES: '1' })).toThrow(/FRAMECAST_MAX_ENVELOPE_BYTES .* FRAMECAST_MAX_SOURCE_FRAME_BYTES/);
    expect(loadConfig(schema, { REDIS_URL: 'redis://x', FRAMECAST_STALL_TIMEOUT_MS: '' }).config.PORT).toBe(8080);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig(schema, { REDIS_URL: 'redis://x', PORT: '' }).config.PORT).toBe(8080);
  });

  it('rejects a non-redis URL', () => {
    expect(() => loadConfig(schema, { REDIS_URL: 'http://x' })).toThrow(/REDIS_URL: must be a redis/);
  });
});

describe('redisEnvFields', () => {
  const redis = v.object(redisEnvFields);
  it('FRAMECAST_REDIS_COMMAND_TIMEOUT_MS defaults to 1000 ms and is checked', () => {
    expect(loadConfig(redis, {}).config.FRAMECAST_REDIS_COMMAND_TIMEOUT_MS).toBe(1000);
    expect(loadConfig(redis, { FRAMECAST_REDIS_COMMAND_TIMEOUT_MS: '2500' }).config.FRAMECAST_REDIS_COMMAND_TIMEOUT_MS).toBe(2500);
    expect(() => loadConfig(redis, { FRAMECAST_REDIS_COMMAND_TIMEOUT_MS: '50' })).toThrow(/^FRAMECAST_REDIS_COMMAND_TIMEOUT_MS: must be >= 200/);
    expect(() => loadConfig(redis, { FRAMECAST_REDIS_COMMAND_TIMEOUT_MS: '1s' })).toThrow(/^FRAMECAST_REDIS_COMMAND_TIMEOUT_MS: must be an integer/);
  });
});

describe('envField.nodeId', () => {
  const ids = v.object({ FRAMECAST_X_ID: envField.nodeId() });
  it('defaults to the host name and takes an id', () => {
    expect(loadConfig(ids, {}).config.FRAMECAST_X_ID).toBe(hostname());
    expect(loadConfig(ids, { FRAMECAST_X_ID: 'gw-1.eu_west' }).config.FRAMECAST_X_ID).toBe('gw-1.eu_west');
  });
  it('refuses what is not an id, naming the variable and the rule', () => {
    expect(() => loadConfig(ids, { FRAMECAST_X_ID: 'a b' })).toThrow(/^FRAMECAST_X_ID: must be an id: .*\(got "a b"\)$/);
    expect(() => loadConfig(ids, { FRAMECAST_X_ID: '-x' })).toThrow(/^FRAMECAST_X_ID: must be an id/);
    expect(() => loadConfig(ids, { FRAMECAST_X_ID: 'x'.repeat(65) })).toThrow(/^FRAMECAST_X_ID: must be an id/);
  });
});

describe('the FRAMECAST_AUTH switch', () => {
  const auth = v.object({ ...authEnvFields });
  it('is on unless set off', () => {
    expect(loadConfig(auth, {}).config.FRAMECAST_AUTH).toBe('on');
    expect(loadConfig(auth, { FRAMECAST_AUTH: 'off' }).config.FRAMECAST_AUTH).toBe('off');
    expect(() => loadConfig(auth, { FRAMECAST_AUTH: 'no' })).toThrow(/^FRAMECAST_AUTH: must be on or off/);
  });
  it('requires a secret while on, naming it', () => {
    expect(() => requireWhenAuthOn({ FRAMECAST_AUTH: 'on' }, 'FRAMECAST_SOME_KEY', undefined)).toThrow(ConfigError);
    expect(() => requireWhenAuthOn({ FRAMECAST_AUTH: 'on' }, 'FRAMECAST_SOME_KEY', '')).toThrow(/^FRAMECAST_SOME_KEY: is required while FRAMECAST_AUTH=on/);
    expect(() => requireWhenAuthOn({ FRAMECAST_AUTH: 'on' }, 'FRAMECAST_SOME_KEY', 'set')).not.toThrow();
    expect(() => requireWhenAuthOn({ FRAMECAST_AUTH: 'off' }, 'FRAMECAST_SOME_KEY', undefined)).not.toThrow();
  });
});

describe('bad values in error lines', () => {
  const secrets = v.object({ FRAMECAST_TOKEN_SECRET: v.pipe(v.string(), v.minLength(32, 'must be at least 32 bytes')), FRAMECAST_ADMIN_KEY: v.pipe(v.string(), v.minLength(16, 'too short')) });
  it('never shows a credential: its length instead', () => {
    expect(() => loadConfig(secrets, { FRAMECAST_TOKEN_SECRET: 'hunter2', FRAMECAST_ADMIN_KEY: 'x'.repeat(20) })).toThrow('FRAMECAST_TOKEN_SECRET: must be at least 32 bytes (got 7 characters, not shown)');
    expect(() => loadConfig(secrets, { FRAMECAST_TOKEN_SECRET: 'y'.repeat(40), FRAMECAST_ADMIN_KEY: 'hunter2' })).toThrow('FRAMECAST_ADMIN_KEY: too short (got 7 characters, not shown)');
  });
  it("masks a URL's password and keeps the rest, so the mistake stays visible", () => {
    const urls = v.object({ REDIS_URL: envField.redisUrl() });
    expect(() => loadConfig(urls, { REDIS_URL: 'http://framecast:hunter2@redis:6379' })).toThrow('REDIS_URL: must be a redis:// or rediss:// URL (got "http://framecast:***@redis:6379")');
    expect(() => loadConfig(urls, { REDIS_URL: 'http://redis:6379' })).toThrow('(got "http://redis:6379")');
  });
});
