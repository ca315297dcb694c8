import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { parseControlMessage, readHeader, EnvelopeError, nowMicros, type ControlMessage } from '@framecast/protocol';

export interface ReceivedFrame {
  sequence: number;
  captureTimeUs: number;
  width: number;
  height: number;
  receivedUs: number;
  bytes: number;
  sha1: string;
}

/** A real websocket viewer that records every frame it receives. */
export class TestViewer {
  readonly frames: ReceivedFrame[] = [];
  readonly control: ControlMessage[] = [];
  /** Every text message as received (control messages of any type, parsed or not). */
  readonly texts: string[] = [];
  closeCode: number | null = null;
  closeReason = '';
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;
  readonly connectedAt = Date.now();
  firstFrameAt: number | null = null;
  private readonly ws: WebSocket;

  readonly url: string;

  constructor(
    url: string,
    opts: { keepBytes?: boolean; hash?: boolean; protocols?: string[]; headers?: Record<string, string> } = {},
  ) {
    this.url = url;
    this.ws = new WebSocket(url, opts.protocols ?? [], { perMessageDeflate: false, headers: opts.headers });
    this.ws.binaryType = 'nodebuffer';
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
      }),
    );
    this.ws.on('error', () => {});
    const hash = opts.hash ?? true;
    this.ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        this.texts.push(data.toString());
        const msg = parseControlMessage(data.toString());
        if (msg) this.control.push(msg);
        return;
      }
      const buf = data as Buffer;
      const header = readHeader(buf);
      if (header instanceof EnvelopeError) throw header;
      if (this.firstFrameAt === null) this.firstFrameAt = Date.now();
      this.frames.push({
        sequence: header.sequence,
        captureTimeUs: header.captureTimeUs,
        width: header.width,
        height: header.height,
        receivedUs: nowMicros(),
        bytes: buf.byteLength,
        sha1: hash ? createHash('sha1').update(buf).digest('hex') : '',
      });
    });
  }

  /** The subprotocol the server selected ('' for none). */
  get protocol(): string {
    return this.ws.protocol;
  }

  /** Stops reading from the socket (TCP backpressure builds up on the server). */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  close(): void {
    this.ws.close();
  }

  /** Sends a message to the gateway (text unless a Buffer is given). */
  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  terminate(): void {
    this.ws.terminate();
  }

  get latenciesMs(): number[] {
    return this.frames.map((f) => (f.receivedUs - f.captureTimeUs) / 1000);
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
