import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { decodeEnvelope, FrameFlags, lastFrameKey } from '@framecast/protocol';
import { sleep, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { childPids, FrameTap, isAlive, startAgent } from './helpers.ts';

/** How far two processes' microsecond clocks on one machine may disagree (seen: 17 ms). */
const CROSS_PROCESS_CLOCK_SKEW_US = 50_000;

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await stopAllServices();
  await redis?.close();
});

describe.each([
  ['testsrc', 'pub-js'],
  ['ffmpeg:testsrc', 'pub-ffmpeg'],
])('agent with source %s', (source, room) => {
  it('publishes envelopes at the set fps with consecutive sequences and JPEGs of the set size, keeps the last frame with a TTL, and stops cleanly', async () => {
    const fps = 12;
    const ttlMs = 4000;
    const tap = new FrameTap(redis.url, room);
    await tap.ready;
    const agent = await startAgent({
      REDIS_URL: redis.url,
      FRAMECAST_ROOM: room,
      FRAMECAST_SOURCE: source,
      FRAMECAST_FPS: String(fps),
      FRAMECAST_SIZE: '320x240',
      FRAMECAST_QUALITY: '75',
      FRAMECAST_LAST_FRAME_TTL_MS: String(ttlMs),
    });
    try {
      const started = JSON.parse(agent.lines.find((l) => l.includes('"msg":"capture agent started"'))!) as Record<string, unknown>;
      expect(started).toMatchObject({ room, source, fps, size: '320x240' });

      await waitFor('first frame', () => tap.frames.length > 0, 15_000);
      const from = tap.frames.length;
      await sleep(3000);
      const window = tap.frames.slice(from);

      // Rate, measured on the capture times the agent stamped (its own clock, not our receive jitter).
      const spanS = (window.at(-1)!.header.captureTimeUs - window[0]!.header.captureTimeUs) / 1e6;
      const rate = (window.length - 1) / spanS;
      console.log(`${source}: ${window.length} frames in 3 s, ${rate.toFixed(2)} fps (set ${fps})`);
      expect(rate).toBeGreaterThan(fps * 0.8);
      expect(rate).toBeLessThan(fps * 1.15);

      const seqs = tap.frames.map((f) => f.header.sequence);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
      for (const f of tap.frames) {
        expect(f.header).toMatchObject({ width: 320, height: 240, flags: FrameFlags.Synthetic });
        // Stamped at capture, before publish: never in the future, and recent. The two stamps come
        // from two processes' clocks (performance.timeOrigin + now(), fixed at each start), which
        // can disagree by milliseconds: "not in the future" holds up to that skew, no closer.
        expect(f.header.captureTimeUs).toBeLessThanOrEqual(f.receivedUs + CROSS_PROCESS_CLOCK_SKEW_US);
        expect(f.receivedUs - f.header.captureTimeUs).toBeLessThan(1_000_000);
      }
      for (const f of [window[0]!, window.at(-1)!]) {
        expect(await sharp(f.payload).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
      }

      const last = await client.getBuffer(lastFrameKey(room));
      expect(last).not.toBeNull();
      const { header } = decodeEnvelope(last!);
      expect(header.sequence).toBeGreaterThanOrEqual(tap.frames.at(-1)!.header.sequence);
      const pttl = await client.pttl(lastFrameKey(room));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(ttlMs);

      const ffmpeg = source.startsWith('ffmpeg') ? childPids(agent.proc.pid!, 'ffmpeg') : [];
      if (source.startsWith('ffmpeg')) expect(ffmpeg).toHaveLength(1);

      const t0 = Date.now();
      expect(await agent.stop('SIGTERM')).toBe(0);
      expect(Date.now() - t0).toBeLessThan(3000);
      for (const pid of ffmpeg) expect(isAlive(pid)).toBe(false);
      expect(agent.lines.some((l) => l.includes('"msg":"capture agent stopped"'))).toBe(true);
    } finally {
      tap.close();
      await agent.stop('SIGKILL');
    }
  });
});
