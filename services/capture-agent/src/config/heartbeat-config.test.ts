import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from './config.ts';

const base = { REDIS_URL: 'redis://127.0.0.1:6379' };

describe('agent registry settings', () => {
  it('are optional: no registry URL, no heartbeats', () => {
    const { config } = loadAgentConfig(base);
    expect(config.FRAMECAST_REGISTRY_URL).toBeUndefined();
  });

  it('need an agent key with a registry URL while auth is on', () => {
    expect(() => loadAgentConfig({ ...base, FRAMECAST_REGISTRY_URL: 'http://registry:8081' })).toThrow(/FRAMECAST_AGENT_KEY: is required while FRAMECAST_AUTH=on/);
    const off = loadAgentConfig({ ...base, FRAMECAST_REGISTRY_URL: 'http://registry:8081/', FRAMECAST_AUTH: 'off' }).config;
    expect(off.FRAMECAST_REGISTRY_URL).toBe('http://registry:8081');
    const on = loadAgentConfig({ ...base, FRAMECAST_REGISTRY_URL: 'https://r.example', FRAMECAST_AGENT_KEY: 'fca_0123456789abcdef' }).config;
    expect(on.FRAMECAST_AGENT_KEY).toBe('fca_0123456789abcdef');
  });

  it('reject bad values naming the variable', () => {
    expect(() => loadAgentConfig({ ...base, FRAMECAST_REGISTRY_URL: 'registry:8081', FRAMECAST_AUTH: 'off' })).toThrow(/FRAMECAST_REGISTRY_URL: must be an http/);
    expect(() => loadAgentConfig({ ...base, FRAMECAST_AGENT_ID: 'box/1' })).toThrow(/FRAMECAST_AGENT_ID: must be an id/);
    expect(() => loadAgentConfig({ ...base, FRAMECAST_HEARTBEAT_INTERVAL_MS: '10' })).toThrow(/FRAMECAST_HEARTBEAT_INTERVAL_MS: must be >= 500/);
    expect(() => loadAgentConfig({ ...base, FRAMECAST_AGENT_KEY: 'fca_0123456789abcdef' })).toThrow(/FRAMECAST_REGISTRY_URL: is required when FRAMECAST_AGENT_KEY is set/);
  });
});
