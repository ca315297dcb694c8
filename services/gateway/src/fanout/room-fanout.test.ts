import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { decodeEnvelope, encodeEnvelope } from '@framecast/protocol';
import { MJPEG_BOUNDARY } from './mjpeg-part.ts';
import { frameOrder, imageOf, keepFrame, LATE_FRAME_WINDOW_MS, RoomFanout, SPLIT_WRITE_MAX_VIEWERS, wireBytes, wireOf, type KeptFrame } from './room-fanout.ts';
import { Viewer } from './viewer.ts';

// RoomFanout in-process, over real loopback TCP sockets: the server end is what the fan-out
// writes to, the client end is the viewer, which reads or (paused) does not.
interface Pair {
  server: Socket;
  client: Socket;
  received: () => number;
  /** Everything the client end has read. */
  bytes: () => Buffer;
}

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function socketPair(): Promise<Pair> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  const accepted = once(srv, 'connection') as Promise<[Socket]>;
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [server] = await accepted;
  srv.close();
  let bytes = 0;
  const chunks: Buffer[] = [];
  client.on('data', (d: Buffer) => {
    bytes += d.byteLength;
    chunks.push(d);
  });
  open.push({ close: () => (server.destroy(), client.destroy()) });
  return { server, client, received: () => bytes, bytes: () => Buffer.concat(chunks) };
}

let nextId = 1;
function viewerOn(pair: Pair, room: string): Viewer {
  return new Viewer(nextId++, room, 'websocket', pair.server, '127.0.0.1', {} as WebSocket);
}

function frame(sequence: number, bytes: number, receivedAt = Date.now(), captureTimeUs = 1_700_000_000_000_000 + sequence): KeptFrame {
  const envelope = encodeEnvelope({ sequence, captureTimeUs, width: 640, height: 480 }, Buffer.alloc(bytes, sequence & 0xff));
  return { ...keepFrame(decodeEnvelope(envelope).header, envelope), receivedAt };
}

