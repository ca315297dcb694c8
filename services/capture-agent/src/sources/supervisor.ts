import type { Logger } from '@framecast/logging';
import type { CapturedFrame, DeliveryMode, InputInfo, RunContext, RunEnd, SourceDropReason, SourceRun, StartRun } from './frame-source.ts';

/** Why a camera's source was restarted: it finished, it broke, or it went quiet. */
export type RestartReason = RunEnd['reason'] | 'stalled';
export const RESTART_REASONS: readonly RestartReason[] = ['ended', 'failed', 'stalled'];

export type SourceState = 'starting' | 'streaming' | 'restarting' | 'stopped';

export interface SupervisorOptions {
  camera: string;
  startRun: StartRun;
  /**
   * No frame for this long and the run is restarted. A run that has not delivered its first
   * frame yet gets twice as long: opening a camera means probing it, connecting again and
   * waiting for a keyframe.
   */
  stallTimeoutMs: number;
  /** First restart delay; doubles per consecutive failure up to maxRestartDelayMs. */
  restartDelayMs: number;
  maxRestartDelayMs: number;
  /** A run that streamed this long was healthy: the next restart starts the backoff afresh. */
  healthyRunMs?: number;
  /** Already bound to the camera (a child logger with its `camera` field). */
  logger: Logger;
  onFrame: (frame: CapturedFrame) => void;
  onDropped: (reason: SourceDropReason, count: number) => void;
}

export interface SupervisorStatus {
  state: SourceState;
  mode: DeliveryMode | null;
  input: InputInfo | null;
  /** ms since the last frame, null before the first. */
  lastFrameAgeMs: number | null;
  /** The cause of the last restart, cleared once frames flow again. */
  lastError: string | null;
  consecutiveFailures: number;
  restarts: Record<RestartReason, number>;
  /** pid of the camera's ffmpeg while one runs. */
  ffmpegPid: number | null;
  runs: number;
}

/**
 * Keeps one camera's source running unattended: each run that ends, fails or stalls is logged
 * with its cause, counted by reason and replaced after a capped exponential backoff, so a dead
 * camera costs a retry every maxRestartDelayMs and a flapping one cannot spin the CPU. Runs are
 * sequential: a new one starts only after the last one's stop() resolved (its ffmpeg reaped).
 */
export class SourceSupervisor {
  private run: SourceRun | null = null;
  /** Identifies the current run; callbacks from older runs are ignored. */
  private runId = 0;
  private runStartedAt = 0;
  private firstFrameAt: number | null = null;
  private lastFrameAt: number | null = null;
  private state: SourceState = 'stopped';
  private mode: DeliveryMode | null = null;
  private input: InputInfo | null = null;
  private lastError: string | null = null;
  private failures = 0;
  private everStreamed = false;
  private downSince = 0;
  private ffmpegPid: number | null = null;
  private runs = 0;
  private readonly restarts: Record<RestartReason, number> = { ended: 0, failed: 0, stalled: 0 };
  private restartTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;

  private readonly opts: SupervisorOptions;

  constructor(opts: SupervisorOptions) {
    this.opts = opts;
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.downSince = Date.now();
    // A coarse periodic check rather than a timer re-armed on every frame: at 30 fps across
    // several cameras that would be thousands of timer updates a second for nothing.
    const every = Math.max(100, Math.min(1000, this.opts.stallTimeoutMs / 4));
    this.watchdog = setInterval(this.checkStall, every);
    this.launch();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.watchdog = this.restartTimer = null;
    const run = this.run;
    this.run = null;
    this.runId++;
    await run?.stop();
    this.ffmpegPid = null;
  }

  status(): SupervisorStatus {
    return {
      state: this.state,
      mode: this.mode,
      input: this.input,
      lastFrameAgeMs: this.lastFrameAt === null ? null : Date.now() - this.lastFrameAt,
      lastError: this.lastError,
      consecutiveFailures: this.failures,
      restarts: { ...this.restarts },
      ffmpegPid: this.ffmpegPid,
      runs: this.runs,
    };
  }

