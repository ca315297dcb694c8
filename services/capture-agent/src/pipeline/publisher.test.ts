import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker, MemoryFrameBus, RedisFrameBus } from '@framecast/bus';
import { decodeEnvelope, ENVELOPE_HEADER_V1_BYTES, FrameFlags, nowMicros } from '@framecast/protocol';
import { startTestRedis, waitFor, type TestRedis } from '@framecast/testing';
import type { CapturedFrame } from '../sources/frame-source.ts';
import { FramePublisher } from './publisher.ts';

function captureLogs() {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

let n = 0;
/** A distinct fake JPEG payload per frame; the publisher never looks inside it. */
function frame(captureTimeUs = nowMicros()): CapturedFrame {
  n++;
  return { jpeg: Buffer.from(`jpeg-${n}`), width: 64, height: 48, captureTimeUs, flags: FrameFlags.Synthetic };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('FramePublisher on the in-memory bus', () => {
  it('publishes envelopes with capture time, size, flags and a rising sequence, and stores the last one', async () => {
    const broker = new MemoryBroker();
    const bus = new MemoryFrameBus(broker);
    const viewer = new MemoryFrameBus(broker);
    const got: Buffer[] = [];
    viewer.onFrame((_room, env) => got.push(env));
    await viewer.subscribe('lobby');
    const { logger } = captureLogs();
    const pub = new FramePublisher({ bus, room: 'lobby', lastFrameTtlMs: 5000, logger, maxStaleMs: 1000 });
    const frames = [frame(1_700_000_000_000_001), frame(1_700_000_000_000_002), frame(1_700_000_000_000_003)];
    for (const f of frames) {
      pub.offer({ ...f, captureTimeUs: nowMicros() - 10 }); // fresh enough to publish
      await settle();
    }
    expect(got).toHaveLength(3);
    got.forEach((env, i) => {
      const { header, payload } = decodeEnvelope(env);
      expect(header).toMatchObject({ sequence: i, width: 64, height: 48, flags: FrameFlags.Synthetic });
      expect(Buffer.from(payload).toString()).toBe(frames[i]!.jpeg.toString());
    });
    expect((await bus.lastFrame('lobby'))?.equals(got[2]!)).toBe(true);
    expect(pub.stats()).toMatchObject({ captured: 3, published: 3, pending: 0, nextSequence: 3, busUp: true });
  });

  it('writes the header into the room a source left in front of the JPEG instead of allocating, once', async () => {
    const broker = new MemoryBroker();
    const bus = new MemoryFrameBus(broker);
    const viewer = new MemoryFrameBus(broker);
    const got: Buffer[] = [];
    viewer.onFrame((_room, env) => got.push(env));
    await viewer.subscribe('lobby');
    const pub = new FramePublisher({ bus, room: 'lobby', lastFrameTtlMs: 5000, logger: captureLogs().logger, maxStaleMs: 1000 });
    const jpeg = Buffer.from('jpeg bytes spanning two pipe chunks');
    const envelope = Buffer.alloc(ENVELOPE_HEADER_V1_BYTES + jpeg.length);
    jpeg.copy(envelope, ENVELOPE_HEADER_V1_BYTES);
    const f: CapturedFrame = { jpeg: envelope.subarray(ENVELOPE_HEADER_V1_BYTES), envelope, width: 8, height: 6, captureTimeUs: nowMicros(), flags: 0 };
    pub.offer(f);
    await settle();
    expect(got[0]).toBe(envelope); // the very buffer: no allocation, no copy
    expect(decodeEnvelope(got[0]!)).toMatchObject({ header: { sequence: 0, width: 8, height: 6, payloadLength: jpeg.length } });
    // Used once: a later publish of the same frame (a retry) must not rewrite bytes in flight.
    expect(f.envelope).toBeUndefined();
  });

  it('keeps the capture time of the frame, not the publish time', async () => {
    const bus = new MemoryFrameBus(new MemoryBroker());
    const pub = new FramePublisher({ bus, room: 'r1', lastFrameTtlMs: 5000, logger: captureLogs().logger, maxStaleMs: 1000 });
    const captured = nowMicros() - 400_000; // captured 400 ms ago, e.g. a slow encode
    pub.offer(frame(captured));
    await settle();
    expect(decodeEnvelope((await bus.lastFrame('r1'))!).header.captureTimeUs).toBe(captured);
  });

  it('has one publish in flight at most: newer frames replace the waiting one and are counted', async () => {
    const broker = new MemoryBroker();
    const bus = new MemoryFrameBus(broker);
    const viewer = new MemoryFrameBus(broker);
    const got: Buffer[] = [];
    viewer.onFrame((_room, env) => got.push(env));
    await viewer.subscribe('lobby');
    const pub = new FramePublisher({ bus, room: 'lobby', lastFrameTtlMs: 5000, logger: captureLogs().logger, maxStaleMs: 1000 });
    const burst = Array.from({ length: 5 }, () => frame());
    for (const f of burst) pub.offer(f); // synchronously: the first is in flight for all others
    await settle();
    const payloads = got.map((env) => Buffer.from(decodeEnvelope(env).payload).toString());
    expect(payloads).toEqual([burst[0]!.jpeg.toString(), burst[4]!.jpeg.toString()]);
    expect(got.map((env) => decodeEnvelope(env).header.sequence)).toEqual([0, 1]);
    expect(pub.stats()).toMatchObject({ captured: 5, published: 2, dropped: { superseded: 3, bus_down: 0, stale: 0 } });
  });

  it('wraps the sequence at 2^32', async () => {
    const bus = new MemoryFrameBus(new MemoryBroker());
    const pub = new FramePublisher({ bus, room: 'wrap', lastFrameTtlMs: 5000, logger: captureLogs().logger, maxStaleMs: 1000 });
    (pub as unknown as { sequence: number }).sequence = 0xffff_ffff;
    pub.offer(frame());
    await settle();
    pub.offer(frame());
    await settle();
    expect(decodeEnvelope((await bus.lastFrame('wrap'))!).header.sequence).toBe(0);
  });
});

describe('FramePublisher while Redis is down', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis({ needsControl: true });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('keeps only the newest frame, publishes it once on reconnect, and logs each transition once', async () => {
    const bus = new RedisFrameBus({ redis: redis.url, connectionName: 'publisher-test', maxReconnectDelayMs: 200 });
    bus.on('connectionError', () => {});
    const { logger, lines } = captureLogs();
    const pub = new FramePublisher({ bus, room: 'outage', lastFrameTtlMs: 60_000, logger, maxStaleMs: 5000 });
    try {
      await waitFor('bus ready', () => bus.isReady());
      pub.offer(frame());
      await waitFor('first publish', () => pub.stats().published === 1);

      await redis.stop();
      await waitFor('bus down', () => !bus.isReady());
      const during = Array.from({ length: 20 }, () => frame());
      for (const f of during) {
        pub.offer(f);
        await new Promise((r) => setTimeout(r, 5));
      }
      // Nothing queued: one frame in the slot, the other 19 counted as dropped.
      expect(pub.stats()).toMatchObject({ captured: 21, published: 1, pending: 1, busUp: false });
      expect(pub.stats().dropped.bus_down).toBe(19);

      await redis.start();
      await waitFor('newest frame published after reconnect', () => pub.stats().published === 2, 10_000);
      const last = decodeEnvelope((await bus.lastFrame('outage'))!);
      expect(Buffer.from(last.payload).toString()).toBe(during.at(-1)!.jpeg.toString());
      expect(last.header.sequence).toBe(1);
      expect(pub.stats()).toMatchObject({ pending: 0, busUp: true });

      const msgs = lines.map((l) => l.msg);
      expect(msgs.filter((m) => m.startsWith('frame bus down'))).toHaveLength(1);
      expect(msgs.filter((m) => m.startsWith('frame bus up'))).toHaveLength(1);
    } finally {
      await pub.close();
      await bus.close();
    }
  });

  it('a full Redis (OOM) refuses the last-frame SET but takes the PUBLISH: published, counted apart, bus up, one line each way', async () => {
    const bus = new RedisFrameBus({ redis: redis.url, connectionName: 'publisher-test-full', maxReconnectDelayMs: 200 });
    const watcher = new RedisFrameBus({ redis: redis.url, connectionName: 'publisher-test-full-viewer' });
    const admin = new Redis(redis.url);
    const got: Buffer[] = [];
    watcher.onFrame((_room, env) => got.push(env));
    const { logger, lines } = captureLogs();
    const pub = new FramePublisher({ bus, room: 'full', lastFrameTtlMs: 60_000, logger, maxStaleMs: 5000 });
    let feeding: NodeJS.Timeout | undefined;
    try {
      await watcher.subscribe('full');
      await waitFor('buses ready', () => bus.isReady() && watcher.isReady());
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1'); // far below what Redis uses: every write refused
      for (let i = 0; i < 5; i++) {
        pub.offer(frame());
        await waitFor('published', () => pub.stats().published === i + 1);
      }
      await waitFor('frames delivered', () => got.length === 5);
      expect(pub.stats()).toMatchObject({
        published: 5,
        busUp: true,
        dropped: { superseded: 0, bus_down: 0, stale: 0 },
        publishFailures: 0,
        lastFrameStoreFailures: { oom: 5 },
        lastFrameStoreProblem: expect.stringMatching(/^Redis refuses writes \(OOM/),
      });
      expect(await bus.lastFrame('full')).toBeNull();
      const failing = lines.filter((l) => l.msg.startsWith('last-frame store failing'));
      expect(failing).toEqual([expect.objectContaining({ level: 50, msg: expect.stringMatching(/OOM/) })]);
      expect(lines.filter((l) => l.msg.startsWith('frame bus down'))).toEqual([]);

      // Room again: working again once the SETs have worked for LAST_FRAME_STORE_RECOVERY_MS.
      await admin.config('SET', 'maxmemory', '0');
      feeding = setInterval(() => pub.offer(frame()), 50);
      await waitFor('working again', () => lines.some((l) => l.msg === 'last-frame store working again'), 5000);
      expect(pub.stats()).toMatchObject({ lastFrameStoreFailures: { oom: 5 }, lastFrameStoreProblem: null, busUp: true });
      expect(await bus.lastFrame('full')).not.toBeNull();
      expect(lines.filter((l) => l.msg.startsWith('last-frame store failing'))).toHaveLength(1);
    } finally {
      clearInterval(feeding);
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
      await pub.close();
      await Promise.all([bus.close(), watcher.close()]);
    }
  });

  it('a publish that times out marks the bus down at once, before its caller can send the next into the hung connection', async () => {
    const bus = new RedisFrameBus({ redis: redis.url, connectionName: 'publisher-test-timeout', commandTimeoutMs: 300, maxReconnectDelayMs: 200 });
    bus.on('connectionError', () => {});
    try {
      await waitFor('bus ready', () => bus.isReady());
      await redis.pause();
      try {
        const err = await bus.publish('timeout', Buffer.from('frame'), 1000).then(() => null, (e: Error) => e);
        expect(err?.message).toBe('Command timed out');
        // Where the publisher's failure handler runs: no PING has had to time out as well.
        expect(bus.isReady()).toBe(false);
      } finally {
        await redis.resume();
      }
      await waitFor('bus ready again once Redis answers a PING', () => bus.isReady(), 5000);
    } finally {
      await bus.close();
    }
  });

  it('gives every envelope its own sequence: a publish that timed out on a hung Redis and lands when it wakes shares no number with the next', async () => {
    const bus = new RedisFrameBus({ redis: redis.url, connectionName: 'publisher-test-hung', commandTimeoutMs: 300, maxReconnectDelayMs: 200 });
    bus.on('connectionError', () => {});
    const tap = new RedisFrameBus({ redis: redis.url, connectionName: 'publisher-test-hung-tap' });
    const seen: number[] = [];
    tap.onFrame((_room, env) => seen.push(decodeEnvelope(env).header.sequence));
    const pub = new FramePublisher({ bus, room: 'hung', lastFrameTtlMs: 60_000, logger: captureLogs().logger, maxStaleMs: 60_000, publishTimeoutMs: 300 });
    try {
      await tap.subscribe('hung');
      await waitFor('bus ready', () => bus.isReady());
      pub.offer(frame());
      await waitFor('first frame seen', () => seen.length === 1);
      await redis.pause();
      try {
        pub.offer(frame());
        await waitFor('the publish to the hung Redis given up', () => pub.stats().publishFailures === 1, 5000);
      } finally {
        await redis.resume();
      }
      // The abandoned PUBLISH was written before Redis stopped reading: it runs now, then the frame
      // kept in its place goes out under the next number.
      await waitFor('bus ready again', () => bus.isReady(), 10_000);
      pub.offer(frame());
      await waitFor('three frames seen', () => seen.length >= 3, 5000);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(new Set(seen).size).toBe(seen.length);
    } finally {
      await pub.close();
      await Promise.all([bus.close(), tap.close()]);
    }
  });

  it('drops the kept frame instead of publishing it late when it went stale during the outage', async () => {
    const bus = new RedisFrameBus({ redis: redis.url, connectionName: 'publisher-test-stale', maxReconnectDelayMs: 200 });
    bus.on('connectionError', () => {});
    const pub = new FramePublisher({ bus, room: 'stale', lastFrameTtlMs: 60_000, logger: captureLogs().logger, maxStaleMs: 300 });
    try {
      await waitFor('bus ready', () => bus.isReady());
      await redis.stop();
      await waitFor('bus down', () => !bus.isReady());
      pub.offer(frame());
      await new Promise((r) => setTimeout(r, 400));
      await redis.start();
      await waitFor('bus ready again', () => bus.isReady(), 10_000);
      await settle();
      expect(pub.stats()).toMatchObject({ captured: 1, published: 0, pending: 0, dropped: { stale: 1 } });
      expect(await bus.lastFrame('stale')).toBeNull();
    } finally {
      await pub.close();
      await bus.close();
    }
  });
});
