import type { CameraReport } from '@framecast/protocol';
import type { CameraStats } from '../pipeline/camera-pipeline.ts';

/** The running totals a report's means are differences of. */
interface Totals {
  frames: number;
  envelopeBytes: number;
  captureToPublishSeconds: number;
}

const NONE: Totals = { frames: 0, envelopeBytes: 0, captureToPublishSeconds: 0 };

/**
 * Turns the cameras' own numbers into heartbeat reports: fps from the pipelines, and bitrate, mean
 * frame size and mean capture→publish time from the change in each camera's published totals
 * since the previous heartbeat (sums the pipeline keeps anyway; nothing new is measured per
 * frame). Dropped frames count every frame lost on the way (superseded, bus down, stale, bad
 * JPEG), not the ones the fps cap discards on purpose.
 */
export class CameraReporter {
  private previous = new Map<string, Totals>();
  private previousAt = Date.now();

  private readonly stats: () => CameraStats[];

  constructor(stats: () => CameraStats[]) {
    this.stats = stats;
  }

  reports(): CameraReport[] {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.previousAt) / 1000);
    const next = new Map<string, Totals>();
    const reports = this.stats().map((s): CameraReport => {
      const totals: Totals = { frames: s.published, ...s.publishedSums };
      next.set(s.camera, totals);
      const before = this.previous.get(s.camera) ?? NONE;
      const dFrames = totals.frames - before.frames;
      const dBytes = totals.envelopeBytes - before.envelopeBytes;
      const dLatency = totals.captureToPublishSeconds - before.captureToPublishSeconds;
      const { rate: _onPurpose, ...lost } = s.dropped;
      return {
        room: s.room,
        fps: s.fps,
        width: s.lastFrame?.width ?? 0,
        height: s.lastFrame?.height ?? 0,
        bitrateBps: Math.round((Math.max(0, dBytes) * 8) / seconds),
        frameBytes: dFrames > 0 ? Math.round(dBytes / dFrames) : (s.lastFrame?.bytes ?? 0),
        captureToPublishMs: dFrames > 0 ? Math.round((dLatency / dFrames) * 10_000) / 10 : 0,
        droppedFrames: Object.values(lost).reduce((a, n) => a + n, 0),
        lastFrameAgeMs: s.lastFrameAgeMs === null ? -1 : Math.round(s.lastFrameAgeMs),
        busUp: s.busUp,
      };
    });
    this.previous = next;
    this.previousAt = now;
    return reports;
  }
}
