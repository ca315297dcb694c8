import type { Logger } from '@framecast/logging';

/** One encoded frame as a source produced it, before it is wrapped in an envelope. */
export interface CapturedFrame {
  jpeg: Buffer;
  width: number;
  height: number;
  /** nowMicros() at the moment the frame was produced: the start of the latency measurement. */
  captureTimeUs: number;
  /** Envelope flags, e.g. FrameFlags.Synthetic for generated pictures. */
  flags: number;
  /**
   * Optional: a buffer with ENVELOPE_HEADER_V1_BYTES of free space followed by `jpeg` (the same
   * memory). The publisher writes the header there once instead of allocating an envelope, and
   * clears the field so a republished frame never rewrites bytes a socket may still hold.
   */
  envelope?: Buffer | undefined;
}

/**
 * Why a frame from the source never reached the publisher:
 * - rate: the camera is faster than the configured fps (dropped by ffmpeg or by the agent);
 * - truncated / corrupt / oversized: the JPEG parser rejected it.
 */
export type SourceDropReason = 'rate' | 'truncated' | 'corrupt' | 'oversized';

/** How a run delivers frames: the camera's own JPEGs, re-encoded ones, or generated ones. */
export type DeliveryMode = 'passthrough' | 'encode' | 'generate';

/** What the source offers, as far as a probe could tell. */
export interface InputInfo {
  codec?: string | undefined;
  width?: number | undefined;
  height?: number | undefined;
  fps?: number | undefined;
  /** Free text: a content type, the formats a V4L2 device lists... */
  detail?: string | undefined;
}

/** Callbacks a run reports through; the supervisor ignores a run's calls once it has ended. */
export interface RunContext {
  readonly logger: Logger;
  frame(frame: CapturedFrame): void;
  dropped(reason: SourceDropReason, count?: number): void;
  /** Tells how this run delivers frames (logged once per run, shown by probe and /healthz). */
  describe(mode: DeliveryMode, input?: InputInfo): void;
  /** An ffmpeg process for this camera started (pid) or ended (null). */
  process(pid: number | null): void;
}

/** Why a run ended by itself: `ended` = the stream finished, `failed` = it broke or never opened. */
export interface RunEnd {
  reason: 'ended' | 'failed';
  /** One line fit for an operator: "rtsp://cam/x: Connection refused". */
  cause: string;
}

/** One attempt at reading a source, from opening it to its end. */
export interface SourceRun {
  /** Settles when the run ends by itself; never rejects. */
  readonly ended: Promise<RunEnd>;
  /** Ends the run (kills ffmpeg, aborts the request); resolves once nothing more is reported. */
  stop(): Promise<void>;
}

export type StartRun = (ctx: RunContext) => SourceRun;
