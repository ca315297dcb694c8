import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '@framecast/logging';
import { FrameFlags, nowMicros } from '@framecast/protocol';
import { JpegStreamSplitter } from '../jpeg-splitter.ts';
import type { FrameSink, FrameSource } from './frame-source.ts';

export interface FfmpegSourceOptions {
  width: number;
  height: number;
  fps: number;
  quality: number;
  maxFrameBytes: number;
  ffmpegPath: string;
  logger: Logger;
  /** First restart delay; doubles per failed run up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** A run this long counts as healthy: the next failure restarts after the first delay again. */
  healthyRunMs?: number;
}

/** JPEG quality 1–100 onto ffmpeg's mjpeg qscale, 31 (worst) – 2 (best). */
export function qscaleForQuality(quality: number): number {
  return Math.round(31 - ((quality - 1) * 29) / 99);
}

export function ffmpegTestsrcArgs(o: Pick<FfmpegSourceOptions, 'width' | 'height' | 'fps' | 'quality'>): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'warning',
    '-re', // produce frames at the input's rate, like a camera, not as fast as possible
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`,
    '-an',
    // Full-range 4:2:0 as JPEG expects, converted explicitly: letting the encoder pick the
    // deprecated yuvj420p makes ffmpeg 5 print a swscaler warning on every start.
    '-vf',
    'scale=out_range=full:out_color_matrix=bt601,format=yuv420p',
    '-color_range',
    'pc',
    '-strict',
    'unofficial',
    '-f',
    'mjpeg',
    '-q:v',
    String(qscaleForQuality(o.quality)),
    // Write each frame out at once instead of waiting to fill the pipe's I/O buffer.
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

/**
 * `ffmpeg:testsrc`: ffmpeg's testsrc2 encoded to MJPEG on a pipe, split into frames by the JPEG
 * parser. ffmpeg is supervised: when it exits or cannot be started it is restarted with capped
 * exponential backoff. It cannot outlive the agent: stop() kills it, and if the agent dies
 * without stopping, ffmpeg's next write to the closed pipe fails (EPIPE) and it exits.
 */
export class FfmpegSource implements FrameSource {
  readonly name = 'ffmpeg:testsrc';
  private child: ChildProcess | null = null;
  private childExited: Promise<void> = Promise.resolve();
  private sink: FrameSink | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private readonly splitter: JpegStreamSplitter;
  private counters = { frames: 0, starts: 0, exits: 0 };

  constructor(private readonly opts: FfmpegSourceOptions) {
    this.splitter = new JpegStreamSplitter({
      maxFrameBytes: opts.maxFrameBytes,
      onFrame: (jpeg) => {
        this.counters.frames++;
        // The frame left ffmpeg's encoder a moment ago; this is the earliest instant we see it.
        const captureTimeUs = nowMicros();
        this.sink?.({ jpeg, width: opts.width, height: opts.height, captureTimeUs, flags: FrameFlags.Synthetic });
      },
    });
  }

  /** The running ffmpeg's pid (tests kill it to exercise the restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(sink: FrameSink): void {
    this.sink = sink;
    this.spawnFfmpeg();
  }

  async stop(): Promise<void> {
    this.sink = null;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    // ffmpeg finishes its current frame on SIGTERM; do not let a wedged one hold up shutdown.
    const hard = setTimeout(() => child.kill('SIGKILL'), 1000);
    await this.childExited;
    clearTimeout(hard);
  }

  stats(): Record<string, number> {
    const s = this.splitter.stats;
    return {
      ...this.counters,
      restarts: Math.max(0, this.counters.starts - 1),
      oversized: s.oversized,
      truncated: s.truncated,
      corrupt: s.corrupt,
      garbageBytes: s.garbageBytes,
    };
  }

  private spawnFfmpeg(): void {
    const { logger, ffmpegPath } = this.opts;
    const args = ffmpegTestsrcArgs(this.opts);
    const startedAt = Date.now();
    // A fresh stream starts with a fresh parser: a frame cut off by the last exit is discarded.
    this.splitter.reset();
    this.counters.starts++;
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let ended = false;
    let resolveExited!: () => void;
    this.childExited = new Promise((r) => (resolveExited = r));
    const onEnd = (how: string, detail: Record<string, unknown>) => {
      if (ended) return;
      ended = true;
      this.child = null;
      this.counters.exits++;
      resolveExited();
      if (this.sink === null) return; // stopping: no restart
      if (Date.now() - startedAt >= (this.opts.healthyRunMs ?? 5000)) this.failures = 0;
      const delay = Math.min((this.opts.restartDelayMs ?? 250) * 2 ** this.failures, this.opts.maxRestartDelayMs ?? 10_000);
      this.failures++;
      logger.warn({ ...detail, restartInMs: delay }, `ffmpeg ${how}; restarting`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (this.sink) this.spawnFfmpeg();
      }, delay);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        onEnd('could not be started', { err: `${ffmpegPath} not found: install ffmpeg or set FRAMECAST_FFMPEG_PATH` });
      } else if (child.pid === undefined) {
        onEnd('could not be started', { err: err.message });
      } else {
        logger.warn({ err: err.message, pid: child.pid }, 'ffmpeg process error');
      }
    });
    // 'close' (not 'exit') so the last stdout bytes are parsed before the restart resets the parser.
    child.once('close', (code, signal) => onEnd('exited', { code, signal }));
    if (child.pid !== undefined) logger.info({ pid: child.pid, args: args.join(' ') }, 'ffmpeg started');
    child.stdout!.on('data', (chunk: Buffer) => this.splitter.push(chunk));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (line.trim()) logger.warn({ pid: child.pid, ffmpeg: line.slice(0, 500) }, 'ffmpeg stderr');
    });
  }
}
