/**
 * Caps a source's frame rate by dropping frames that come faster than `fps` (a token bucket).
 * Frames that ffmpeg re-encodes are already capped by ffmpeg itself; this is for the camera's own
 * JPEGs passed through (MJPEG over HTTP, V4L2 or files in passthrough), where nothing upstream
 * drops. A bucket of two frames absorbs pipe and network jitter, so a camera at exactly `fps`
 * loses nothing, while a camera at twice `fps` keeps every other frame, evenly spaced.
 */
export class FrameRateLimiter {
  private tokens: number;
  private last: number;

  private readonly fps: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(fps: number, burst = 2, now: () => number = () => performance.now()) {
    this.fps = fps;
    this.burst = burst;
    this.now = now;
    this.tokens = burst;
    this.last = now();
  }

  /** True if a frame arriving now may pass. */
  accept(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.fps) / 1000);
    this.last = t;
    // The epsilon absorbs floating-point shortfalls (0.5 + 0.5 = 0.9999…), which would otherwise
    // drop a frame now and then from a camera running at exactly a multiple of the rate.
    if (this.tokens < 1 - 1e-9) return false;
    this.tokens -= 1;
    return true;
  }
}
