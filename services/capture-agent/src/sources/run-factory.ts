import type { CameraConfig } from '../camera-config.ts';
import { isFfmpegSpec } from './ffmpeg-plan.ts';
import { startFfmpegRun } from './ffmpeg-run.ts';
import type { RunContext, RunEnd, SourceRun, StartRun } from './frame-source.ts';
import { startHttpMjpegRun } from './http-mjpeg-run.ts';
import { TestPatternSource } from './test-pattern.ts';

/** Agent-wide settings the sources need besides the camera's own. */
export interface SourceRuntime {
  ffmpegPath: string;
  ffprobePath: string;
  maxFrameBytes: number;
}

/** How each run of a camera's source starts, by the kind of source. */
export function runStarter(camera: CameraConfig, rt: SourceRuntime): StartRun {
  const { source, size, fps, quality } = camera;
  // A probe that takes longer than the stall timeout would be declared stalled anyway.
  const probeTimeoutMs = Math.max(1000, camera.stallTimeoutMs - 500);
  if (isFfmpegSpec(source)) {
    return (ctx) =>
      startFfmpegRun(ctx, {
        spec: source,
        output: { width: size.width, height: size.height, fps, quality },
        mjpegPassthrough: camera.mjpegPassthrough,
        ffmpegPath: rt.ffmpegPath,
        ffprobePath: rt.ffprobePath,
        probeTimeoutMs,
        maxFrameBytes: rt.maxFrameBytes,
      });
  }
  if (source.kind === 'http-mjpeg') {
    return (ctx) => startHttpMjpegRun(ctx, { url: source.url, maxFrameBytes: rt.maxFrameBytes, idleTimeoutMs: Math.min(5000, probeTimeoutMs) });
  }
  return (ctx) => startTestPatternRun(ctx, camera);
}

/** The JS test pattern never fails; a run lasts until it is stopped. */
function startTestPatternRun(ctx: RunContext, camera: CameraConfig): SourceRun {
  const { size, fps, quality } = camera;
  const src = new TestPatternSource({ width: size.width, height: size.height, fps, quality, logger: ctx.logger });
  ctx.describe('generate', { codec: 'testsrc (sharp)', width: size.width, height: size.height, fps });
  src.start((frame) => ctx.frame(frame));
  return { ended: new Promise<RunEnd>(() => {}), stop: () => src.stop() };
}
