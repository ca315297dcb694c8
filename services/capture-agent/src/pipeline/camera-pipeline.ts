import type { FrameBus } from '@framecast/bus';
import type { Logger } from '@framecast/logging';
import { assertRoomName, nowMicros, VARIANT_NAMES } from '@framecast/protocol';
import type { CameraConfig } from '../config/camera-config.ts';
import type { SourceKind } from '../config/source-url.ts';
import type { DeliveryMode, InputInfo, SourceDropReason } from '../sources/frame-source.ts';
import { runStarter, type SourceRuntime } from '../sources/run-factory.ts';
import { SourceSupervisor, type RestartReason, type SourceState } from '../sources/supervisor.ts';
import { FrameRateLimiter } from './frame-rate-limiter.ts';
import { PublishedFrames, type LastPublishedFrame, type PublishedSums } from './published-frames.ts';
import { FramePublisher, type DropReason as PublishDropReason, type LastFrameStoreFailure, type PublisherStats } from './publisher.ts';
import { VariantPublisher, type VariantStats } from './variant-publisher.ts';

export type FrameDropReason = PublishDropReason | SourceDropReason;
export const FRAME_DROP_REASONS: readonly FrameDropReason[] = ['superseded', 'bus_down', 'stale', 'rate', 'truncated', 'corrupt', 'oversized'];

export interface PipelineRuntime extends SourceRuntime {
  lastFrameTtlMs: number;
  /** How often to check whether a variant is watched; 0: no variants. */
  variantCheckMs: number;
  restartDelayMs: number;
  maxRestartDelayMs: number;
}

/** A camera's state and counters: the publisher's (one slot, latest frame wins) plus the source's. */
export interface CameraStats extends Pick<PublisherStats, 'published' | 'publishFailures' | 'lastFrameStoreFailures' | 'lastFrameStoreProblem' | 'pending' | 'busUp' | 'nextSequence'> {
  camera: string;
  room: string;
  source: string;
  kind: SourceKind;
  state: SourceState;
  mode: DeliveryMode | null;
  input: InputInfo | null;
  /** Valid frames from the source (before the rate cap). */
  captured: number;
  /** Every frame that was not published, by reason (source, rate cap and publisher together). */
  dropped: Record<FrameDropReason, number>;
  /** Frames published per second over the last few seconds. */
  fps: number;
  /** The last published frame's size, null before the first. */
  lastFrame: LastPublishedFrame | null;
  /** Envelope bytes and capture→publish seconds summed over the `published` frames. */
  publishedSums: PublishedSums;
  lastFrameAgeMs: number | null;
  lastError: string | null;
  restarts: Record<RestartReason, number>;
  ffmpegPid: number | null;
  /** The camera's on-demand variants: watched or not, frames made, CPU spent on them. */
  variants: VariantStats[];
}

export interface PublishObserver {
  (camera: string, envelopeBytes: number, captureToPublishSeconds: number): void;
}

/**
 * One camera: its supervised source → rate cap → latest-frame-wins publisher → the bus. Cameras
 * share nothing but the bus, so one failing (or being restarted) never holds up another.
 */
export class CameraPipeline {
  private readonly publisher: FramePublisher;
  private readonly supervisor: SourceSupervisor;
  private readonly limiter: FrameRateLimiter;
  private captured = 0;
  private readonly sourceDrops: Record<SourceDropReason, number> = { rate: 0, truncated: 0, corrupt: 0, oversized: 0 };
  private readonly publishedFrames = new PublishedFrames();
  private readonly variants: VariantPublisher[];

  readonly camera: CameraConfig;

  constructor(
    camera: CameraConfig,
    bus: FrameBus,
    runtime: PipelineRuntime,
    logger: Logger,
    onPublished?: PublishObserver,
  ) {
    this.camera = camera;
    const log = logger.child({ camera: camera.name });
    const periodMs = 1000 / camera.fps;
    this.limiter = new FrameRateLimiter(camera.fps);
    this.variants =
      runtime.variantCheckMs > 0
        ? VARIANT_NAMES.map((variant) => new VariantPublisher({ bus, room: camera.room, variant, lastFrameTtlMs: runtime.lastFrameTtlMs, logger: log, checkEveryMs: runtime.variantCheckMs }))
        : [];
    this.publisher = new FramePublisher({
      bus,
      room: assertRoomName(camera.room),
      lastFrameTtlMs: runtime.lastFrameTtlMs,
      logger: log,
      // A frame kept through an outage is worth sending on reconnect only if the next one is not
      // about to replace it anyway; a few periods (at least 1 s) separates "current" from "old".
      maxStaleMs: Math.max(1000, 3 * periodMs),
      onPublished: (frame, bytes) => {
        const latencySeconds = (nowMicros() - frame.captureTimeUs) / 1e6;
        this.publishedFrames.record({ width: frame.width, height: frame.height, bytes: frame.jpeg.length }, bytes, latencySeconds);
        onPublished?.(camera.name, bytes, latencySeconds);
        for (const v of this.variants) v.offer(frame);
      },
    });
    this.supervisor = new SourceSupervisor({
      camera: camera.name,
      startRun: runStarter(camera, runtime),
      stallTimeoutMs: camera.stallTimeoutMs,
      restartDelayMs: runtime.restartDelayMs,
      maxRestartDelayMs: runtime.maxRestartDelayMs,
      logger: log,
      onFrame: (frame) => {
        this.captured++;
        if (this.limiter.accept()) this.publisher.offer(frame);
        else this.sourceDrops.rate++;
      },
      onDropped: (reason, count) => {
        this.sourceDrops[reason] += count;
      },
    });
  }

  start(): void {
    this.supervisor.start();
    for (const v of this.variants) v.start();
  }

  /** Stops the source (ffmpeg killed and reaped, request aborted), then the publisher. */
  async stop(): Promise<void> {
    for (const v of this.variants) v.stop();
    await this.supervisor.stop();
    await this.publisher.close();
  }

  stats(): CameraStats {
    const p: PublisherStats = this.publisher.stats();
    const s = this.supervisor.status();
    return {
      camera: this.camera.name,
      room: this.camera.room,
      source: this.camera.sourceText,
      kind: this.camera.source.kind,
      state: s.state,
      mode: s.mode,
      input: s.input,
      captured: this.captured,
      published: p.published,
      dropped: { ...p.dropped, ...this.sourceDrops },
      publishFailures: p.publishFailures,
      lastFrameStoreFailures: p.lastFrameStoreFailures,
      lastFrameStoreProblem: p.lastFrameStoreProblem,
      pending: p.pending,
      busUp: p.busUp,
      nextSequence: p.nextSequence,
      fps: this.publishedFrames.fps(),
      lastFrame: this.publishedFrames.lastFrame(),
      publishedSums: this.publishedFrames.totals(),
      lastFrameAgeMs: s.lastFrameAgeMs,
      lastError: s.lastError,
      restarts: s.restarts,
      ffmpegPid: s.ffmpegPid,
      variants: this.variants.map((v) => v.stats()),
    };
  }
}
