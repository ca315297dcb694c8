import type { SourceSpec } from '../../config/source-url.ts';
import type { DeliveryMode, InputInfo } from '../frame-source.ts';
import { encodeOutput, fileInput, globalArgs, passthroughOutput, rtspInput, testsrcInput, v4l2Input, type OutputSettings } from './ffmpeg-args.ts';
import { probeVideoInput } from './ffprobe.ts';
import { chooseV4l2Input, listV4l2Formats, type V4l2Choice } from './v4l2-formats.ts';

export type FfmpegSpec = Extract<SourceSpec, { kind: 'ffmpeg-testsrc' | 'file' | 'rtsp' | 'v4l2' }>;

export const isFfmpegSpec = (spec: SourceSpec): spec is FfmpegSpec =>
  spec.kind === 'ffmpeg-testsrc' || spec.kind === 'file' || spec.kind === 'rtsp' || spec.kind === 'v4l2';

export interface FfmpegPlanOptions {
  spec: FfmpegSpec;
  output: OutputSettings;
  mjpegPassthrough: boolean;
  ffmpegPath: string;
  ffprobePath: string;
  probeTimeoutMs: number;
}

/** A decided ffmpeg run: its command line and how it delivers frames. */
export interface FfmpegPlan {
  args: string[];
  mode: DeliveryMode;
  input: InputInfo | undefined;
}

/**
 * Looks at the source (ffprobe for files and RTSP, the format list for V4L2) and decides between
 * passing the camera's JPEGs through and decoding + encoding. Throws an Error whose message is the
 * cause when the source cannot be opened, so a dead camera is reported before ffmpeg even starts.
 */
export async function planFfmpegRun(o: FfmpegPlanOptions, signal?: AbortSignal): Promise<FfmpegPlan> {
  const { spec, output } = o;
  const probeOpts = { timeoutMs: o.probeTimeoutMs, signal };
  switch (spec.kind) {
    case 'ffmpeg-testsrc':
      return { args: ffmpegArgs(spec, output, false), mode: 'generate', input: { codec: 'lavfi testsrc2' } };
    case 'file':
    case 'rtsp': {
      const probeArgs = spec.kind === 'file' ? ['-i', spec.path] : rtspInput(spec.url);
      const input = await probeVideoInput(o.ffprobePath, probeArgs, probeOpts);
      const passthrough = o.mjpegPassthrough && input.codec === 'mjpeg' && input.width === output.width && input.height === output.height;
      return { args: ffmpegArgs(spec, output, passthrough), mode: passthrough ? 'passthrough' : 'encode', input };
    }
    case 'v4l2': {
      const formats = await listV4l2Formats(o.ffmpegPath, spec.device, probeOpts);
      const choice = chooseV4l2Input(formats, `${output.width}x${output.height}`, o.mjpegPassthrough);
      const detail = formats.map((f) => `${f.name} ${f.sizes === 'any' ? 'any size' : f.sizes.join(' ')}`).join('; ');
      return {
        args: ffmpegArgs(spec, output, choice),
        mode: choice.passthrough ? 'passthrough' : 'encode',
        input: { codec: choice.mjpeg ? 'mjpeg' : 'raw', width: output.width, height: output.height, fps: output.fps, detail },
      };
    }
  }
}

/**
 * The full command line for a decided run. For V4L2 the decision is the format choice; for the
 * other kinds whether to pass JPEGs through.
 */
export function ffmpegArgs(spec: FfmpegSpec, output: OutputSettings, decision: boolean | V4l2Choice): string[] {
  const passthrough = typeof decision === 'boolean' ? decision : decision.passthrough;
  let input: string[];
  switch (spec.kind) {
    case 'ffmpeg-testsrc':
      input = testsrcInput(output);
      break;
    case 'file':
      input = fileInput(spec.path);
      break;
    case 'rtsp':
      input = rtspInput(spec.url);
      break;
    case 'v4l2': {
      const choice = typeof decision === 'boolean' ? { mjpeg: decision, videoSize: `${output.width}x${output.height}` } : decision;
      input = v4l2Input({ device: spec.device, mjpeg: choice.mjpeg, videoSize: choice.videoSize, fps: output.fps });
      break;
    }
  }
  return [...globalArgs(), ...input, ...(passthrough ? passthroughOutput() : encodeOutput(output))];
}
