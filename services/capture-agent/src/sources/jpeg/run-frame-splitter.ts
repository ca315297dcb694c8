import { nowMicros } from '@framecast/protocol';
import type { RunContext } from '../frame-source.ts';
import { readJpegSize } from './jpeg-size.ts';
import { JpegStreamSplitter } from './jpeg-splitter.ts';

export interface RunFrameSplitterOptions {
  maxFrameBytes: number;
  /**
   * The size every frame has (ffmpeg encoding to the configured size), or absent when the
   * camera chose it and each frame's own header says it (passthrough, HTTP MJPEG).
   */
  size?: { width: number; height: number } | undefined;
  /** Envelope flags for every frame (FrameFlags.Synthetic for generated pictures). */
  flags: number;
}

/**
 * The JPEG splitter wired to a run: each complete JPEG becomes a CapturedFrame, each JPEG given
 * up on a drop. One copy for the ffmpeg pipe and the HTTP MJPEG body, so both stamp capture
 * time and count bad frames the same way.
 */
export function runFrameSplitter(ctx: RunContext, o: RunFrameSplitterOptions): JpegStreamSplitter {
  return new JpegStreamSplitter({
    maxFrameBytes: o.maxFrameBytes,
    onDrop: (reason) => ctx.dropped(reason),
    onFrame: (jpeg, envelope) => {
      // The camera chose the size; a frame whose header cannot be read is not a frame.
      const size = o.size ?? readJpegSize(jpeg);
      if (!size) return ctx.dropped('corrupt');
      // The frame left the source a moment ago; this is the earliest instant we see it.
      ctx.frame({ jpeg, envelope, width: size.width, height: size.height, captureTimeUs: nowMicros(), flags: o.flags });
    },
  });
}
