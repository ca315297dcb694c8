import { envField, loadConfig, z, type Env, type LoadedConfig } from '@framecast/config';
import { isValidRoomName, ROOM_NAME_RULE } from '@framecast/protocol';

export const AGENT_SOURCES = ['testsrc', 'ffmpeg:testsrc'] as const;
export type AgentSource = (typeof AGENT_SOURCES)[number];

export interface FrameSize {
  width: number;
  height: number;
}

// Even dimensions keep 4:2:0 chroma subsampling exact (ffmpeg's encoders insist on it); the
// upper bounds are 4K UHD, far above what a JPEG-over-websocket stream can carry at any fps.
const SIZE_BOUNDS = { minWidth: 16, maxWidth: 3840, minHeight: 16, maxHeight: 2160 } as const;

const sizeField = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx): FrameSize => {
      const m = /^(\d{1,5})x(\d{1,5})$/.exec(value);
      const width = m ? Number(m[1]) : NaN;
      const height = m ? Number(m[2]) : NaN;
      const b = SIZE_BOUNDS;
      if (!m || width % 2 !== 0 || height % 2 !== 0 || width < b.minWidth || width > b.maxWidth || height < b.minHeight || height > b.maxHeight) {
        ctx.addIssue({
          code: 'custom',
          message: `must be WIDTHxHEIGHT with even numbers, width ${b.minWidth}-${b.maxWidth}, height ${b.minHeight}-${b.maxHeight}`,
        });
        return z.NEVER;
      }
      return { width, height };
    });

/**
 * The agent's whole configuration: every key is an environment variable (CLI flags are mapped
 * onto these names before validation, see cli-args.ts), validated once at start-up.
 */
export const agentEnvSchema = z.object({
  FRAMECAST_ROOM: z.string().default('lobby').refine(isValidRoomName, `must be a valid room name: ${ROOM_NAME_RULE}`),
  FRAMECAST_SOURCE: z.enum(AGENT_SOURCES, { message: `must be one of ${AGENT_SOURCES.join(', ')}` }).default('testsrc'),
  FRAMECAST_FPS: envField.int(1, 60, 15),
  FRAMECAST_SIZE: sizeField('640x360'),
  /** JPEG quality 1–100 (mapped onto ffmpeg's -q:v 31–2 for ffmpeg sources). */
  FRAMECAST_QUALITY: envField.int(1, 100, 80),
  /** Expiry of video_<room>:last: a dead agent's last frame stops being shown to new viewers after this. */
  FRAMECAST_LAST_FRAME_TTL_MS: envField.ms(100, 3_600_000, 10_000),
  /** A frame bigger than this is dropped and counted (a runaway or corrupt source stream). */
  FRAMECAST_MAX_FRAME_BYTES: envField.bytes(1024, 16 * 1024 * 1024, 4 * 1024 * 1024),
  FRAMECAST_FFMPEG_PATH: envField.string('ffmpeg'),
  /** Interval of the "capture agent stats" log line; 0 turns it off. */
  FRAMECAST_STATS_INTERVAL_MS: envField.ms(0, 3_600_000, 60_000),
  /** Graceful shutdown deadline: the source stopped, the bus closed, then exit regardless. */
  FRAMECAST_SHUTDOWN_TIMEOUT_MS: envField.ms(100, 60_000, 5_000),
  REDIS_URL: envField.redisUrl(),
  LOG_LEVEL: envField.logLevel(),
});

/** REDIS_URL is optional only for the embedded runner, which hands the agent an in-memory bus. */
export type AgentConfig = Omit<z.infer<typeof agentEnvSchema>, 'REDIS_URL'> & { REDIS_URL?: string | undefined };

export interface LoadAgentConfigOptions {
  /** The standalone CLI needs Redis (default true); the embedded runner does not. */
  requireRedisUrl?: boolean;
}

/** Validates `env` (process env merged with CLI flags) into a frozen AgentConfig. Throws ConfigError. */
export function loadAgentConfig(env: Env = process.env, opts: LoadAgentConfigOptions = {}): LoadedConfig<AgentConfig> {
  const schema = (opts.requireRedisUrl ?? true) ? agentEnvSchema : agentEnvSchema.partial({ REDIS_URL: true });
  return loadConfig(schema, env);
}
