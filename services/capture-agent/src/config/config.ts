import { ConfigError, envField, loadConfig, redisConnectionEnvFields, redisEnvFields, requireRedis, v, type Env, type LoadedConfig } from '@framecast/config';
import { checkHeartbeatConfig, heartbeatEnvFields } from './heartbeat-config.ts';
import { camerasFromFile, LIMITS, resolveCamera, roomText, sizeText, sourceText, type CameraConfig, type CameraDefaults } from './camera-config.ts';

export { type CameraConfig, type FrameSize } from './camera-config.ts';

/** The source forms `--source` accepts, for usage text. */
export const AGENT_SOURCES = ['testsrc', 'ffmpeg:testsrc', 'v4l2:/dev/videoN', 'rtsp://…', 'http(s)://…', 'file:/path'] as const;

/**
 * The agent's whole configuration from the environment: every key is an environment variable
 * (CLI flags are mapped onto these names before validation, see cli-args.ts), validated once at
 * start-up. Without FRAMECAST_CONFIG the room/source/size/fps/quality variables describe the one
 * camera; with it they are the defaults of the cameras the file lists.
 */
export const agentEnvSchema = v.object({
  /** A YAML file listing the cameras (see camera-config.ts); replaces FRAMECAST_ROOM/SOURCE. */
  FRAMECAST_CONFIG: v.optional(v.string()),
  FRAMECAST_ROOM: v.optional(roomText, 'lobby'),
  // Checked here but kept as text: parsed below, only when no FRAMECAST_CONFIG file replaces it.
  FRAMECAST_SOURCE: v.optional(
    v.pipe(
      v.string(),
      v.rawCheck(({ dataset, addIssue }) => {
        const parsed = dataset.typed ? v.safeParse(sourceText, dataset.value) : null;
        if (parsed && !parsed.success) addIssue({ message: parsed.issues[0].message });
      }),
    ),
    'testsrc',
  ),
  FRAMECAST_FPS: envField.int(...LIMITS.fps, 15),
  FRAMECAST_SIZE: v.optional(sizeText, '640x360'),
  /** JPEG quality 1–100 (mapped onto ffmpeg's -q:v 31–2 for ffmpeg sources). */
  FRAMECAST_QUALITY: envField.int(...LIMITS.quality, 80),
  /** A camera that delivers no frame for this long is treated as failed and restarted. */
  FRAMECAST_SOURCE_STALL_TIMEOUT_MS: envField.ms(...LIMITS.stallTimeoutMs, 10_000),
  /** Pass MJPEG cameras' own JPEGs through when they come at the requested size. */
  FRAMECAST_MJPEG_PASSTHROUGH: envField.bool(true),
  /** First restart delay of a failed source; doubles per consecutive failure up to the max. */
  FRAMECAST_RESTART_DELAY_MS: envField.ms(50, 60_000, 500),
  FRAMECAST_MAX_RESTART_DELAY_MS: envField.ms(100, 3_600_000, 30_000),
  /** Expiry of video_<room>:last: a dead agent's last frame stops being shown to new viewers after this. */
  FRAMECAST_LAST_FRAME_TTL_MS: envField.ms(100, 3_600_000, 10_000),
  /** A frame bigger than this is dropped and counted (a runaway or corrupt source stream). */
  FRAMECAST_MAX_SOURCE_FRAME_BYTES: envField.bytes(1024, 16 * 1024 * 1024, 4 * 1024 * 1024),
  FRAMECAST_FFMPEG_PATH: envField.string('ffmpeg'),
  FRAMECAST_FFPROBE_PATH: envField.string('ffprobe'),
  /**
   * /metrics and /healthz; 0 (the default) turns them off. Off by default so that several agents
   * (tests, a developer's machine) never fight over one port; the systemd setup turns it on.
   */
  FRAMECAST_METRICS_PORT: envField.port(0),
  FRAMECAST_METRICS_HOST: envField.host('0.0.0.0'),
  /**
   * How often each camera asks Redis (PUBSUB NUMSUB) whether a gateway is subscribed to its small
   * variant (`video_<room>~small`), which it makes only while one is; 0 turns variants off.
   */
  FRAMECAST_VARIANT_CHECK_MS: envField.ms(0, 60_000, 3_000),
  /** Interval of the per-camera "camera stats" log lines; 0 turns them off. */
  FRAMECAST_STATS_INTERVAL_MS: envField.ms(0, 3_600_000, 60_000),
  /** Graceful shutdown deadline: the sources stopped, the bus closed, then exit regardless. */
  FRAMECAST_SHUTDOWN_TIMEOUT_MS: envField.ms(100, 60_000, 5_000),
  /** REDIS_URL or REDIS_CLUSTER_NODES (a Redis Cluster: frames on sharded pub/sub). */
  ...redisConnectionEnvFields,
  /** FRAMECAST_REDIS_COMMAND_TIMEOUT_MS: a publish or PING unanswered this long means Redis is hung (the bus goes down, the newest frame is kept). */
  ...redisEnvFields,
  LOG_LEVEL: envField.logLevel(),
  /** Registry heartbeats (optional): FRAMECAST_REGISTRY_URL, FRAMECAST_AGENT_KEY, FRAMECAST_AGENT_ID, FRAMECAST_HEARTBEAT_INTERVAL_MS, FRAMECAST_AUTH. */
  ...heartbeatEnvFields,
});

