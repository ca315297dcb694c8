import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { redactUrl } from '../config/source-url.ts';
import type { RunContext, RunEnd, SourceRun } from './frame-source.ts';
import { boundaryOf, MultipartPartReader } from './jpeg/multipart-parts.ts';
import { runFrameSplitter } from './jpeg/run-frame-splitter.ts';

export interface HttpMjpegRunOptions {
  url: string;
  maxFrameBytes: number;
  /** No response, or no bytes, for this long and the run fails (a camera that hangs half-open). */
  idleTimeoutMs: number;
}

/**
 * An MJPEG-over-HTTP camera (multipart/x-mixed-replace, as most IP cameras and mjpg-streamer
 * serve it), read natively: no ffmpeg, no decoding. Every part must hold one complete JPEG; the
 * camera's bytes are published as they are (the envelope's size comes from the JPEG header).
 * Credentials in the URL are sent as HTTP basic auth and never logged.
 */
export function startHttpMjpegRun(ctx: RunContext, o: HttpMjpegRunOptions): SourceRun {
  const shown = redactUrl(o.url);
  let settle!: (end: RunEnd) => void;
  let done = false;
  const ended = new Promise<RunEnd>((resolve) => (settle = resolve));
  const finish = (reason: RunEnd['reason'], cause: string) => {
    if (done) return;
    done = true;
    settle({ reason, cause: `${shown}: ${cause}` });
  };

  const splitter = runFrameSplitter(ctx, { maxFrameBytes: o.maxFrameBytes, flags: 0 });

  const url = new URL(o.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  let req: ClientRequest;
  let closed: Promise<void>;
  try {
    req = request(url, { headers: { accept: 'multipart/x-mixed-replace, */*;q=0.1', 'user-agent': 'framecast-agent' }, timeout: o.idleTimeoutMs });
    closed = new Promise((resolve) => req.once('close', () => resolve()));
  } catch (err) {
    finish('failed', err instanceof Error ? err.message : String(err));
    return { ended, stop: async () => {} };
  }
  req.on('timeout', () => req.destroy(new Error(`no data for ${o.idleTimeoutMs} ms`)));
  req.on('error', (err: NodeJS.ErrnoException) => finish('failed', err.message || err.code || 'request failed'));
  req.on('response', (res: IncomingMessage) => {
    const problem = checkResponse(res);
    if (problem) {
      finish('failed', problem);
      res.resume();
      req.destroy();
      return;
    }
    const type = res.headers['content-type'] ?? '';
    const reader = new MultipartPartReader(boundaryOf(type), splitter);
    ctx.describe('passthrough', { codec: 'mjpeg', detail: type });
    res.on('data', (chunk: Buffer) => reader.push(chunk));
    res.on('end', () => finish('ended', 'the camera closed the stream'));
    res.on('error', (err) => finish('failed', err.message));
    res.on('aborted', () => finish('failed', 'the connection was cut'));
  });
  req.end();

  return {
    ended,
    async stop() {
      done = true;
      req.destroy();
      await closed;
    },
  };
}

/** Why a response is not an MJPEG stream, in one line; null when it is one. */
export function checkResponse(res: Pick<IncomingMessage, 'statusCode' | 'statusMessage' | 'headers'>): string | null {
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400) return `HTTP ${status} redirect to ${res.headers.location ?? '?'} (redirects are not followed: use the final URL)`;
  if (status === 401) return 'HTTP 401 Unauthorized (put the user and password in the URL: http://user:pass@host/...)';
  if (status !== 200) return `HTTP ${status} ${res.statusMessage ?? ''}`.trim();
  const type = (res.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/')) return null;
  if (type.startsWith('image/jpeg')) return 'answered a single image/jpeg (a snapshot URL), not an MJPEG stream: use the camera\'s stream URL';
  return `answered ${type.split(';')[0] || 'no content type'}, not an MJPEG stream (expected multipart/x-mixed-replace)`;
}
