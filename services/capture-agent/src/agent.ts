import type { FrameBus } from '@framecast/bus';
import type { Logger } from '@framecast/logging';
import { assertRoomName } from '@framecast/protocol';
import type { AgentConfig } from './config.ts';
import { FramePublisher, type PublisherStats } from './publisher.ts';
import { FfmpegSource } from './sources/ffmpeg-source.ts';
import type { FrameSource } from './sources/frame-source.ts';
import { TestPatternSource } from './sources/test-pattern.ts';

export interface CaptureAgentOptions {
  config: AgentConfig;
  /** The caller owns the bus: the agent publishes on it but never closes it. */
  bus: FrameBus;
  logger: Logger;
}

export interface CaptureAgentStats extends PublisherStats {
  room: string;
  source: string;
  /** Source-specific counters: frames, skippedTicks, restarts, oversized... */
  sourceStats: Record<string, number>;
}

export interface CaptureAgent {
  /** Stops the source (ffmpeg killed and reaped) and the publisher. Idempotent. */
  stop(): Promise<void>;
  stats(): CaptureAgentStats;
}

export function createSource(config: AgentConfig, logger: Logger): FrameSource {
  const { width, height } = config.FRAMECAST_SIZE;
  const common = { width, height, fps: config.FRAMECAST_FPS, quality: config.FRAMECAST_QUALITY };
  switch (config.FRAMECAST_SOURCE) {
    case 'testsrc':
      return new TestPatternSource({ ...common, logger: logger.child({ source: 'testsrc' }) });
    case 'ffmpeg:testsrc':
      return new FfmpegSource({
        ...common,
        maxFrameBytes: config.FRAMECAST_MAX_FRAME_BYTES,
        ffmpegPath: config.FRAMECAST_FFMPEG_PATH,
        logger: logger.child({ source: 'ffmpeg:testsrc' }),
      });
  }
}

/**
 * Runs one capture pipeline: source → latest-frame-wins publisher → bus. Used by the standalone
 * CLI (with a RedisFrameBus) and by the embedded runner (with a MemoryFrameBus).
 */
export async function startCaptureAgent({ config, bus, logger }: CaptureAgentOptions): Promise<CaptureAgent> {
  const room = assertRoomName(config.FRAMECAST_ROOM);
  const periodMs = 1000 / config.FRAMECAST_FPS;
  const publisher = new FramePublisher({
    bus,
    room,
    lastFrameTtlMs: config.FRAMECAST_LAST_FRAME_TTL_MS,
    logger,
    // A frame kept through an outage is worth sending on reconnect only if the next one is not
    // about to replace it anyway; a few periods (at least 1 s) separates "current" from "old".
    maxStaleMs: Math.max(1000, 3 * periodMs),
  });
  const source = createSource(config, logger);
  source.start((frame) => publisher.offer(frame));

  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= (async () => {
        await source.stop();
        await publisher.close();
      })();
      return stopping;
    },
    stats() {
      return { ...publisher.stats(), room, source: source.name, sourceStats: source.stats() };
    },
  };
}
