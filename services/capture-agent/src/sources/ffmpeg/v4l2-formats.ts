import { causeFromStderr, runCommand } from './ffmpeg-output.ts';

/** One pixel format a V4L2 device offers, as `ffmpeg -f v4l2 -list_formats all` prints it. */
export interface V4l2Format {
  kind: 'raw' | 'compressed';
  /** ffmpeg's name: mjpeg, yuyv422, h264... */
  name: string;
  /** Discrete sizes ("1280x720"), or 'any' for a stepwise/continuous range. */
  sizes: string[] | 'any';
}

const FORMAT_LINE = /(Raw|Compressed)\s*:\s*(\S+)\s+:\s+.*?\s+:((?:\s+(?:\d+x\d+|\{[^}]*\}x\{[^}]*\}))*)\s*$/;

/**
 * Reads ffmpeg's listing, e.g.
 *   [video4linux2,v4l2 @ 0x5581] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 1280x720
 *   [video4linux2,v4l2 @ 0x5581] Compressed:       mjpeg :          Motion-JPEG : 640x480 1280x720 1920x1080
 */
export function parseV4l2Formats(text: string): V4l2Format[] {
  const out: V4l2Format[] = [];
  for (const line of text.split('\n')) {
    const m = FORMAT_LINE.exec(line);
    if (!m) continue;
    const sizeText = m[3]!.trim();
    const sizes = sizeText.includes('{') ? 'any' : sizeText.split(/\s+/).filter(Boolean);
    out.push({ kind: m[1] === 'Raw' ? 'raw' : 'compressed', name: m[2]!, sizes });
  }
  return out;
}

export interface V4l2Choice {
  /** Ask for the camera's MJPEG. */
  mjpeg: boolean;
  /** The size to request, when the chosen format offers it. */
  videoSize: string | undefined;
  /** Copy the camera's JPEGs out unchanged (MJPEG at exactly the requested size). */
  passthrough: boolean;
}

const offers = (f: V4l2Format, size: string) => f.sizes === 'any' || f.sizes.includes(size);

/**
 * MJPEG at the requested size is passed through untouched: no decode, no encode, the camera's
 * own encoder did the work. Otherwise the format that offers the size is decoded and encoded;
 * failing that, MJPEG at the camera's default size (USB 2 carries raw HD only at a few fps),
 * scaled by ffmpeg; failing that, whatever raw size the driver settles on, scaled.
 */
export function chooseV4l2Input(formats: readonly V4l2Format[], size: string, passthroughAllowed: boolean): V4l2Choice {
  const mjpeg = formats.find((f) => f.name === 'mjpeg');
  if (mjpeg && offers(mjpeg, size)) return { mjpeg: true, videoSize: size, passthrough: passthroughAllowed };
  const raw = formats.find((f) => f.kind === 'raw' && offers(f, size));
  if (raw) return { mjpeg: false, videoSize: size, passthrough: false };
  if (mjpeg) return { mjpeg: true, videoSize: undefined, passthrough: false };
  return { mjpeg: false, videoSize: size, passthrough: false };
}

/** Lists a device's formats; throws an Error whose message is the cause (no device, no permission). */
export async function listV4l2Formats(ffmpegPath: string, device: string, opts: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<V4l2Format[]> {
  const res = await runCommand(ffmpegPath, ['-hide_banner', '-f', 'v4l2', '-list_formats', 'all', '-i', device], opts);
  const formats = parseV4l2Formats(res.stderr);
  if (formats.length > 0) return formats;
  if (res.signal === 'SIGKILL') throw new Error(`${device}: no answer within ${opts.timeoutMs} ms`);
  // ffmpeg always exits non-zero here ("Immediate exit requested"); no formats means the device
  // could not be opened, and the last line says why.
  throw new Error(causeFromStderr(res.stderr.split('\n'), `${device}: lists no video formats`));
}