  private launch(): void {
    this.restartTimer = null;
    const id = ++this.runId;
    this.runs++;
    this.state = 'starting';
    this.runStartedAt = Date.now();
    this.firstFrameAt = null;
    const current = () => id === this.runId;
    const ctx: RunContext = {
      logger: this.opts.logger,
      frame: (frame) => {
        if (current()) this.onFrame(frame);
      },
      dropped: (reason, count = 1) => {
        if (current() && count > 0) this.opts.onDropped(reason, count);
      },
      describe: (mode, input) => {
        if (!current()) return;
        this.mode = mode;
        this.input = input ?? null;
        this.opts.logger.info({ mode, input }, `camera ${this.opts.camera}: source opened (${mode})`);
      },
      process: (pid) => {
        if (current() || pid === null) this.ffmpegPid = pid;
      },
    };
    const run = this.opts.startRun(ctx);
    this.run = run;
    void run.ended.then((end) => {
      if (!current()) return;
      this.run = null;
      this.runId++;
      this.ffmpegPid = null;
      this.scheduleRestart(end.reason, end.cause);
    });
  }

  private onFrame(frame: CapturedFrame): void {
    const now = Date.now();
    this.lastFrameAt = now;
    if (this.firstFrameAt === null) {
      this.firstFrameAt = now;
      this.state = 'streaming';
      const c = this.opts.camera;
      if (this.everStreamed) this.opts.logger.info({ downForMs: now - this.downSince, previousError: this.lastError }, `camera ${c}: streaming again`);
      else this.opts.logger.info({ startupMs: now - this.downSince }, `camera ${c}: streaming`);
      this.everStreamed = true;
      this.lastError = null;
    }
    this.opts.onFrame(frame);
  }

  private readonly checkStall = (): void => {
    if (!this.run || this.state === 'stopped') return;
    const opening = this.firstFrameAt === null;
    const limitMs = opening ? 2 * this.opts.stallTimeoutMs : this.opts.stallTimeoutMs;
    const quietMs = Date.now() - (opening ? this.runStartedAt : this.lastFrameAt!);
    if (quietMs < limitMs) return;
    const run = this.run;
    this.run = null;
    this.runId++;
    const cause = opening ? `no frame within ${limitMs} ms of opening the source` : `no frame for ${quietMs} ms`;
    // The restart is scheduled only once the stalled run is gone, so two ffmpegs never hold one device.
    void run.stop().then(() => {
      this.ffmpegPid = null;
      if (this.state !== 'stopped') this.scheduleRestart('stalled', cause);
    });
  };

  private scheduleRestart(reason: RestartReason, cause: string): void {
    if (this.state === 'stopped') return;
    const now = Date.now();
    const healthy = this.firstFrameAt !== null && now - this.firstFrameAt >= (this.opts.healthyRunMs ?? 10_000);
    if (healthy) this.failures = 0;
    if (this.state === 'streaming') this.downSince = now;
    const delay = Math.min(this.opts.restartDelayMs * 2 ** Math.min(this.failures, 30), this.opts.maxRestartDelayMs);
    this.failures++;
    this.restarts[reason]++;
    this.lastError = cause;
    this.state = 'restarting';
    const c = this.opts.camera;
    const fields = { reason, cause, restartInMs: delay, consecutiveFailures: this.failures, restarts: this.restarts[reason] };
    // One line naming the camera and the cause; an outright failure is an error, a stream that
    // ended or went quiet (camera rebooting, network blip) a warning.
    const line = `camera ${c}: ${reason === 'failed' ? '' : `${reason}: `}${cause}; restarting in ${delay} ms`;
    if (reason === 'failed') this.opts.logger.error(fields, line);
    else this.opts.logger.warn(fields, line);
    this.restartTimer = setTimeout(() => this.launch(), delay);
  }
}
