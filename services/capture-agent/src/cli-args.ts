import { parseArgs } from 'node:util';
import { ConfigError, type Env, type LoadedConfig } from '@framecast/config';
import { loadAgentConfig, AGENT_SOURCES, type AgentConfig } from './config.ts';

/** Every flag is an alias of one environment variable; the schema in config.ts validates both. */
export const FLAG_ENV = {
  room: 'FRAMECAST_ROOM',
  source: 'FRAMECAST_SOURCE',
  fps: 'FRAMECAST_FPS',
  size: 'FRAMECAST_SIZE',
  quality: 'FRAMECAST_QUALITY',
  'last-frame-ttl-ms': 'FRAMECAST_LAST_FRAME_TTL_MS',
  'max-frame-bytes': 'FRAMECAST_MAX_FRAME_BYTES',
  'ffmpeg-path': 'FRAMECAST_FFMPEG_PATH',
  'stats-interval-ms': 'FRAMECAST_STATS_INTERVAL_MS',
  'shutdown-timeout-ms': 'FRAMECAST_SHUTDOWN_TIMEOUT_MS',
  'redis-url': 'REDIS_URL',
  'log-level': 'LOG_LEVEL',
} as const;

type Flag = keyof typeof FLAG_ENV;

export const USAGE = `Usage: framecast-agent [options]

Captures frames, JPEG-encodes them and publishes them to the Redis channel video_<room>.
Every option can also be given as the environment variable shown; the option wins.

  --room NAME               FRAMECAST_ROOM               room to publish to (default lobby)
  --source NAME             FRAMECAST_SOURCE             ${AGENT_SOURCES.join(' | ')} (default testsrc)
  --fps N                   FRAMECAST_FPS                frames per second, 1-60 (default 15)
  --size WxH                FRAMECAST_SIZE               even width x height (default 640x360)
  --quality N               FRAMECAST_QUALITY            JPEG quality 1-100 (default 80)
  --last-frame-ttl-ms MS    FRAMECAST_LAST_FRAME_TTL_MS  expiry of the room's stored last frame (default 10000)
  --max-frame-bytes N       FRAMECAST_MAX_FRAME_BYTES    larger source frames are dropped (default 4194304)
  --ffmpeg-path PATH        FRAMECAST_FFMPEG_PATH        ffmpeg binary for ffmpeg:* sources (default ffmpeg)
  --stats-interval-ms MS    FRAMECAST_STATS_INTERVAL_MS  stats log line interval, 0 = off (default 60000)
  --shutdown-timeout-ms MS  FRAMECAST_SHUTDOWN_TIMEOUT_MS  hard deadline for a graceful stop (default 5000)
  --redis-url URL           REDIS_URL                    redis:// or rediss:// URL (required)
  --log-level LEVEL         LOG_LEVEL                    fatal|error|warn|info|debug|trace|silent (default info)
  -h, --help                                             print this help
`;

/** A command line that cannot be parsed (unknown flag, missing value, stray argument). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type ParsedArgs = { help: true } | { help: false; values: Partial<Record<Flag, string>> };

export function parseAgentArgs(argv: string[]): ParsedArgs {
  // `pnpm start -- --fps 5` hands the script a literal leading "--"; it separates nothing here.
  if (argv[0] === '--') argv = argv.slice(1);
  const options = Object.fromEntries(Object.keys(FLAG_ENV).map((f) => [f, { type: 'string' as const }])) as Record<Flag, { type: 'string' }>;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  } catch (err) {
    // node:util's messages are already one line and name the offending flag.
    throw new UsageError(err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
  if (parsed.values.help) return { help: true };
  const values: Partial<Record<Flag, string>> = {};
  for (const flag of Object.keys(FLAG_ENV) as Flag[]) {
    const v = parsed.values[flag];
    if (typeof v === 'string') values[flag] = v;
  }
  return { help: false, values };
}

/**
 * Loads the config from the environment overlaid with flags. A bad value given as a flag is
 * reported under both names, so the operator finds it whichever way they set it.
 */
export function loadAgentConfigFromCli(values: Partial<Record<Flag, string>>, env: Env = process.env): LoadedConfig<AgentConfig> {
  const merged: Env = { ...env };
  const flagOf = new Map<string, Flag>();
  for (const [flag, value] of Object.entries(values) as [Flag, string][]) {
    merged[FLAG_ENV[flag]] = value;
    flagOf.set(FLAG_ENV[flag], flag);
  }
  try {
    return loadAgentConfig(merged);
  } catch (err) {
    const flag = err instanceof ConfigError ? flagOf.get(err.variable) : undefined;
    if (err instanceof ConfigError && flag) throw new ConfigError(`${err.variable} (--${flag})`, err.problem);
    throw err;
  }
}
