import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { decodeEnvelope, encodeEnvelope } from '@framecast/protocol';
import { keepFrame, RoomFanout, type KeptFrame } from './room-fanout.ts';
import { Viewer } from './viewer.ts';

// RoomFanout in-process, over real loopback TCP sockets: the server end is what the fan-out
// writes to, the client end is the viewer, which reads or (paused) does not.
interface Pair {
  server: Socket;
  client: Socket;
  received: () => number;
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
  client.on('data', (d: Buffer) => (bytes += d.byteLength));
  open.push({ close: () => (server.destroy(), client.destroy()) });
  return { server, client, received: () => bytes };
}

let nextId = 1;
function viewerOn(pair: Pair, room: string): Viewer {
  return new Viewer(nextId++, room, {} as WebSocket, pair.server, '127.0.0.1');
}

function frame(sequence: number, bytes: number, receivedAt = Date.now()): KeptFrame {
  const envelope = encodeEnvelope({ sequence, captureTimeUs: 1_700_000_000_000_000 + sequence, width: 640, height: 480 }, Buffer.alloc(bytes, sequence & 0xff));
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
      total += f.wire.byteLength;
      expect(fanout.deliver(f)).toEqual({ sent: 3, skipped: 0 });
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
      readerBytes += f.wire.byteLength;
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
    expect(fanout.deliver(frame(0, 100))).toEqual({ sent: 0, skipped: 0 });
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

  it('recognises the same frame seen twice (pub/sub and the store) and nothing else', () => {
    const fanout = new RoomFanout('r', { maxBufferedBytes: 1 << 20, stallTimeoutMs: 1000 }, () => {});
    const f = frame(7, 10);
    expect(fanout.isDuplicate(f.header)).toBe(false);
    fanout.deliver(f);
    expect(fanout.isDuplicate(f.header)).toBe(true);
    expect(fanout.isDuplicate({ ...f.header, sequence: 8 })).toBe(false);
    expect(fanout.isDuplicate({ ...f.header, captureTimeUs: f.header.captureTimeUs + 1 })).toBe(false);
  });
});
