import type { CameraConfig } from '../config/camera-config.ts';
import { isFfmpegSpec } from './ffmpeg/ffmpeg-plan.ts';
import { startFfmpegRun } from './ffmpeg/ffmpeg-run.ts';
import type { StartRun } from './frame-source.ts';
import { startHttpMjpegRun } from './http-mjpeg-run.ts';
import { startTestPatternRun } from './test-pattern/test-pattern-run.ts';

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
  return (ctx) => startTestPatternRun(ctx, { width: size.width, height: size.height, fps, quality });
}
