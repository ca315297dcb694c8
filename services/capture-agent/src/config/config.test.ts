import { describe, expect, it } from 'vitest';
import { ConfigError } from '@framecast/config';
import { loadAgentConfigFromCli, parseAgentArgs, UsageError } from './cli-args.ts';
import { loadAgentConfig } from './config.ts';

const REDIS = { REDIS_URL: 'redis://127.0.0.1:6379' };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadAgentConfig', () => {
  it('applies defaults and freezes the result', () => {
    const { config, unknown } = loadAgentConfig({ ...REDIS });
    expect(config).toMatchObject({
      FRAMECAST_ROOM: 'lobby',
      FRAMECAST_SOURCE: 'testsrc',
      FRAMECAST_FPS: 15,
      FRAMECAST_SIZE: { width: 640, height: 360 },
      FRAMECAST_QUALITY: 80,
      FRAMECAST_LAST_FRAME_TTL_MS: 10_000,
      LOG_LEVEL: 'info',
      REDIS_URL: REDIS.REDIS_URL,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(unknown).toEqual([]);
  });

  it('parses every value', () => {
    const { config } = loadAgentConfig({
      ...REDIS,
      FRAMECAST_ROOM: 'cam-2_b',
      FRAMECAST_SOURCE: 'ffmpeg:testsrc',
      FRAMECAST_FPS: '60',
      FRAMECAST_SIZE: '3840x2160',
      FRAMECAST_QUALITY: '1',
      FRAMECAST_LAST_FRAME_TTL_MS: '2500',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      FRAMECAST_ROOM: 'cam-2_b',
      FRAMECAST_SOURCE: 'ffmpeg:testsrc',
      FRAMECAST_FPS: 60,
      FRAMECAST_SIZE: { width: 3840, height: 2160 },
      FRAMECAST_QUALITY: 1,
      FRAMECAST_LAST_FRAME_TTL_MS: 2500,
      LOG_LEVEL: 'debug',
    });
  });

  it('requires REDIS_URL unless the caller (the embedded runner) brings its own bus', () => {
    expect(configError(() => loadAgentConfig({})).message).toBe('REDIS_URL: is required but not set (or set REDIS_CLUSTER_NODES to use a Redis Cluster)');
    expect(loadAgentConfig({}, { embedded: true }).config.REDIS_URL).toBeUndefined();
  });

  it('reports unknown FRAMECAST_* variables', () => {
    expect(loadAgentConfig({ ...REDIS, FRAMECAST_FSP: '10', HOME: '/root' }).unknown).toEqual(['FRAMECAST_FSP']);
  });

  it.each([
    ['FRAMECAST_ROOM', 'no spaces'],
    ['FRAMECAST_ROOM', '-leading-dash'],
    ['FRAMECAST_ROOM', 'x'.repeat(65)],
    ['FRAMECAST_SOURCE', 'v4l2'],
    ['FRAMECAST_FPS', 'abc'],
    ['FRAMECAST_FPS', '0'],
    ['FRAMECAST_FPS', '61'],
    ['FRAMECAST_FPS', '12.5'],
    ['FRAMECAST_SIZE', '640'],
    ['FRAMECAST_SIZE', '641x360'],
    ['FRAMECAST_SIZE', '640x361'],
    ['FRAMECAST_SIZE', '8x8'],
    ['FRAMECAST_SIZE', '7680x4320'],
    ['FRAMECAST_SIZE', '640X360'],
    ['FRAMECAST_QUALITY', '0'],
    ['FRAMECAST_QUALITY', '101'],
    ['FRAMECAST_LAST_FRAME_TTL_MS', '-1'],
    ['FRAMECAST_VARIANT_CHECK_MS', '-1'],
    ['FRAMECAST_VARIANT_CHECK_MS', '90000'],
    ['FRAMECAST_VARIANT_CHECK_MS', 'soon'],
    ['REDIS_URL', 'http://localhost'],
    ['LOG_LEVEL', 'loud'],
  ])('names %s when it is %j', (variable, value) => {
    const err = configError(() => loadAgentConfig({ ...REDIS, [variable]: value }));
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(new RegExp(`^${variable}: .+ \\(got ".*"\\)$`));
  });
});

describe('command line', () => {
  const load = (argv: string[], env: Record<string, string> = {}) => {
    const parsed = parseAgentArgs(argv);
    if (parsed.help || parsed.command === 'version') throw new Error('unexpected --help or --version');
    return loadAgentConfigFromCli(parsed.values, env).config;
  };

  it('maps every flag onto its variable', () => {
    const config = load([
      '--room=hall',
      '--source',
      'ffmpeg:testsrc',
      '--fps',
      '5',
      '--size',
      '320x240',
      '--quality',
      '55',
      '--last-frame-ttl-ms',
      '3000',
      '--redis-url',
      'redis://h:1',
      '--log-level',
      'warn',
    ]);
    expect(config).toMatchObject({
      FRAMECAST_ROOM: 'hall',
      FRAMECAST_SOURCE: 'ffmpeg:testsrc',
      FRAMECAST_FPS: 5,
      FRAMECAST_SIZE: { width: 320, height: 240 },
      FRAMECAST_QUALITY: 55,
      FRAMECAST_LAST_FRAME_TTL_MS: 3000,
      REDIS_URL: 'redis://h:1',
      LOG_LEVEL: 'warn',
    });
  });

  it('lets flags win over the environment, and the environment fill the rest', () => {
    const config = load(['--fps', '30'], { ...REDIS, FRAMECAST_FPS: '10', FRAMECAST_ROOM: 'from-env' });
    expect(config.FRAMECAST_FPS).toBe(30);
    expect(config.FRAMECAST_ROOM).toBe('from-env');
  });

  it('names both the variable and the flag for a bad flag value', () => {
    const err = configError(() => load(['--fps', 'abc'], REDIS));
    expect(err.message).toBe('FRAMECAST_FPS (--fps): must be an integer (got "abc")');
  });

  it('rejects unknown flags and stray arguments in one line', () => {
    for (const argv of [['--fsp', '10'], ['lobby'], ['--fps']]) {
      expect(() => parseAgentArgs(argv)).toThrow(UsageError);
      try {
        parseAgentArgs(argv);
      } catch (err) {
        expect(String((err as Error).message)).not.toContain('\n');
      }
    }
  });

  it('ignores the leading "--" that `pnpm start -- ...` passes through', () => {
    expect(load(['--', '--fps', '7'], REDIS).FRAMECAST_FPS).toBe(7);
  });

  it('recognises --help and -h', () => {
    expect(parseAgentArgs(['--help'])).toEqual({ help: true });
    expect(parseAgentArgs(['-h', '--fps', '3'])).toEqual({ help: true });
  });
});