describe('RoomFanout', () => {
  it('writes each frame once to every viewer that keeps up, the same bytes to all', async () => {
    const pairs = await Promise.all([socketPair(), socketPair(), socketPair()]);
    const fanout = new RoomFanout('r', { maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 }, () => {
      throw new Error('nobody stalls here');
    });
    pairs.forEach((p) => fanout.viewers.add(viewerOn(p, 'r')));
    let total = 0;
    for (let s = 0; s < 20; s++) {
      const f = frame(s, 1000);
      total += wireBytes(f);
      expect(fanout.deliver(f)).toEqual({ sent: 3, skipped: 0, thinned: 0 });
    }
    await Promise.all(pairs.map(async (p) => {
      while (p.received() < total) await once(p.client, 'data');
    }));
    expect(pairs.map((p) => p.received())).toEqual([total, total, total]);
  });

  it('holds at most one bound plus one frame for a viewer that stops reading, and reports it stalled after the timeout', async () => {
    const [reader, stalled] = await Promise.all([socketPair(), socketPair()]);
    stalled.client.pause();
    const stalledViewers: Viewer[] = [];
    const maxBufferedBytes = 256 * 1024;
    const frameBytes = 64 * 1024;
    const fanout = new RoomFanout('r', { maxBufferedBytes, stallTimeoutMs: 2000 }, (v) => stalledViewers.push(v));
    const readerViewer = viewerOn(reader, 'r');
    const stalledViewer = viewerOn(stalled, 'r');
    fanout.viewers.add(readerViewer);
    fanout.viewers.add(stalledViewer);

    // Frames on a clock the test controls (receivedAt), 100 ms apart: 40 MB offered in 60 s.
    const t0 = 1_000_000;
    let peakBuffered = 0;
    let readerBytes = 0;
    let n = 0;
    for (; n < 600; n++) {
      const f = frame(n, frameBytes, t0 + n * 100);
      fanout.deliver(f);
      readerBytes += wireBytes(f);
      peakBuffered = Math.max(peakBuffered, stalled.server.writableLength);
      // Let the reader drain, so only the stalled viewer is ever behind.
      while (reader.received() < readerBytes) await once(reader.client, 'data');
      if (stalledViewers.length > 0) break;
    }
    // The socket's user-space buffer never holds more than the bound plus one frame, however
    // much is offered (the kernel's buffers take some first, so skipping starts a little later).
    expect(peakBuffered).toBeLessThanOrEqual(maxBufferedBytes + frameBytes + 16);
    expect(stalledViewer.framesSkipped).toBeGreaterThan(0);
    expect(readerViewer.framesSkipped).toBe(0);
    expect(readerViewer.framesSent).toBe(n + 1);
    // Reported once the viewer has skipped every frame for the stall timeout on the frame clock.
    expect(stalledViewers).toEqual([stalledViewer]);
    const firstSkipped = n + 1 - stalledViewer.framesSkipped;
    expect((n - firstSkipped) * 100).toBeGreaterThanOrEqual(2000);
  });

  it('forgets a stall once the viewer takes a frame again', async () => {
    const pair = await socketPair();
    pair.client.pause();
    const stalledViewers: Viewer[] = [];
    const fanout = new RoomFanout('r', { maxBufferedBytes: 64 * 1024, stallTimeoutMs: 1000 }, (v) => stalledViewers.push(v));
    const v = viewerOn(pair, 'r');
    fanout.viewers.add(v);
    let t = 0;
    while (v.stalledSince === 0 && t < 100_000) fanout.deliver(frame(t, 60 * 1024, (t += 100)));
    expect(v.stalledSince).toBeGreaterThan(0);
    pair.client.resume();
    // No 'drain' to wait on: a write under the high-water mark returns true and emits none.
    while (pair.server.writableLength > 0) await once(pair.client, 'data');
    fanout.deliver(frame(t, 1000, (t += 100)));
    expect(v.stalledSince).toBe(0);
    expect(stalledViewers).toEqual([]);
  });

  it('writes nothing to a viewer that is closing', async () => {
    const pair = await socketPair();
    const fanout = new RoomFanout('r', { maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 }, () => {});
    const v = viewerOn(pair, 'r');
    v.closing = true;
    fanout.viewers.add(v);
    expect(fanout.deliver(frame(0, 100))).toEqual({ sent: 0, skipped: 0, thinned: 0 });
    expect(fanout.sendLatestTo(v, 10_000)).toBe(false);
    expect(v.framesSent).toBe(0);
  });

  it('sends the kept frame to a new viewer only while it is fresh', async () => {
    const pair = await socketPair();
    const fanout = new RoomFanout('r', { maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 }, () => {});
    const v = viewerOn(pair, 'r');
    expect(fanout.sendLatestTo(v, 10_000)).toBe(false);
    fanout.deliver(frame(0, 100, Date.now() - 5000));
    expect(fanout.sendLatestTo(v, 1000)).toBe(false);
    expect(fanout.sendLatestTo(v, 10_000)).toBe(true);
    expect(v.framesSent).toBe(1);
  });

  it('recognises the same frame seen twice (pub/sub and the store), and a frame older than the kept one', () => {
    const fanout = new RoomFanout('r', { maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 }, () => {});
    const f = frame(7, 10);
    const now = f.receivedAt;
    expect(fanout.orderOf(f.header, now)).toBe('new');
    fanout.deliver(f);
    expect(fanout.orderOf(f.header, now)).toBe('same');
    expect(fanout.orderOf({ ...f.header, sequence: 8, captureTimeUs: f.header.captureTimeUs + 1 }, now)).toBe('new');
    // A publish sent again after a failover: behind in sequence and capture time.
    expect(fanout.orderOf({ ...f.header, sequence: 6, captureTimeUs: f.header.captureTimeUs - 100_000 }, now)).toBe('late');
    // The same number with an older picture (a timed-out publish that landed after all).
    expect(fanout.orderOf({ ...f.header, captureTimeUs: f.header.captureTimeUs - 1 }, now)).toBe('late');
  });

  it('takes a frame behind on one measure only: a restarted publisher (sequence from 0), a clock set back, a sequence that wrapped', () => {
    const kept = frame(5000, 10).header;
    const t = kept.captureTimeUs;
    expect(frameOrder({ ...kept, sequence: 0, captureTimeUs: t + 1 }, kept, 0)).toBe('new');
    expect(frameOrder({ ...kept, sequence: 5001, captureTimeUs: t - 3_600_000_000 }, kept, 0)).toBe('new');
    const nearWrap = { ...kept, sequence: 0xffff_fffe };
    expect(frameOrder({ ...kept, sequence: 1, captureTimeUs: t + 1 }, nearWrap, 0)).toBe('new');
    expect(frameOrder({ ...kept, sequence: 1, captureTimeUs: t - 1 }, nearWrap, 0)).toBe('new');
    expect(frameOrder({ ...nearWrap, sequence: 0xffff_fff0, captureTimeUs: t - 1 }, nearWrap, 0)).toBe('late');
    // Both behind (a restart with a clock set back): refused only while the kept frame is recent.
    const both = { ...kept, sequence: 0, captureTimeUs: t - 1_000_000 };
    expect(frameOrder(both, kept, LATE_FRAME_WINDOW_MS)).toBe('late');
    expect(frameOrder(both, kept, LATE_FRAME_WINDOW_MS + 1)).toBe('new');
  });

  it('thins a capped viewer to its rate, evenly, with the newest frame, and leaves the others alone', async () => {
    const [capped, full] = await Promise.all([socketPair(), socketPair()]);
    const fanout = new RoomFanout('r', { maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 }, () => {});
    const c = viewerOn(capped, 'r');
    c.setFpsCap(5);
    const f = viewerOn(full, 'r');
    fanout.viewers.add(c);
    fanout.viewers.add(f);
    // 10 s of a 30 fps room (capture clock with a few ms of jitter), arriving with up to 150 ms of
    // network jitter: the cap follows the capture clock, so arrival jitter changes nothing.
    const sentAt: number[] = [];
    let thinned = 0;
    for (let n = 0; n < 300; n++) {
      const at = 1_000_000 + Math.round(n * (1000 / 30)) + (n % 3);
      const before = c.framesSent;
      thinned += fanout.deliver(frame(n, 100, at + ((n * 37) % 150), at * 1000)).thinned;
      if (c.framesSent > before) sentAt.push(at);
    }
    expect(f.framesSent).toBe(300);
    expect(c.framesSent).toBe(sentAt.length);
    expect(thinned).toBe(300 - sentAt.length);
    // 5 fps over 10 s: 50 frames (the slots advance by exactly 200 ms, so no rounding down to 30/7).
    expect(sentAt.length).toBeGreaterThanOrEqual(49);
    expect(sentAt.length).toBeLessThanOrEqual(51);
    const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000 / 30 * 5 - 5);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(200 + 1000 / 30 + 5);

    // Lifting the cap: every frame again, starting with the next.
    c.setFpsCap(null);
    const before = c.framesSent;
    for (let n = 300; n < 310; n++) fanout.deliver(frame(n, 100, 2_000_000 + n, (2_000_000 + n) * 1000));
    expect(c.framesSent - before).toBe(10);

    // A camera clock that steps back (NTP) does not starve the capped viewer.
    c.setFpsCap(5);
    fanout.deliver(frame(400, 100, Date.now(), 3_000_000_000));
    const afterStep = c.framesSent;
    fanout.deliver(frame(401, 100, Date.now(), 1_000_000_000));
    expect(c.framesSent).toBe(afterStep + 1);
  });

  it('sends MJPEG viewers a multipart part with the JPEG itself, built once per frame, and websocket viewers the envelope', async () => {
    const [mjpegPair, wsPair] = await Promise.all([socketPair(), socketPair()]);
    const fanout = new RoomFanout('r', { maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 }, () => {});
    const m1 = new Viewer(nextId++, 'r', 'mjpeg', mjpegPair.server, '127.0.0.1');
    const ws = viewerOn(wsPair, 'r');
    fanout.viewers.add(m1);
    fanout.viewers.add(ws);
    const f = frame(42, 3000);
    expect(fanout.deliver(f)).toEqual({ sent: 2, skipped: 0, thinned: 0 });
    const jpeg = imageOf(f);
    expect(jpeg.byteLength).toBe(3000);
    expect(jpeg.every((b) => b === 42)).toBe(true);
    const part = f.mjpeg!;
    expect(part).not.toBeNull();
    const text = part.toString('latin1');
    expect(text.startsWith(`--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: 3000\r\n`)).toBe(true);
    expect(text).toContain('X-Frame-Sequence: 42\r\n');
    const bodyStart = part.indexOf('\r\n\r\n') + 4;
    expect(part.subarray(bodyStart, bodyStart + 3000).equals(jpeg)).toBe(true);
    expect(part.subarray(bodyStart + 3000).toString('latin1')).toBe('\r\n');
    while (mjpegPair.received() < part.byteLength) await once(mjpegPair.client, 'data');
    while (wsPair.received() < wireBytes(f)) await once(wsPair.client, 'data');
    expect([mjpegPair.received(), wsPair.received()]).toEqual([part.byteLength, wireBytes(f)]);
    // A room without MJPEG viewers never builds the part.
    const wsOnly = new RoomFanout('r2', { maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 }, () => {});
    wsOnly.viewers.add(viewerOn(wsPair, 'r2'));
    const g = frame(43, 100);
    wsOnly.deliver(g);
    expect(g.mjpeg).toBeNull();
  });

  it('small rooms get header and envelope as one writev without a copy, busy rooms one joined message: the same bytes either way', async () => {
    const smallPairs = await Promise.all([socketPair(), socketPair()]);
    const busyPairs = await Promise.all(Array.from({ length: SPLIT_WRITE_MAX_VIEWERS + 1 }, () => socketPair()));
    const small = new RoomFanout('s', { maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 }, () => {});
    const busy = new RoomFanout('b', { maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 }, () => {});
    smallPairs.forEach((p) => small.viewers.add(viewerOn(p, 's')));
    busyPairs.forEach((p) => busy.viewers.add(viewerOn(p, 'b')));
    // Every websocket length encoding: 7-bit, 16-bit and 64-bit lengths.
    const sizes = [10, 100, 5000, 70_000];
    const sent: Buffer[] = [];
    for (const [i, bytes] of sizes.entries()) {
      const a = frame(i, bytes);
      const b = frame(i, bytes);
      small.deliver(a);
      busy.deliver(b);
      expect(a.wire, 'a small room builds no joined message').toBeNull();
      expect(b.wire).not.toBeNull();
      sent.push(wireOf(b));
    }
    const env = encodeEnvelope({ sequence: 9, captureTimeUs: 1, width: 2, height: 2 }, Buffer.alloc(50_000));
    expect(keepFrame(decodeEnvelope(env).header, env).envelope, 'the envelope is kept as delivered, not copied').toBe(env);
    const expected = Buffer.concat(sent);
    for (const p of [...smallPairs, ...busyPairs]) {
      while (p.received() < expected.byteLength) await once(p.client, 'data');
      expect(p.bytes().equals(expected)).toBe(true);
    }
  });
});
