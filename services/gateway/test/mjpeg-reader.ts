import { jpegFrameSize } from '@framecast/protocol';
import { request, type IncomingHttpHeaders } from 'node:http';

export interface MjpegPart {
  sequence: number;
  captureTimeUs: number;
  receivedAt: number;
  jpeg: Buffer;
}

/**
 * A real MJPEG client (what an <img>, VLC or Home Assistant does): one GET, then the
 * multipart/x-mixed-replace body parsed part by part, each checked against its Content-Length.
 */
export class MjpegReader {
  readonly parts: MjpegPart[] = [];
  status = 0;
  headers: IncomingHttpHeaders = {};
  /** The body of a refused request (JSON), when the status is not 200. */
  body = '';
  ended = false;
  readonly response: Promise<number>;
  readonly closed: Promise<void>;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly abort = new AbortController();

  constructor(url: string, headers: Record<string, string> = {}) {
    let resolveClosed!: () => void;
    this.closed = new Promise((r) => (resolveClosed = r));
    this.response = new Promise((resolve, reject) => {
      const req = request(url, { headers, signal: this.abort.signal }, (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        resolve(this.status);
        res.on('data', (chunk: Buffer) => (this.status === 200 ? this.take(chunk) : (this.body += chunk.toString())));
        res.on('error', () => {});
        res.on('close', () => {
          this.ended = true;
          resolveClosed();
        });
      });
      req.on('error', (err) => {
        this.ended = true;
        resolveClosed();
        reject(err);
      });
      req.end();
    });
    this.response.catch(() => {});
  }

  private take(chunk: Buffer): void {
    this.buffer = this.buffer.byteLength === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headEnd = this.buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = this.buffer.subarray(0, headEnd).toString('latin1');
      if (!head.startsWith('--framecast\r\n')) throw new Error(`MJPEG part does not start with the boundary: ${JSON.stringify(head.slice(0, 40))}`);
      const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'mi').exec(head)?.[1];
      const length = Number(field('Content-Length'));
      if (!Number.isInteger(length)) throw new Error(`MJPEG part without a Content-Length: ${head}`);
      const start = headEnd + 4;
      if (this.buffer.byteLength < start + length + 2) return;
      if (this.buffer.toString('latin1', start + length, start + length + 2) !== '\r\n') throw new Error('MJPEG part not followed by CRLF');
      this.parts.push({
        sequence: Number(field('X-Frame-Sequence')),
        captureTimeUs: Number(field('X-Capture-Time-Us')),
        receivedAt: Date.now(),
        jpeg: Buffer.from(this.buffer.subarray(start, start + length)),
      });
      this.buffer = this.buffer.subarray(start + length + 2);
    }
  }

  close(): void {
    this.abort.abort();
  }
}

/** The width and height a JPEG's start-of-frame states (the protocol's reader); throws for anything else. */
export function jpegSize(jpeg: Buffer): { width: number; height: number } {
  const size = jpegFrameSize(jpeg);
  if (!size.ok) throw new Error(size.problem);
  return { width: size.width, height: size.height };
}
