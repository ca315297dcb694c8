import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CameraStats } from '../pipeline/camera-pipeline.ts';
import { CameraReporter } from './camera-reports.ts';

function camera(over: Partial<CameraStats>): CameraStats {
  return {
    camera: 'cam',
    room: 'lobby',
    source: 'testsrc',
    kind: 'testsrc',
    state: 'streaming',
    mode: 'generate',
    input: null,
    captured: 0,
    published: 0,
    dropped: { superseded: 0, bus_down: 0, stale: 0, rate: 0, truncated: 0, corrupt: 0, oversized: 0 },
    publishFailures: 0,
    lastFrameStoreFailures: {},
    lastFrameStoreProblem: null,
    pending: 0,
    busUp: true,
    nextSequence: 0,
    fps: 0,
    lastFrame: null,
    publishedSums: { envelopeBytes: 0, captureToPublishSeconds: 0 },
    lastFrameAgeMs: null,
    lastError: null,
    restarts: { ended: 0, failed: 0, stalled: 0 },
    ffmpegPid: null,
    variants: [],
    ...over,
  };
}

afterEach(() => vi.useRealTimers());

describe('CameraReporter', () => {
  it("reports means over the interval from the change in the camera's published sums", () => {
    vi.useFakeTimers({ now: 0 });
    let stats = camera({});
    const reporter = new CameraReporter(() => [stats]);

    vi.setSystemTime(2000);
    stats = camera({
      published: 30,
      fps: 15,
      lastFrame: { width: 640, height: 360, bytes: 9_968 },
      publishedSums: { envelopeBytes: 300_000, captureToPublishSeconds: 0.3 },
      dropped: { superseded: 1, bus_down: 2, stale: 0, rate: 50, truncated: 1, corrupt: 0, oversized: 0 },
      lastFrameAgeMs: 12.4,
    });
    expect(reporter.reports()).toEqual([
      {
        room: 'lobby',
        fps: 15,
        width: 640,
        height: 360,
        bitrateBps: 1_200_000, // 300 kB in 2 s
        frameBytes: 10_000,
        captureToPublishMs: 10,
        droppedFrames: 4, // the fps cap's 50 are on purpose, not lost
        lastFrameAgeMs: 12,
        busUp: true,
      },
    ]);

    // The next beat sees only what was published since the previous one.
    vi.setSystemTime(3000);
    stats = camera({ ...stats, published: 40, publishedSums: { envelopeBytes: 350_000, captureToPublishSeconds: 0.35 } });
    expect(reporter.reports()[0]).toMatchObject({ bitrateBps: 400_000, frameBytes: 5_000, captureToPublishMs: 5 });
  });

  it('falls back to the last frame size, no latency, while nothing was published in the interval', () => {
    vi.useFakeTimers({ now: 0 });
    const stats = camera({ published: 5, lastFrame: { width: 320, height: 240, bytes: 4_000 }, publishedSums: { envelopeBytes: 20_160, captureToPublishSeconds: 0.05 } });
    const reporter = new CameraReporter(() => [stats]);
    reporter.reports();
    vi.setSystemTime(1000);
    expect(reporter.reports()[0]).toMatchObject({ bitrateBps: 0, frameBytes: 4_000, captureToPublishMs: 0, lastFrameAgeMs: -1 });
  });
});
