import { parseArgs } from 'node:util';
import { ConfigError, type Env, type LoadedConfig } from '@framecast/config';
import { loadAgentConfig, type AgentConfig, type LoadAgentConfigOptions } from './config.ts';

/** Every flag is an alias of one environment variable; the schema in config.ts validates both. */
export const FLAG_ENV = {
  config: 'FRAMECAST_CONFIG',
  room: 'FRAMECAST_ROOM',
  source: 'FRAMECAST_SOURCE',
  fps: 'FRAMECAST_FPS',
  size: 'FRAMECAST_SIZE',
  quality: 'FRAMECAST_QUALITY',
  'stall-timeout-ms': 'FRAMECAST_SOURCE_STALL_TIMEOUT_MS',
  'mjpeg-passthrough': 'FRAMECAST_MJPEG_PASSTHROUGH',
  'restart-delay-ms': 'FRAMECAST_RESTART_DELAY_MS',
  'max-restart-delay-ms': 'FRAMECAST_MAX_RESTART_DELAY_MS',
  'last-frame-ttl-ms': 'FRAMECAST_LAST_FRAME_TTL_MS',
  'max-frame-bytes': 'FRAMECAST_MAX_SOURCE_FRAME_BYTES',
  'ffmpeg-path': 'FRAMECAST_FFMPEG_PATH',
  'ffprobe-path': 'FRAMECAST_FFPROBE_PATH',
  'metrics-port': 'FRAMECAST_METRICS_PORT',
  'metrics-host': 'FRAMECAST_METRICS_HOST',
  'stats-interval-ms': 'FRAMECAST_STATS_INTERVAL_MS',
  'variant-check-ms': 'FRAMECAST_VARIANT_CHECK_MS',
  'shutdown-timeout-ms': 'FRAMECAST_SHUTDOWN_TIMEOUT_MS',
  'redis-url': 'REDIS_URL',
  'redis-cluster-nodes': 'REDIS_CLUSTER_NODES',
  'redis-command-timeout-ms': 'FRAMECAST_REDIS_COMMAND_TIMEOUT_MS',
  'registry-url': 'FRAMECAST_REGISTRY_URL',
  'agent-id': 'FRAMECAST_AGENT_ID',
  'heartbeat-interval-ms': 'FRAMECAST_HEARTBEAT_INTERVAL_MS',
  'log-level': 'LOG_LEVEL',
} as const;

type Flag = keyof typeof FLAG_ENV;

export const USAGE = `Usage: framecast-agent [options]            capture and publish
       framecast-agent probe [options]      open the source(s), report what they deliver, exit (also: --dry-run)

Captures frames from one camera (--source) or several (--config FILE) and publishes them as JPEG
envelopes to the Redis channel video_<room>. Every option can also be given as the environment
variable shown; the option wins.

  --config FILE               FRAMECAST_CONFIG               YAML file listing the cameras (instead of --room/--source)
  --room NAME                 FRAMECAST_ROOM                 room to publish to (default lobby)
  --source SRC                FRAMECAST_SOURCE               testsrc | ffmpeg:testsrc | v4l2:/dev/video0 | rtsp://… |
                                                             http(s)://… (MJPEG) | file:/path.mp4 (default testsrc)
  --fps N                     FRAMECAST_FPS                  frames per second, 1-60; faster cameras are capped (default 15)
  --size WxH                  FRAMECAST_SIZE                 even width x height (default 640x360)
  --quality N                 FRAMECAST_QUALITY              JPEG quality 1-100 for encoded sources (default 80)
  --stall-timeout-ms MS       FRAMECAST_SOURCE_STALL_TIMEOUT_MS     no frame this long = source failed, restart (default 10000)
  --mjpeg-passthrough BOOL    FRAMECAST_MJPEG_PASSTHROUGH    publish an MJPEG camera's own JPEGs at --size unchanged (default true)
  --restart-delay-ms MS       FRAMECAST_RESTART_DELAY_MS     first restart delay, doubling per failure (default 500)
  --max-restart-delay-ms MS   FRAMECAST_MAX_RESTART_DELAY_MS restart delay cap (default 30000)
  --last-frame-ttl-ms MS      FRAMECAST_LAST_FRAME_TTL_MS    expiry of the room's stored last frame (default 10000)
  --max-frame-bytes N         FRAMECAST_MAX_SOURCE_FRAME_BYTES      larger source frames are dropped (default 4194304)
  --ffmpeg-path PATH          FRAMECAST_FFMPEG_PATH          ffmpeg binary (default ffmpeg)
  --ffprobe-path PATH         FRAMECAST_FFPROBE_PATH         ffprobe binary (default ffprobe)
  --metrics-port PORT         FRAMECAST_METRICS_PORT         /metrics and /healthz port, 0 = off (default 0)
  --metrics-host HOST         FRAMECAST_METRICS_HOST         /metrics and /healthz address (default 0.0.0.0)
  --stats-interval-ms MS      FRAMECAST_STATS_INTERVAL_MS    per-camera stats log interval, 0 = off (default 60000)
  --variant-check-ms MS       FRAMECAST_VARIANT_CHECK_MS     how often to ask Redis whether a small variant is watched, 0 = no variants (default 3000)
  --shutdown-timeout-ms MS    FRAMECAST_SHUTDOWN_TIMEOUT_MS  hard deadline for a graceful stop (default 5000)
  --redis-url URL             REDIS_URL                      redis:// or rediss:// URL (this or a cluster required, except for probe)
  --redis-cluster-nodes LIST  REDIS_CLUSTER_NODES            host:port,… seeds of a Redis Cluster (credentials/TLS from REDIS_URL)
  --redis-command-timeout-ms MS  FRAMECAST_REDIS_COMMAND_TIMEOUT_MS  a publish or PING unanswered this long = Redis hung (default 1000)
  --registry-url URL          FRAMECAST_REGISTRY_URL         registry base URL for heartbeats (default: none, no heartbeats)
  --agent-id ID               FRAMECAST_AGENT_ID             this agent's id in the registry (default: host name)
  --heartbeat-interval-ms MS  FRAMECAST_HEARTBEAT_INTERVAL_MS  heartbeat period (default 5000)
                              FRAMECAST_AGENT_KEY            agent key for the registry (environment only: keep it out of ps)
  --log-level LEVEL           LOG_LEVEL                      fatal|error|warn|info|debug|trace|silent (default info)
  -h, --help                                                 print this help
  --version                                                  print the agent's version

Probe only:
  --probe-seconds N           how long to collect frames after the first one (default 3)
  --json                      one JSON object per camera instead of a line of text
`;

