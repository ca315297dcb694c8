import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MjpegCameraOptions {
  /** JPEGs served in turn, looping. */
  frames: Buffer[];
  fps: number;
  boundary?: string;
  /** Every Nth part carries a JPEG cut off at 60 % (a camera losing bytes). */
  truncateEvery?: number;
  /** Each connection is cut (socket destroyed mid-stream) after this many parts. */
  dropAfter?: number;
  /** Answer something other than a stream: a content type and body (e.g. a login page). */
  answer?: { status: number; contentType: string; body: string };
}

/**
 * An MJPEG-over-HTTP camera on loopback, as mjpg-streamer and most IP cameras serve it:
 * multipart/x-mixed-replace, one JPEG per part with Content-Type and Content-Length headers.
 */
export class MjpegCamera {
  readonly sent = { parts: 0, truncated: 0, connections: 0, drops: 0 };
  private readonly streams = new Set<ServerResponse>();

  private readonly server: Server;
  readonly url: string;

  private constructor(server: Server, url: string) {
    this.server = server;
    this.url = url;
  }

  static async start(o: MjpegCameraOptions): Promise<MjpegCamera> {
    const boundary = o.boundary ?? 'framecastboundary';
    let cam!: MjpegCamera;
    const server = createServer((req, res) => {
      cam.sent.connections++;
      if (o.answer) {
        res.writeHead(o.answer.status, { 'content-type': o.answer.contentType }).end(o.answer.body);
        return;
      }
      res.writeHead(200, { 'content-type': `multipart/x-mixed-replace; boundary=${boundary}`, 'cache-control': 'no-cache' });
      cam.streams.add(res);
      let n = 0;
      const timer = setInterval(() => {
        const jpeg = o.frames[cam.sent.parts % o.frames.length]!;
        n++;
        cam.sent.parts++;
        const truncate = o.truncateEvery !== undefined && cam.sent.parts % o.truncateEvery === 0;
        const body = truncate ? jpeg.subarray(0, Math.floor(jpeg.length * 0.6)) : jpeg;
        if (truncate) cam.sent.truncated++;
        res.write(`--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${body.length}\r\n\r\n`);
        res.write(body);
        res.write('\r\n');
        if (o.dropAfter !== undefined && n >= o.dropAfter) {
          cam.sent.drops++;
          clearInterval(timer);
          res.socket?.destroy();
        }
      }, 1000 / o.fps);
      res.on('close', () => {
        clearInterval(timer);
        cam.streams.delete(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    cam = new MjpegCamera(server, `http://127.0.0.1:${port}/?action=stream`);
    return cam;
  }

  /** Whether `jpeg` is byte for byte one of the frames this camera serves whole. */
  static isOneOf(frames: Buffer[], jpeg: Buffer): boolean {
    return frames.some((f) => f.equals(jpeg));
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.socket?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
