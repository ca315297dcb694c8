import type { FrameBus } from '@framecast/bus';
import { packageVersion } from '@framecast/lifecycle';
import type { Logger } from '@framecast/logging';
import type { Registry } from 'prom-client';
import type { AgentConfig } from './config/config.ts';
import { AgentMetrics } from './metrics.ts';
import { CameraPipeline, type CameraStats } from './pipeline/camera-pipeline.ts';

/** The agent's package version: in heartbeats and in /healthz. */
export const AGENT_VERSION = packageVersion(new URL('../package.json', import.meta.url));

export interface CaptureAgentOptions {
  config: AgentConfig;
  /** The caller owns the bus: the agent publishes on it but never closes it. */
  bus: FrameBus;
  logger: Logger;
  /** Where the agent's metrics go (default: a registry of its own, with Node process metrics). */
  register?: Registry;
}

export interface CaptureAgentStats {
  busUp: boolean;
  cameras: CameraStats[];
}

/**
 * What /healthz answers: healthy while the bus is up and every camera streams. `busProblem` says
 * why the bus is down (a refused password, a Redis that stopped answering); `warnings` name what
 * degrades without stopping the video (last-frame SETs refused by a full Redis).
 */
export interface AgentHealth {
  ok: boolean;
  busUp: boolean;
  busProblem: string | null;
  warnings: string[];
  cameras: Array<Pick<CameraStats, 'camera' | 'room' | 'source' | 'state' | 'mode' | 'fps' | 'lastFrameAgeMs' | 'lastError' | 'restarts' | 'lastFrameStoreProblem'>>;
}

export interface CaptureAgent {
  /** Stops every camera (ffmpeg processes killed and reaped) and publisher. Idempotent. */
  stop(): Promise<void>;
  stats(): CaptureAgentStats;
  health(): AgentHealth;
  readonly metrics: AgentMetrics;
}

/**
 * Runs one pipeline per configured camera (source → rate cap → latest-frame-wins publisher →
 * bus), each failing and recovering on its own. Used by the standalone CLI (with a RedisFrameBus)
 * and by the embedded runner (with a MemoryFrameBus).
 */
export async function startCaptureAgent({ config, bus, logger, register }: CaptureAgentOptions): Promise<CaptureAgent> {
  let pipelines: CameraPipeline[] = [];
  const metrics = new AgentMetrics({
    ...(register ? { register, defaultMetrics: false } : {}),
    cameras: () => pipelines.map((p) => p.stats()),
    busUp: () => bus.isReady(),
  });
  const runtime = {
    ffmpegPath: config.FRAMECAST_FFMPEG_PATH,
    ffprobePath: config.FRAMECAST_FFPROBE_PATH,
    maxFrameBytes: config.FRAMECAST_MAX_SOURCE_FRAME_BYTES,
    lastFrameTtlMs: config.FRAMECAST_LAST_FRAME_TTL_MS,
    restartDelayMs: config.FRAMECAST_RESTART_DELAY_MS,
    maxRestartDelayMs: config.FRAMECAST_MAX_RESTART_DELAY_MS,
    variantCheckMs: config.FRAMECAST_VARIANT_CHECK_MS,
  };
  pipelines = config.cameras.map((camera) => new CameraPipeline(camera, bus, runtime, logger, (c, bytes, s) => metrics.observePublished(c, bytes, s)));
  for (const p of pipelines) p.start();

  let stopping: Promise<void> | null = null;
  const stats = (): CaptureAgentStats => ({ busUp: bus.isReady(), cameras: pipelines.map((p) => p.stats()) });
  return {
    metrics,
    stop() {
      stopping ??= Promise.all(pipelines.map((p) => p.stop())).then(() => {});
      return stopping;
    },
    stats,
    health() {
      const s = stats();
      const cameras = s.cameras.map(({ camera, room, source, state, mode, fps, lastFrameAgeMs, lastError, restarts, lastFrameStoreProblem }) => ({
        camera,
        room,
        source,
        state,
        mode,
        fps,
        lastFrameAgeMs,
        lastError,
        restarts,
        lastFrameStoreProblem,
      }));
      const warnings = cameras.flatMap((c) => (c.lastFrameStoreProblem ? [`camera ${c.camera}: last-frame store failing: ${c.lastFrameStoreProblem}`] : []));
      return { ok: s.busUp && cameras.every((c) => c.state === 'streaming'), busUp: s.busUp, busProblem: bus.problem(), warnings, cameras };
    },
  };
}
