import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@framecast/config';
import { loadGatewayConfig } from '../config.ts';
import { originAllowed } from './origins.ts';

const env = { REDIS_URL: 'redis://127.0.0.1:6379', FRAMECAST_AUTH: 'off' };
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('FRAMECAST_ALLOWED_ORIGINS', () => {
  it('parses a list of bare origins, trailing slash tolerated', () => {
    const { config } = loadGatewayConfig({ ...env, FRAMECAST_ALLOWED_ORIGINS: 'https://cams.example.com, http://wall.local:8080/' });
    expect(config.FRAMECAST_ALLOWED_ORIGINS).toEqual(['https://cams.example.com', 'http://wall.local:8080']);
    expect(loadGatewayConfig(env).config.FRAMECAST_ALLOWED_ORIGINS).toBeUndefined();
  });

  it.each(['cams.example.com', 'https://cams.example.com/path', 'ftp://cams.example.com', '*'])('refuses %s, naming the variable', (bad) => {
    expect(() => loadGatewayConfig({ ...env, FRAMECAST_ALLOWED_ORIGINS: bad })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ ...env, FRAMECAST_ALLOWED_ORIGINS: bad })).toThrow(/^FRAMECAST_ALLOWED_ORIGINS: .*is not an origin/);
  });

  it('lets in listed origins, the gateway\'s own pages and clients without Origin; nothing else', () => {
    const allowed = ['https://cams.example.com'];
    expect(originAllowed(req({ origin: 'https://cams.example.com', host: 'gw:8080' }), allowed)).toBe(true);
    expect(originAllowed(req({ origin: 'http://gw:8080', host: 'gw:8080' }), allowed)).toBe(true);
    expect(originAllowed(req({ host: 'gw:8080' }), allowed)).toBe(true);
    expect(originAllowed(req({ origin: 'https://evil.example', host: 'gw:8080' }), allowed)).toBe(false);
    expect(originAllowed(req({ origin: 'https://cams.example.com.evil.example', host: 'gw:8080' }), allowed)).toBe(false);
    expect(originAllowed(req({ origin: 'null', host: 'gw:8080' }), allowed)).toBe(false);
    expect(originAllowed(req({ origin: 'https://evil.example', host: 'gw:8080' }), undefined)).toBe(true);
  });
});
