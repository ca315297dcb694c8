import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { FrameFlags } from '@framecast/protocol';
import type { RunContext, RunEnd, SourceRun } from '../frame-source.ts';
import { runFrameSplitter } from '../jpeg/run-frame-splitter.ts';
import { causeFromStderr, cleanFfmpegLine } from './ffmpeg-output.ts';
import { planFfmpegRun, type FfmpegPlan, type FfmpegPlanOptions } from './ffmpeg-plan.ts';

export interface FfmpegRunOptions extends FfmpegPlanOptions {
  maxFrameBytes: number;
}

/** stderr lines logged per window: a camera spewing decode errors must not flood the journal. */
const STDERR_LINES_PER_WINDOW = 10;
const STDERR_WINDOW_MS = 30_000;
/** stderr lines kept to explain an exit. */
const STDERR_KEPT = 8;

/**
 * One ffmpeg run for a camera: probe the source, spawn ffmpeg writing MJPEG to a pipe, split the
 * pipe into JPEGs, count ffmpeg's rate drops from its progress output (fd 3), and report the
 * end with the last stderr line as the cause. ffmpeg cannot outlive the agent: stop() kills it,
 * and if the agent dies without stopping, ffmpeg's next write to the closed pipe fails (EPIPE).
 */
export function startFfmpegRun(ctx: RunContext, o: FfmpegRunOptions): SourceRun {
  const abort = new AbortController();
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;
  let settle!: (end: RunEnd) => void;
  const ended = new Promise<RunEnd>((resolve) => (settle = resolve));

  const begun = (async () => {
    let plan: FfmpegPlan;
    try {
      plan = await planFfmpegRun(o, abort.signal);
    } catch (err) {
      if (!stopped) settle({ reason: 'failed', cause: err instanceof Error ? err.message : String(err) });
      return;
    }
    if (stopped) return;
    ctx.describe(plan.mode, plan.input);
    const spawned = spawnFfmpeg(ctx, o, plan, (end) => {
      if (!stopped) settle(end);
    });
    child = spawned.child;
    exited = spawned.exited;
  })();

  return {
    ended,
    async stop() {
      stopped = true;
      abort.abort();
      await begun;
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return exited;
      c.kill('SIGTERM');
      // ffmpeg finishes its current frame on SIGTERM; do not let a wedged one hold up shutdown.
      const hard = setTimeout(() => c.kill('SIGKILL'), 1000);
      await exited;
      clearTimeout(hard);
    },
  };
}

function spawnFfmpeg(ctx: RunContext, o: FfmpegRunOptions, plan: FfmpegPlan, onEnd: (end: RunEnd) => void) {
  const { logger } = ctx;
  const splitter = runFrameSplitter(ctx, {
    maxFrameBytes: o.maxFrameBytes,
    // Passed-through JPEGs have the camera's size; encoded ones the configured output size.
    size: plan.mode === 'passthrough' ? undefined : { width: o.output.width, height: o.output.height },
    flags: plan.mode === 'generate' ? FrameFlags.Synthetic : 0,
  });

  const child = spawn(o.ffmpegPath, plan.args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let resolveExited!: () => void;
  const exited = new Promise<void>((r) => (resolveExited = r));
  const recent: string[] = [];
  let finished = false;
  const finish = (end: RunEnd) => {
    if (finished) return;
    finished = true;
    ctx.process(null);
    resolveExited();
    onEnd(end);
  };

  child.once('error', (err: NodeJS.ErrnoException) => {
    if (child.pid !== undefined) return void logger.warn({ err: err.message, pid: child.pid }, 'ffmpeg process error');
    const cause = err.code === 'ENOENT' ? `${o.ffmpegPath} not found: install ffmpeg or set FRAMECAST_FFMPEG_PATH` : `ffmpeg could not be started: ${err.message}`;
    finish({ reason: 'failed', cause });
  });
  // 'close' (not 'exit') so the last stdout bytes are parsed before the run is over.
  child.once('close', (code, signal) => {
    if (code === 0) finish({ reason: 'ended', cause: 'the stream ended (ffmpeg exited normally)' });
    else finish({ reason: 'failed', cause: causeFromStderr(recent, `ffmpeg exited with ${signal ?? `code ${code}`}`) });
  });
  if (child.pid === undefined) return { child, exited };

  ctx.process(child.pid);
  logger.info({ pid: child.pid, args: plan.args.map(cleanFfmpegLine).join(' ') }, 'ffmpeg started');
  child.stdout!.on('data', (chunk: Buffer) => splitter.push(chunk));

  // Progress blocks on fd 3 every second; drop_frames counts frames the -fps_mode/-r cap dropped.
  let droppedSoFar = 0;
  createInterface({ input: child.stdio[3] as NodeJS.ReadableStream }).on('line', (line) => {
    if (!line.startsWith('drop_frames=')) return;
    const total = Number(line.slice('drop_frames='.length));
    if (Number.isFinite(total) && total > droppedSoFar) {
      ctx.dropped('rate', total - droppedSoFar);
      droppedSoFar = total;
    }
  });

  let windowStart = Date.now();
  let logged = 0;
  let suppressed = 0;
  createInterface({ input: child.stderr! }).on('line', (raw) => {
    const line = cleanFfmpegLine(raw);
    if (!line) return;
    recent.push(line);
    if (recent.length > STDERR_KEPT) recent.shift();
    const now = Date.now();
    if (now - windowStart >= STDERR_WINDOW_MS) {
      if (suppressed > 0) logger.warn({ pid: child.pid, suppressed }, `ffmpeg stderr: ${suppressed} more lines not logged`);
      windowStart = now;
      logged = suppressed = 0;
    }
    if (logged < STDERR_LINES_PER_WINDOW) {
      logged++;
      logger.warn({ pid: child.pid, ffmpeg: line }, 'ffmpeg stderr');
    } else suppressed++;
  });
  return { child, exited };
}
