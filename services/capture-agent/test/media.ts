import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A scratch folder for clips made during a test run. */
export function mediaDir(): string {
  return mkdtempSync(join(tmpdir(), 'framecast-media-'));
}

export interface ClipOptions {
  codec: 'h264' | 'mjpeg';
  width: number;
  height: number;
  fps: number;
  seconds: number;
  /** h264: keyframe interval in frames (RTSP clients start at a keyframe). */
  gop?: number;
}

/**
 * Makes a short test clip with ffmpeg (testsrc2: a moving picture with a frame counter), as an
 * H.264 .mp4 (what an IP camera records) or an MJPEG .avi (what a USB webcam delivers).
 */
export function makeClip(dir: string, name: string, o: ClipOptions): string {
  const path = join(dir, `${name}.${o.codec === 'h264' ? 'mp4' : 'avi'}`);
  const codec =
    o.codec === 'h264'
      ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(o.gop ?? o.fps), '-pix_fmt', 'yuv420p']
      : ['-c:v', 'mjpeg', '-q:v', '5', '-vf', 'format=yuvj420p'];
  const res = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`, '-t', String(o.seconds), ...codec, path],
    { encoding: 'utf8' },
  );
  if (res.status !== 0) throw new Error(`ffmpeg could not make ${path}: ${res.stderr}`);
  return path;
}

/** JPEG frames cut from an MJPEG clip (for an HTTP camera to serve). */
export function jpegFrames(dir: string, o: Omit<ClipOptions, 'codec' | 'gop'>): Buffer[] {
  const res = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`, '-t', String(o.seconds), '-c:v', 'mjpeg', '-q:v', '5', '-vf', 'format=yuvj420p', '-f', 'mjpeg', 'pipe:1'],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  if (res.status !== 0) throw new Error(`ffmpeg could not make frames: ${String(res.stderr)}`);
  const out: Buffer[] = [];
  const data = res.stdout;
  // ffmpeg's own MJPEG frames: SOI … EOI, with no EOI inside (no thumbnails); good enough here.
  let start = data.indexOf(Buffer.from([0xff, 0xd8]));
  while (start >= 0) {
    const end = data.indexOf(Buffer.from([0xff, 0xd9]), start);
    if (end < 0) break;
    out.push(Buffer.from(data.subarray(start, end + 2)));
    start = data.indexOf(Buffer.from([0xff, 0xd8]), end + 2);
  }
  return out;
}
