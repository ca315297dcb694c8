/** One encoded frame as a source produced it, before it is wrapped in an envelope. */
export interface CapturedFrame {
  jpeg: Buffer;
  width: number;
  height: number;
  /** nowMicros() at the moment the frame was produced: the start of the latency measurement. */
  captureTimeUs: number;
  /** Envelope flags, e.g. FrameFlags.Synthetic for generated pictures. */
  flags: number;
}

export type FrameSink = (frame: CapturedFrame) => void;

/** Something that produces JPEG frames at its own pace until stopped. */
export interface FrameSource {
  readonly name: string;
  start(sink: FrameSink): void;
  /** Stops producing; resolves once nothing more will reach the sink (child processes gone). */
  stop(): Promise<void>;
  /** Source-specific counters (frames, skipped ticks, restarts...). */
  stats(): Record<string, number>;
}
