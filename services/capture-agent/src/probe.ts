import type { Logger } from '@framecast/logging';
import type { CameraConfig } from './config/camera-config.ts';
import { readJpegSize } from './sources/jpeg/jpeg-size.ts';
import type { CapturedFrame, DeliveryMode, InputInfo, RunContext, RunEnd, SourceDropReason } from './sources/frame-source.ts';
import { runStarter, type SourceRuntime } from './sources/run-factory.ts';

/** What a camera delivered during a probe: enough to set it up, or the reason it could not open. */
export interface ProbeReport {
  camera: string;
  room: string;
  source: string;
  ok: boolean;
  error: string | null;
  mode: DeliveryMode | null;
  input: InputInfo | null;
  frames: number;
  /** Frames per second the source delivered (after ffmpeg's cap for encoded sources). */
  fps: number | null;
  width: number | null;
  height: number | null;
  meanFrameBytes: number | null;
  dropped: Partial<Record<SourceDropReason, number>>;
  configured: { size: string; fps: number; quality: number };
}

/**
 * Opens each camera's source exactly as the agent would (same probe, same ffmpeg command, same
 * parser), collects frames for `seconds` after the first one, reports, and stops. Nothing is
 * published. Cameras are probed at the same time, each on its own.
 */
export function probeCameras(cameras: readonly CameraConfig[], runtime: SourceRuntime, seconds: number, logger: Logger): Promise<ProbeReport[]> {
  return Promise.all(cameras.map((c) => probeCamera(c, runtime, seconds, logger.child({ camera: c.name }))));
}

async function probeCamera(camera: CameraConfig, runtime: SourceRuntime, seconds: number, logger: Logger): Promise<ProbeReport> {
  let n = 0;
  let firstFrame: CapturedFrame | null = null;
  let firstAt = 0;
  let lastAt = 0;
  let bytes = 0;
  let mode: DeliveryMode | null = null;
  let input: InputInfo | null = null;
  const dropped: Partial<Record<SourceDropReason, number>> = {};
  let gotFirst!: () => void;
  const first = new Promise<void>((r) => (gotFirst = r));
  const ctx: RunContext = {
    logger,
    frame: (f) => {
      const now = performance.now();
      // Only the first frame is kept (for its size); the rest are counted.
      if (n++ === 0) {
        firstAt = now;
        firstFrame = f;
        gotFirst();
      }
      lastAt = now;
      bytes += f.jpeg.length;
    },
    dropped: (reason, count = 1) => {
      dropped[reason] = (dropped[reason] ?? 0) + count;
    },
    describe: (m, i) => {
      mode = m;
      input = i ?? null;
    },
    process: () => {},
  };
  const run = runStarter(camera, runtime)(ctx);
  const timeout = (ms: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
  let error: string | null = null;
  const opened = await Promise.race([first.then(() => 'frame' as const), run.ended, timeout(camera.stallTimeoutMs)]);
  if (opened === 'timeout') error = `no frame within ${camera.stallTimeoutMs} ms`;
  else if (opened !== 'frame') error = (opened as RunEnd).cause;
  else {
    const end = await Promise.race([run.ended, timeout(seconds * 1000)]);
    if (end !== 'timeout' && n < 2) error = end.cause;
  }
  await run.stop();

  const size = firstFrame ? readJpegSize((firstFrame as CapturedFrame).jpeg) : null;
  const spanS = (lastAt - firstAt) / 1000;
  return {
    camera: camera.name,
    room: camera.room,
    source: camera.sourceText,
    ok: error === null && n > 0,
    error,
    mode,
    input,
    frames: n,
    fps: n > 1 && spanS > 0 ? Math.round(((n - 1) / spanS) * 10) / 10 : null,
    width: size?.width ?? null,
    height: size?.height ?? null,
    meanFrameBytes: n > 0 ? Math.round(bytes / n) : null,
    dropped,
    configured: { size: `${camera.size.width}x${camera.size.height}`, fps: camera.fps, quality: camera.quality },
  };
}

/** One line per camera for a person setting a camera up. */
export function formatProbeReport(r: ProbeReport): string {
  if (!r.ok) {
    // ffmpeg's errors usually start with the path or URL already; do not print it twice.
    const error = r.error ?? 'no frames';
    return error.startsWith(r.source.replace(/^(v4l2|file):/, '')) ? `${r.camera}: FAILED ${error}` : `${r.camera}: FAILED ${r.source}: ${error}`;
  }
  const i = r.input;
  const offered = i ? [i.codec, i.width && i.height ? `${i.width}x${i.height}` : null, i.fps ? `${i.fps} fps` : null].filter(Boolean).join(' ') : '?';
  const drops = Object.entries(r.dropped).map(([k, v]) => `${k} ${v}`);
  return (
    `${r.camera}: ok ${r.source}: source ${offered}${i?.detail ? ` (${i.detail})` : ''} → ${r.mode} ` +
    `${r.width}x${r.height}, ${r.fps ?? '?'} fps, ${((r.meanFrameBytes ?? 0) / 1024).toFixed(1)} KB/frame over ${r.frames} frames` +
    `${drops.length ? `, dropped: ${drops.join(', ')}` : ''} (configured ${r.configured.size} @ ${r.configured.fps} fps)`
  );
}
