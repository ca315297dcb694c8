import type { FrameBus } from '@framecast/bus';
import type { Logger } from '@framecast/logging';
import { assertRoomName, nowMicros } from '@framecast/protocol';
import type { CameraConfig } from './camera-config.ts';
import type { SourceKind } from './source-url.ts';
import { FrameRateLimiter } from './frame-rate-limiter.ts';
import { FramePublisher, type DropReason as PublishDropReason, type LastFrameStoreFailure, type PublisherStats } from './publisher.ts';
import type { DeliveryMode, InputInfo, SourceDropReason } from './sources/frame-source.ts';
import { runStarter, type SourceRuntime } from './sources/run-factory.ts';
import { SourceSupervisor, type RestartReason, type SourceState } from './sources/supervisor.ts';

export type FrameDropReason = PublishDropReason | SourceDropReason;
export const FRAME_DROP_REASONS: readonly FrameDropReason[] = ['superseded', 'bus_down', 'stale', 'rate', 'truncated', 'corrupt', 'oversized'];

export interface PipelineRuntime extends SourceRuntime {
  lastFrameTtlMs: number;
  restartDelayMs: number;
  maxRestartDelayMs: number;
}

export interface CameraStats {
  camera: string;
  room: string;
  source: string;
  kind: SourceKind;
  state: SourceState;
  mode: DeliveryMode | null;
  input: InputInfo | null;
  /** Valid frames from the source (before the rate cap). */
  captured: number;
  published: number;
  /** Every frame that was not published, by reason (source, rate cap and publisher together). */
  dropped: Record<FrameDropReason, number>;
  publishFailures: number;
  /** Published frames whose last-frame SET failed, by reason (not drops: viewers got them). */
  lastFrameStoreFailures: Partial<Record<LastFrameStoreFailure, number>>;
  /** While the last-frame SETs fail, why; null while they work. */
  lastFrameStoreProblem: string | null;
  pending: number;
  busUp: boolean;
  nextSequence: number;
  /** Frames published per second over the last few seconds. */
  fps: number;
  /** The last published frame's size, null before the first. */
  lastFrame: { width: number; height: number; bytes: number } | null;
  lastFrameAgeMs: number | null;
  lastError: string | null;
  restarts: Record<RestartReason, number>;
  ffmpegPid: number | null;
}

export interface PublishObserver {
  (camera: string, envelopeBytes: number, captureToPublishSeconds: number): void;
}

/** Seconds of history behind CameraStats.fps. */
const FPS_WINDOW_S = 5;

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
  private lastFrame: CameraStats['lastFrame'] = null;
  /** Published frames per whole second, a small ring for the fps figure. */
  private readonly perSecond = new Array<number>(FPS_WINDOW_S + 1).fill(0);
  private perSecondAt = Math.floor(Date.now() / 1000);

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
    this.publisher = new FramePublisher({
      bus,
      room: assertRoomName(camera.room),
      lastFrameTtlMs: runtime.lastFrameTtlMs,
      logger: log,
      // A frame kept through an outage is worth sending on reconnect only if the next one is not
      // about to replace it anyway; a few periods (at least 1 s) separates "current" from "old".
      maxStaleMs: Math.max(1000, 3 * periodMs),
      onPublished: (frame, bytes) => {
        this.lastFrame = { width: frame.width, height: frame.height, bytes: frame.jpeg.length };
        this.countPublished();
        onPublished?.(camera.name, bytes, (nowMicros() - frame.captureTimeUs) / 1e6);
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
  }

  /** Stops the source (ffmpeg killed and reaped, request aborted), then the publisher. */
  async stop(): Promise<void> {
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
      fps: this.recentFps(),
      lastFrame: this.lastFrame,
      lastFrameAgeMs: s.lastFrameAgeMs,
      lastError: s.lastError,
      restarts: s.restarts,
      ffmpegPid: s.ffmpegPid,
    };
  }

  private countPublished(): void {
    this.roll();
    this.perSecond[this.perSecondAt % this.perSecond.length]!++;
  }

  /** Moves the ring to the current second, clearing the seconds that passed without frames. */
  private roll(): void {
    const sec = Math.floor(Date.now() / 1000);
    const n = this.perSecond.length;
    for (let s = Math.max(this.perSecondAt + 1, sec - n + 1); s <= sec; s++) this.perSecond[s % n] = 0;
    this.perSecondAt = Math.max(this.perSecondAt, sec);
  }

  /** Frames in the last FPS_WINDOW_S whole seconds (the current, partial one left out). */
  private recentFps(): number {
    this.roll();
    const n = this.perSecond.length;
    let sum = 0;
    for (let k = 1; k <= FPS_WINDOW_S; k++) sum += this.perSecond[(this.perSecondAt - k + n * 2) % n]!;
    return Math.round((sum / FPS_WINDOW_S) * 10) / 10;
  }
}