/** A command line that cannot be parsed (unknown flag, missing value, stray argument). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ProbeOptions {
  seconds: number;
  json: boolean;
}

export type ParsedArgs =
  | { help: true }
  | { help: false; command: 'version' }
  | { help: false; command: 'run'; values: Partial<Record<Flag, string>> }
  | { help: false; command: 'probe'; values: Partial<Record<Flag, string>>; probe: ProbeOptions };

export function parseAgentArgs(argv: string[]): ParsedArgs {
  // `pnpm start -- --fps 5` hands the script a literal leading "--"; it separates nothing here.
  if (argv[0] === '--') argv = argv.slice(1);
  const options = Object.fromEntries(Object.keys(FLAG_ENV).map((f) => [f, { type: 'string' as const }])) as Record<Flag, { type: 'string' }>;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...options,
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        'probe-seconds': { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    // node:util's messages are already one line and name the offending flag.
    throw new UsageError(err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
  if (parsed.values.help) return { help: true };
  if (parsed.values.version) return { help: false, command: 'version' };
  const [command, ...rest] = parsed.positionals;
  if ((command !== undefined && command !== 'probe') || rest.length > 0) {
    throw new UsageError(`Unexpected argument '${command !== 'probe' ? command : rest[0]}': the only command is "probe"`);
  }
  const values: Partial<Record<Flag, string>> = {};
  for (const flag of Object.keys(FLAG_ENV) as Flag[]) {
    const v = parsed.values[flag];
    if (typeof v === 'string') values[flag] = v;
  }
  const probing = command === 'probe' || parsed.values['dry-run'] === true;
  if (!probing) {
    for (const flag of ['json', 'probe-seconds'] as const) {
      if (parsed.values[flag] !== undefined) throw new UsageError(`Option '--${flag}' applies only to probe (or --dry-run)`);
    }
    return { help: false, command: 'run', values };
  }
  const secondsText = parsed.values['probe-seconds'] ?? '3';
  const seconds = Number(secondsText);
  if (!/^\d+(\.\d+)?$/.test(secondsText) || seconds <= 0 || seconds > 600) throw new UsageError(`Option '--probe-seconds' must be a number of seconds, 0-600 (got '${secondsText}')`);
  return { help: false, command: 'probe', values, probe: { seconds, json: parsed.values.json === true } };
}

/**
 * Loads the config from the environment overlaid with flags. A bad value given as a flag is
 * reported under both names, so the operator finds it whichever way they set it.
 */
export function loadAgentConfigFromCli(values: Partial<Record<Flag, string>>, env: Env = process.env, opts: LoadAgentConfigOptions = {}): LoadedConfig<AgentConfig> {
  const merged: Env = { ...env };
  const flagOf = new Map<string, Flag>();
  for (const [flag, value] of Object.entries(values) as [Flag, string][]) {
    merged[FLAG_ENV[flag]] = value;
    flagOf.set(FLAG_ENV[flag], flag);
  }
  try {
    return loadAgentConfig(merged, opts);
  } catch (err) {
    const flag = err instanceof ConfigError ? flagOf.get(err.variable) : undefined;
    if (err instanceof ConfigError && flag) throw new ConfigError(`${err.variable} (--${flag})`, err.problem);
    throw err;
  }
}
