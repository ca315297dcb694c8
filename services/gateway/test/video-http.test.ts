import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, stopAllServices, TestViewer, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import { startRegistry, TOKEN_SECRET, type RegistryProcess } from '../../registry/test/helpers.ts';
import { startAgent, startGateway, TestPublisher, type GatewayProcess } from './helpers.ts';
import { jpegSize, MjpegReader } from './mjpeg-reader.ts';

// Plain HTTP video (GET /video/<room>.mjpeg and .jpg) and the per-viewer frame-rate cap, against
// real processes: a registry (auth on), a gateway, a capture agent on a 30 fps test pattern, real
// ffmpeg as the MJPEG client, real websocket viewers.

const run = promisify(execFile);
const STALL_MS = 2000;
let redis: TestRedis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let agent: ServiceProcess;
let base: string;
let vaultToken: string;
let camToken: string;

beforeAll(async () => {
  redis = await startTestRedis();
  reg = await startRegistry(redis.url);
  for (const [name, visibility] of [['cam', 'public'], ['still', 'public'], ['quiet', 'public'], ['busy', 'public'], ['vault', 'private']]) {
    expect((await reg.api('POST', '/rooms', { name, visibility })).status).toBe(201);
  }
  vaultToken = (await reg.api('POST', '/rooms/vault/tokens', { ttlSeconds: 600 })).body.token;
  camToken = (await reg.api('POST', '/rooms/cam/tokens', { ttlSeconds: 600 })).body.token;
  gw = await startGateway(redis.url, { FRAMECAST_AUTH: 'on', FRAMECAST_TOKEN_SECRET: TOKEN_SECRET, FRAMECAST_VIEWER_STALL_TIMEOUT_MS: String(STALL_MS) });
  base = `http://127.0.0.1:${gw.port}`;
  await waitFor('gateway ready', async () => (await fetch(`${base}/readyz`)).status === 200, 10_000);
  agent = await startAgent(redis.url, 'cam', 'testsrc', { FRAMECAST_FPS: '30', FRAMECAST_SIZE: '320x180' });
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

describe('GET /video/<room>.mjpeg', () => {
  it('is read by ffmpeg: 30 JPEG frames of the room', async () => {
    const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', `${base}/video/cam.mjpeg`, '-frames:v', '30', '-f', 'framemd5', '-'], { timeout: 30_000 });
    const frames = stdout.split('\n').filter((l) => /^0,/.test(l));
    expect(frames).toHaveLength(30);
    // Every line is a decoded 320x180 picture (framemd5 prints the decoded size per frame).
    expect(frames.every((l) => l.split(',').length >= 6)).toBe(true);
  });

  it('sends each part as the room JPEG with its sequence, in order, and counts the client as a viewer', async () => {
    const reader = new MjpegReader(`${base}/video/cam.mjpeg`);
    expect(await reader.response).toBe(200);
    expect(reader.headers['content-type']).toBe('multipart/x-mixed-replace; boundary=framecast');
    await waitFor('15 parts', () => reader.parts.length >= 15, 10_000);
    expect(await gw.metric('framecast_gateway_viewers_by_transport', { transport: 'mjpeg' })).toBe(1);
    const seqs = reader.parts.map((p) => p.sequence);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
    expect(jpegSize(reader.parts[0]!.jpeg)).toEqual({ width: 320, height: 180 });
    reader.close();
    await waitFor('the MJPEG viewer gone', async () => (await gw.metric('framecast_gateway_viewers_by_transport', { transport: 'mjpeg' })) === 0, 5000);
  });

  it('?fps=2 thins the stream for that client: frames at least 0.4 s apart', async () => {
    const reader = new MjpegReader(`${base}/video/cam.mjpeg?fps=2`);
    expect(await reader.response).toBe(200);
    await waitFor('6 parts', () => reader.parts.length >= 6, 10_000);
    reader.close();
    const gaps = reader.parts.slice(1).map((p, i) => (p.captureTimeUs - reader.parts[i]!.captureTimeUs) / 1000);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(400);
  });

  it('a slow reader (1 KB/s) is cut off after the stall timeout, holding bounded bytes; websocket viewers of the room miss nothing', async () => {
    const pub = new TestPublisher(redis.url, 'busy');
    const viewer = new TestViewer(gw.wsUrl('busy'), { hash: false });
    await viewer.opened;
    const slow = net.connect(gw.port, '127.0.0.1');
    slow.pause();
    slow.write('GET /video/busy.mjpeg HTTP/1.1\r\nHost: test\r\n\r\n');
    let slowBytes = 0;
    const trickle = setInterval(() => {
      const chunk = slow.read(1024) as Buffer | null;
      if (chunk) slowBytes += chunk.byteLength;
    }, 1000);
    const slowClosed = new Promise<void>((r) => slow.once('close', () => r()));
    slow.on('error', () => {});
    await waitFor('the MJPEG viewer joined', async () => (await gw.metric('framecast_gateway_viewers_by_transport', { transport: 'mjpeg' })) === 1, 5000);
    const closedBefore = await gw.metric('framecast_gateway_viewers_closed_total', { code: '4508' });
    // 200 KB frames at 20 fps (4 MB/s) fill the kernel's loopback buffers within seconds.
    const published: number[] = [];
    let peakBuffered = 0;
    // The gateway's count says when it cut the reader: a client that is not reading cannot see
    // the connection go until it reads again.
    let cut = false;
    const started = Date.now();
    while (!cut && Date.now() - started < 30_000) {
      published.push(await pub.frame(200_000, { store: false }));
      if (published.length % 5 === 0) {
        peakBuffered = Math.max(peakBuffered, await gw.metric('framecast_gateway_viewer_buffered_bytes'));
        cut = (await gw.metric('framecast_gateway_viewers_closed_total', { code: '4508' })) > closedBefore;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    clearInterval(trickle);
    expect(cut).toBe(true);
    expect(await gw.metric('framecast_gateway_viewers_closed_total', { code: '4508' })).toBe(closedBefore + 1);
    expect(await gw.metric('framecast_gateway_viewers_by_transport', { transport: 'mjpeg' })).toBe(0);
    // Reading again, the client takes what was buffered and then finds the connection gone.
    slow.resume();
    await slowClosed;
    // The bound (512 KiB by default) plus one frame and its part headers, never the stream.
    expect(peakBuffered).toBeLessThanOrEqual(512 * 1024 + 200_000 + 1024);
    // The websocket viewer of the same room got every frame, in order.
    await waitFor('the websocket viewer has every frame', () => viewer.frames.length >= published.length, 10_000);
    expect(viewer.frames.map((f) => f.sequence)).toEqual(published);
    expect(viewer.closeCode).toBeNull();
    console.log(`slow MJPEG reader: cut after ${Date.now() - started} ms of 4 MB/s (stall timeout ${STALL_MS} ms), it had read ${slowBytes} bytes; peak buffered ${peakBuffered} bytes; websocket viewer got ${viewer.frames.length}/${published.length}`);
    viewer.close();
    pub.close();
  });

  it('refuses bad input with a status and a JSON reason', async () => {
    const cases: Array<[string, number, string]> = [
      ['/video/bad%20room.mjpeg', 400, 'invalid_room'],
      ['/video/cam.mjpeg?fps=0', 400, 'bad_request'],
      ['/video/cam.mjpeg?fps=61', 400, 'bad_request'],
      ['/video/cam.mjpeg?fps=fast', 400, 'bad_request'],
      ['/video/cam.mjpeg?fps=5&fps=6', 400, 'bad_request'],
      ['/video/cam.mjpeg?variant=huge', 400, 'bad_request'],
      ['/video/cam.gif', 404, 'not_found'],
      ['/video/vault.mjpeg', 401, 'room_private'],
      [`/video/vault.mjpeg?token=${camToken}`, 403, 'forbidden'],
      ['/video/vault.mjpeg?token=not-a-token', 401, 'unauthorized'],
    ];
    for (const [path, status, error] of cases) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(status);
      expect(await res.json(), path).toMatchObject({ error, message: expect.any(String) });
    }
  });
});

describe('GET /video/<room>.jpg', () => {
  it("answers the room's latest frame as a JPEG of the room's size, with an ETag from the frame", async () => {
    const res = await fetch(`${base}/video/cam.jpg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('etag')).toMatch(/^"\d+-\d+"$/);
    expect(jpegSize(Buffer.from(await res.arrayBuffer()))).toEqual({ width: 320, height: 180 });
  });

  it("reads the room's last-frame key without subscribing, and answers 304 to If-None-Match until the next frame", async () => {
    const pub = new TestPublisher(redis.url, 'still');
    const subscribedBefore = await gw.metric('framecast_gateway_rooms_subscribed');
    await pub.frame(5000);
    const first = await fetch(`${base}/video/still.jpg`);
    expect(first.status).toBe(200);
    const body = Buffer.from(await first.arrayBuffer());
    expect(body.equals(Buffer.alloc(5000, 0))).toBe(true);
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${base}/video/still.jpg`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    await pub.frame(5000);
    const next = await fetch(`${base}/video/still.jpg`, { headers: { 'if-none-match': etag } });
    expect(next.status).toBe(200);
    expect(next.headers.get('etag')).not.toBe(etag);
    expect(await gw.metric('framecast_gateway_rooms_subscribed')).toBe(subscribedBefore);
    expect(await gw.metric('framecast_gateway_snapshots_total', { result: 'not_modified' })).toBeGreaterThanOrEqual(1);
    pub.close();
  });

  it('takes the websocket auth: a private room with a token in Authorization or ?token=, 401 without, 403 with another room token', async () => {
    const pub = new TestPublisher(redis.url, 'vault');
    await pub.frame(1000);
    expect((await fetch(`${base}/video/vault.jpg`)).status).toBe(401);
    expect((await fetch(`${base}/video/vault.jpg`, { headers: { authorization: `Bearer ${camToken}` } })).status).toBe(403);
    expect((await fetch(`${base}/video/vault.jpg`, { headers: { authorization: `Bearer ${vaultToken}` } })).status).toBe(200);
    expect((await fetch(`${base}/video/vault.jpg?token=${vaultToken}`)).status).toBe(200);
    // The MJPEG stream of the private room opens with the token and starts with the kept frame.
    await pub.frame(1000, { store: true });
    const reader = new MjpegReader(`${base}/video/vault.mjpeg`, { authorization: `Bearer ${vaultToken}` });
    expect(await reader.response).toBe(200);
    await pub.frame(1000);
    await waitFor('a part of the private room', () => reader.parts.length >= 1, 5000);
    reader.close();
    pub.close();
  });

  it('404 with a reason for a room without a recent frame; 400 for a bad room name', async () => {
    const none = await fetch(`${base}/video/quiet.jpg`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: 'no_frame' });
    const bad = await fetch(`${base}/video/-bad.jpg`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_room' });
  });
});

describe('frame-rate cap on the websocket', () => {
  /** Frames per second of capture time over the viewer's frames captured in [fromUs, toUs). */
  const rate = (v: TestViewer, fromUs: number, toUs: number) => v.frames.filter((f) => f.captureTimeUs >= fromUs && f.captureTimeUs < toUs).length / ((toUs - fromUs) / 1e6);

  it('?fps=5 on a 30 fps room: that viewer gets about 5 frames a second, another viewer all 30', async () => {
    const capped = new TestViewer(`${gw.wsUrl('cam')}?fps=5`, { hash: false });
    const full = new TestViewer(gw.wsUrl('cam'), { hash: false });
    await waitFor('both have frames', () => capped.frames.length > 0 && full.frames.length > 0, 5000);
    const fromUs = Math.max(capped.frames[0]!.captureTimeUs, full.frames[0]!.captureTimeUs);
    const toUs = fromUs + 4e6;
    await waitFor('4 s of frames', () => full.frames.some((f) => f.captureTimeUs >= toUs) && capped.frames.some((f) => f.captureTimeUs >= toUs), 15_000);
    const [cappedRate, fullRate] = [rate(capped, fromUs, toUs), rate(full, fromUs, toUs)];
    console.log(`fps cap: capped viewer ${cappedRate.toFixed(2)} frames/s, uncapped ${fullRate.toFixed(2)} frames/s`);
    expect(cappedRate).toBeGreaterThanOrEqual(4);
    expect(cappedRate).toBeLessThanOrEqual(6);
    expect(fullRate).toBeGreaterThanOrEqual(24);
    capped.close();
    full.close();
  });

  it('an options message changes the cap and is confirmed; anything else is answered "rejected", counted, and the viewer keeps watching', async () => {
    const viewer = new TestViewer(gw.wsUrl('cam'), { hash: false });
    await waitFor('frames', () => viewer.frames.length > 0, 5000);
    const rejectedBefore = await gw.metric('framecast_gateway_viewer_messages_total', { result: 'rejected' });
    viewer.send(JSON.stringify({ type: 'options', fps: 2 }));
    await waitFor('the options confirmed', () => viewer.texts.some((t) => t.includes('"type":"options"')), 5000);
    expect(JSON.parse(viewer.texts.find((t) => t.includes('"type":"options"'))!)).toEqual({ type: 'options', v: 1, fps: 2 });
    const fromUs = Date.now() * 1000 + 200_000;
    const toUs = fromUs + 3e6;
    await waitFor('3 s of capped frames', () => viewer.frames.some((f) => f.captureTimeUs >= toUs), 10_000);
    const capped = rate(viewer, fromUs, toUs);
    expect(capped).toBeGreaterThanOrEqual(1.3);
    expect(capped).toBeLessThanOrEqual(2.7);

    for (const bad of ['hello', '{"type":"options","fps":1000}', '{"type":"subscribe","room":"vault"}', '{"type":"options","fps":5,"room":"x"}', '[1]']) viewer.send(bad);
    viewer.send(Buffer.from([1, 2, 3]));
    await waitFor('six rejections', () => viewer.texts.filter((t) => t.includes('"type":"rejected"')).length === 6, 5000);
    expect(await gw.metric('framecast_gateway_viewer_messages_total', { result: 'rejected' })).toBe(rejectedBefore + 6);
    const n = viewer.frames.length;
    await waitFor('still watching', () => viewer.frames.length > n, 5000);
    expect(viewer.closeCode).toBeNull();

    viewer.send(JSON.stringify({ type: 'options', fps: null }));
    await waitFor('the cap lifted', () => viewer.texts.some((t) => t === '{"type":"options","v":1,"fps":null}'), 5000);
    viewer.close();
  });

  it('a bad ?fps= is refused at connect with bad_request (4400)', async () => {
    const viewer = new TestViewer(`${gw.wsUrl('cam')}?fps=0`);
    expect(await viewer.closed).toBe(4400);
    expect(viewer.control[0]).toMatchObject({ type: 'error', error: 'bad_request' });
  });
});
