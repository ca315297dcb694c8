import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startTestRedis, stopAllServices, TestViewer, waitFor, type TestRedis } from '@framecast/testing';
import { startGateway, TestPublisher, type GatewayProcess } from './helpers.ts';

// The bench's shapes sized for the test suite: the ramp at its 50-viewers-per-room step, and the
// camera shape (many rooms, two viewers each: `pnpm bench --workload cameras`). Correctness under
// load is asserted here (no loss, order kept, memory bounded); speed is measured by `pnpm bench`.
const FRAME_BYTES = 30 * 1024;
const SECONDS = 4;
const WARMUP_SECONDS = 2;

interface Shape {
  ROOMS: number;
  VIEWERS_PER_ROOM: number;
  FPS: number;
}
const SHAPES: Shape[] = [
  { ROOMS: 8, VIEWERS_PER_ROOM: 50, FPS: 30 },
  { ROOMS: 64, VIEWERS_PER_ROOM: 2, FPS: 15 },
];

let redis: TestRedis;
let gw: GatewayProcess;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

describe.each(SHAPES)('under load', ({ ROOMS, VIEWERS_PER_ROOM, FPS }) => {
  beforeAll(async () => {
    gw = await startGateway(redis.url);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it(`${ROOMS} rooms × ${VIEWERS_PER_ROOM} viewers × ${FPS} fps × 30 KB: no loss, order kept, gateway memory bounded`, async () => {
    const rooms = Array.from({ length: ROOMS }, (_, i) => `load${ROOMS}x${i}`);
    const publishers = rooms.map((r) => new TestPublisher(redis.url, r));
    const viewers = rooms.flatMap((r) => Array.from({ length: VIEWERS_PER_ROOM }, () => new TestViewer(gw.wsUrl(r), { hash: false })));
    await Promise.all(viewers.map((v) => v.opened));
    await waitFor('subscriptions', async () => (await gw.metric('framecast_gateway_rooms_subscribed')) === ROOMS);

    const tick = async (n: number) => {
      const started = Date.now();
      for (let i = 0; i < n; i++) {
        await Promise.all(publishers.map((p) => p.frame(FRAME_BYTES, { store: false })));
        const wait = started + ((i + 1) * 1000) / FPS - Date.now();
        if (wait > 0) await sleep(wait);
      }
    };
    // Warm-up: the heap grows to what this load needs. Two seconds, not one: on Node 24 (V8 13,
    // larger young generation) the heap was still growing after one, and that growth (~43 MB once)
    // was measured as if it were accumulation.
    await tick(FPS * WARMUP_SECONDS);
    // What the gateway retains (JS heap plus Buffers), sampled ~10 times a second. Its floor, right
    // after a collection, is what is kept; RSS and the peaks move by tens of MB with collection
    // timing on a busy machine, which says nothing about a leak.
    const samples: Array<{ at: number; bytes: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [heap, external] = await Promise.all([gw.metric('nodejs_heap_size_used_bytes'), gw.metric('nodejs_external_memory_bytes')]);
        samples.push({ at: Date.now(), bytes: heap + external });
        await sleep(100);
      }
    })();
    const measuredFrom = Date.now();
    await tick(FPS * SECONDS);
    const measuredTo = Date.now();
    sampling = false;
    await sampler;
    const floor = (from: number, to: number) => Math.min(...samples.filter((x) => x.at >= from && x.at < to).map((x) => x.bytes));
    const retainedFirst = floor(measuredFrom, measuredFrom + 1500);
    const retainedLast = floor(measuredTo - 1500, measuredTo);

    const total = FPS * (SECONDS + WARMUP_SECONDS);
    await waitFor('all frames delivered', () => viewers.every((v) => v.frames.length === total), 10_000);
    for (const v of viewers) {
      const seqs = v.frames.map((f) => f.sequence);
      expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i));
    }
    expect(await gw.metric('framecast_gateway_frames_skipped_total')).toBe(0);
    expect(await gw.metric('framecast_gateway_frames_delivered_total')).toBe(total * ROOMS * VIEWERS_PER_ROOM);
    // Nothing accumulates per frame: keeping one copy of each frame per room would add ~29 MB
    // between the two floors, one per viewer over a gigabyte.
    console.log(`load test (${ROOMS} rooms × ${VIEWERS_PER_ROOM}): retained ${(retainedFirst / 1e6).toFixed(1)} MB -> ${(retainedLast / 1e6).toFixed(1)} MB over ${SECONDS} s`);
    expect(retainedLast - retainedFirst).toBeLessThan(16 * 1024 * 1024);
    viewers.forEach((v) => v.close());
    publishers.forEach((p) => p.close());
  });
});
