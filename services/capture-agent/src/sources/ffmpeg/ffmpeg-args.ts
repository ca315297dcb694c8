/**
 * ffmpeg command lines, one builder per source kind, kept apart from process handling so they
 * can be unit-tested (a V4L2 device in particular cannot be exercised here).
 */

export interface OutputSettings {
  width: number;
  height: number;
  fps: number;
  quality: number;
}

/** How long an RTSP socket read or write may block before ffmpeg gives up (a dead camera). */
export const RTSP_IO_TIMEOUT_MS = 5000;

/** JPEG quality 1–100 onto ffmpeg's mjpeg qscale, 31 (worst) – 2 (best). */
export function qscaleForQuality(quality: number): number {
  return Math.round(31 - ((quality - 1) * 29) / 99);
}

/** Options every run shares: quiet stderr (only problems), progress counters on fd 3. */
export function globalArgs(): string[] {
  return ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'warning', '-progress', 'pipe:3', '-stats_period', '1'];
}

export function testsrcInput(o: OutputSettings): string[] {
  // -re: produce frames at the input's rate, like a camera, not as fast as possible.
  return ['-re', '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`];
}

/** A recorded file played at its real rate, looping for ever (timestamps keep increasing). */
export function fileInput(path: string): string[] {
  return ['-re', '-stream_loop', '-1', '-i', path];
}

/**
 * RTSP over TCP (interleaved): no UDP ports to open through a firewall, no packet loss smearing
 * the picture. `-timeout` bounds every socket operation, so a camera that vanishes without
 * closing the connection makes ffmpeg exit within seconds instead of waiting for ever.
 */
export function rtspInput(url: string): string[] {
  // 1 s of stream analysis instead of ffmpeg's 5: the codec parameters come in the SDP, the frame
  // rate ffmpeg would guess is not needed (-r sets the output's), and both the probe and ffmpeg
  // analyse again on every reconnect. Measured on loopback: first frame after 1.25 s, not 2 s.
  return ['-rtsp_transport', 'tcp', '-timeout', String(RTSP_IO_TIMEOUT_MS * 1000), '-analyzeduration', '1000000', '-i', url];
}

export interface V4l2InputOptions {
  device: string;
  /** Ask the camera for MJPEG (its own JPEG encoder) instead of raw frames. */
  mjpeg: boolean;
  /** WxH to ask the driver for; omitted when the camera does not offer the size in this format. */
  videoSize?: string | undefined;
  fps: number;
}

export function v4l2Input(o: V4l2InputOptions): string[] {
  const args = ['-f', 'v4l2'];
  if (o.mjpeg) args.push('-input_format', 'mjpeg');
  if (o.videoSize) args.push('-video_size', o.videoSize);
  // The driver picks the nearest rate it supports; -fps_mode/-r on the output caps what we keep.
  args.push('-framerate', String(o.fps), '-i', o.device);
  return args;
}

/**
 * Decode, letterbox into exactly WxH (the aspect ratio kept, black bars where it differs), and
 * encode JPEG. `-fps_mode vfr -r FPS` drops frames that come faster than FPS before they are
 * encoded, and ffmpeg counts them (drop_frames in the progress output), so a 30 fps camera
 * configured for 10 costs a third of the encoding and the drops are reported.
 */
export function encodeOutput(o: OutputSettings): string[] {
  const { width: w, height: h } = o;
  // Full-range 4:2:0 converted explicitly: letting the encoder pick the deprecated yuvj420p
  // makes ffmpeg 5 print a swscaler warning on every start.
  const filter = `scale=${w}:${h}:force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=full:out_color_matrix=bt601,pad=${w}:${h}:-1:-1:color=black,format=yuv420p`;
  return [
    '-an',
    '-sn',
    '-dn',
    '-fps_mode',
    'vfr',
    '-r',
    String(o.fps),
    '-vf',
    filter,
    '-color_range',
    'pc',
    '-strict',
    'unofficial',
    '-c:v',
    'mjpeg',
    '-q:v',
    String(qscaleForQuality(o.quality)),
    ...pipeOutput(),
  ];
}

/** The camera's own JPEGs copied out unchanged: no decode, no encode (rate is capped by the agent). */
export function passthroughOutput(): string[] {
  return ['-an', '-sn', '-dn', '-c:v', 'copy', ...pipeOutput()];
}

function pipeOutput(): string[] {
  // Write each frame out at once instead of waiting to fill the pipe's I/O buffer.
  return ['-f', 'mjpeg', '-flush_packets', '1', 'pipe:1'];
}