type EnvConfig = v.InferOutput<typeof agentEnvSchema>;

/**
 * REDIS_URL is optional only for the embedded runner and probe mode, which publish nowhere or on
 * an in-memory bus. `cameras` is what the agent runs: the config file's list, or the one camera
 * the room/source variables describe.
 */
export type AgentConfig = EnvConfig & { cameras: readonly CameraConfig[] };

export interface LoadAgentConfigOptions {
  /** In the embedded runner the frames go over its in-memory bus unless REDIS_URL is set. */
  embedded?: boolean;
  /** Probe mode (`probe`, `--dry-run`) publishes nothing: REDIS_URL is not needed. */
  probe?: boolean;
}

/** Validates `env` (process env merged with CLI flags) into a frozen AgentConfig. Throws ConfigError. */
export function loadAgentConfig(env: Env = process.env, opts: LoadAgentConfigOptions = {}): LoadedConfig<AgentConfig> {
  const { config, unknown } = loadConfig(agentEnvSchema, env);
  requireRedis(config, { required: !opts.embedded && !opts.probe });
  checkHeartbeatConfig(config);
  const defaults: CameraDefaults = {
    size: config.FRAMECAST_SIZE,
    fps: config.FRAMECAST_FPS,
    quality: config.FRAMECAST_QUALITY,
    stallTimeoutMs: config.FRAMECAST_SOURCE_STALL_TIMEOUT_MS,
    mjpegPassthrough: config.FRAMECAST_MJPEG_PASSTHROUGH,
  };
  let cameras: CameraConfig[];
  if (config.FRAMECAST_CONFIG) {
    // Two places naming cameras would leave the operator guessing which one runs.
    for (const variable of ['FRAMECAST_ROOM', 'FRAMECAST_SOURCE'] as const) {
      if (env[variable]?.trim()) throw new ConfigError(variable, 'cannot be combined with FRAMECAST_CONFIG: list the cameras in the config file');
    }
    cameras = camerasFromFile(config.FRAMECAST_CONFIG, defaults);
  } else {
    cameras = [resolveCamera({ ...defaults, room: config.FRAMECAST_ROOM, source: v.parse(sourceText, config.FRAMECAST_SOURCE) })];
  }
  return { config: Object.freeze({ ...config, cameras: Object.freeze(cameras.map((c) => Object.freeze(c))) }), unknown };
}
