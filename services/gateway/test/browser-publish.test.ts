import { execFile, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeEnvelope, nowMicros, TOKEN_SUBPROTOCOL_PREFIX, VIEWER_SUBPROTOCOL, type RejectedMessage } from '@framecast/protocol';
import { freePort, launchChromium, REPO_ROOT, scrapeMetric, startTestRedis, stopAllServices, TestViewer, waitFor, type MetricLabels, type TestBrowser, type TestRedis } from '@framecast/testing';
import { ViewerTokenSigner } from '@framecast/viewer-tokens';
import { startRegistry, TOKEN_SECRET, type RegistryProcess } from '../../registry/test/helpers.ts';
import { startGateway, type GatewayProcess } from './helpers.ts';
import { jpegSize, MjpegReader } from './mjpeg-reader.ts';

// Publishing from a browser (issue 12 §5) against real processes: a registry issuing the tokens
// (auth on), a gateway, Redis, headless Chromium with a fake camera on the "go live" page, and
// node websocket clients playing misbehaving publishers. Viewers are real websocket viewers and a
// real MJPEG client of the same rooms.

type Page = Awaited<ReturnType<TestBrowser['context']['newPage']>>;

const SHOTS = join(REPO_ROOT, 'test-results', 'browser-publish');
const MAX_ENVELOPE_BYTES = 1024 * 1024;
const MAX_FPS = 30;
let redis: TestRedis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let gwPort: number;
let base: string;
let browser: TestBrowser;
/** A 320x180 JPEG from ffmpeg, the picture node publishers send. */
let jpeg: Buffer;
const tokens = { studioPublish: '', studioView: '', otherPublish: '', yardPublish: '', dockPublish: '' };
/** Every node publisher a test opened, cut off after it so a failed test leaves no room busy. */
const clients: PublishClient[] = [];

function gatewayEnv(): Record<string, string> {
  return {
    PORT: String(gwPort),
    FRAMECAST_AUTH: 'on',
    FRAMECAST_TOKEN_SECRET: TOKEN_SECRET,
    FRAMECAST_MAX_ENVELOPE_BYTES: String(MAX_ENVELOPE_BYTES),
    FRAMECAST_MAX_PUBLISH_FPS: String(MAX_FPS),
  };
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  redis = await startTestRedis();
  reg = await startRegistry(redis.url);
  for (const [name, visibility] of [['studio', 'private'], ['other', 'public'], ['yard', 'public'], ['dock', 'public']]) {
    expect((await reg.api('POST', '/rooms', { name, visibility })).status).toBe(201);
  }
  const issue = async (path: string) => {
    const res = await reg.api('POST', path, { ttlSeconds: 600 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.token as string;
  };
  tokens.studioPublish = await issue('/rooms/studio/publish-tokens');
  tokens.studioView = await issue('/rooms/studio/tokens');
  tokens.otherPublish = await issue('/rooms/other/publish-tokens');
  tokens.yardPublish = await issue('/rooms/yard/publish-tokens');
  tokens.dockPublish = await issue('/rooms/dock/publish-tokens');
  gwPort = await freePort();
  gw = await startGateway(redis.url, gatewayEnv());
  base = `http://127.0.0.1:${gwPort}`;
  await waitFor('gateway ready', async () => (await fetch(`${base}/readyz`)).status === 200, 10_000);
  const { stdout } = await promisify(execFile)('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180', '-frames:v', '1', '-f', 'mjpeg', 'pipe:1'], {
    encoding: 'buffer',
    timeout: 20_000,
  });
  jpeg = stdout;
  browser = await launchChromium({ args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.ws.terminate();
  expect((browser?.pageErrors ?? []).splice(0)).toEqual([]);
});
afterAll(async () => {
  await browser?.close();
  await stopAllServices();
  await redis?.close();
});

const open = (path: string, viewport = { width: 1024, height: 800 }): Promise<Page> => browser.openPage(`${base}${path}`, viewport);

interface PublishState {
  state: string;
  sent: number;
  skipped: number;
  dropped: number;
  lastError: { error: string; code: number; message: string } | null;
}
const publishState = (page: Page) => page.evaluate(() => (window as unknown as { framecastPublish: PublishState }).framecastPublish);

/** A node websocket client on /ws/publish/<room>: what it was told, and how it was closed. */
class PublishClient {
  readonly ws: WebSocket;
  readonly texts: Array<Record<string, unknown>> = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  closeCode: number | null = null;

  constructor(room: string, opts: { token?: string; as?: 'subprotocol' | 'bearer' | 'query'; path?: string } = {}) {
    const { token, as = 'bearer' } = opts;
    const protocols = [VIEWER_SUBPROTOCOL];
    const headers: Record<string, string> = {};
    let url = `ws://127.0.0.1:${gwPort}${opts.path ?? `/ws/publish/${room}`}`;
    if (token && as === 'subprotocol') protocols.push(TOKEN_SUBPROTOCOL_PREFIX + token);
    if (token && as === 'bearer') headers.authorization = `Bearer ${token}`;
    if (token && as === 'query') url += `?token=${token}`;
    this.ws = new WebSocket(url, protocols, { headers, perMessageDeflate: false });
    clients.push(this);
    this.ws.on('message', (data, isBinary) => {
      if (!isBinary) this.texts.push(JSON.parse(data.toString()) as Record<string, unknown>);
    });
    this.ws.on('error', () => {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        this.closeCode = code;
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  get hello(): Record<string, unknown> | undefined {
    return this.texts.find((t) => t.type === 'hello');
  }
  get errors(): Array<Record<string, unknown>> {
    return this.texts.filter((t) => t.type === 'error');
  }
  get notes(): RejectedMessage[] {
    return this.texts.filter((t) => t.type === 'rejected') as unknown as RejectedMessage[];
  }
  /** Frames dropped for `reason`, as the gateway's notes told so far. */
  told(reason: string): number {
    return this.notes.reduce((n, m) => n + ((m.dropped as Record<string, number> | undefined)?.[reason] ?? 0), 0);
  }
  send(data: Buffer | string): void {
    this.ws.send(data);
  }
  /** A valid frame of the 320x180 picture; `over` changes header fields. */
  frame(over: Partial<Parameters<typeof encodeEnvelope>[0]> = {}, payload: Uint8Array = jpeg): Buffer {
    return encodeEnvelope({ sequence: 777, captureTimeUs: nowMicros(), width: 320, height: 180, ...over }, payload);
  }
  close(): void {
    this.ws.close();
  }
}

// The gateway is started with PORT set (a restart keeps the port), so its address is gwPort, not the helper's own.
const metric = (name: string, labels?: MetricLabels) => scrapeMetric(gwPort, name, labels);
const viewerUrl = (room: string) => `ws://127.0.0.1:${gwPort}/ws/video/${room}`;
const published = (result: string) => metric('framecast_gateway_publish_frames_total', { result });

/** Whether ffmpeg decodes the bytes as a JPEG picture without a complaint. */
function decodesAsJpeg(data: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const ff = spawn('ffmpeg', ['-hide_banner', '-v', 'error', '-f', 'image2pipe', '-c:v', 'mjpeg', '-i', 'pipe:0', '-f', 'null', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let errors = '';
    ff.stderr.on('data', (c: Buffer) => (errors += c.toString()));
    ff.on('close', (code) => resolve(code === 0 && errors === ''));
    ff.stdin.end(data);
  });
}

describe('publishing from a browser', () => {
  it('Chromium with a fake camera goes live on a private room with a publish token; a websocket viewer and an MJPEG client of the room receive its frames', async () => {
    const viewer = new TestViewer(viewerUrl('studio'), { headers: { authorization: `Bearer ${tokens.studioView}` } });
    await viewer.opened;
    const mjpeg = new MjpegReader(`${base}/video/studio.mjpeg`, { authorization: `Bearer ${tokens.studioView}` });
    expect(await mjpeg.response).toBe(200);

    const page = await open(`/publish/studio#token=${tokens.studioPublish}`);
    await page.waitForFunction(() => (window as unknown as { framecastPublish: PublishState }).framecastPublish.state === 'live', undefined, { timeout: 15_000 });
    expect(await page.locator('#state').textContent()).toBe('live');
    expect(await page.locator('#watch').getAttribute('href')).toBe('/rooms/studio');
    // The token never went into a URL: the page keeps it in the fragment.
    expect(new URL(page.url()).search).toBe('');

    await waitFor('20 frames at the websocket viewer', () => viewer.frames.length >= 20, 15_000);
    await waitFor('5 MJPEG parts', () => mjpeg.parts.length >= 5, 10_000);
    // Frames of the page's default size, under the gateway's own sequence (consecutive: nothing
    // was dropped at 10 fps) and a capture time from this machine's clock.
    const frames = viewer.frames.slice(-15);
    for (const f of frames) expect(f).toMatchObject({ width: 640, height: 360 });
    const seqs = frames.map((f) => f.sequence);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    const latencies = frames.map((f) => (f.receivedUs - f.captureTimeUs) / 1000);
    expect(Math.min(...latencies)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...latencies)).toBeLessThan(2000);
    // Each MJPEG part is a whole JPEG of that size, and ffmpeg decodes it.
    for (const part of mjpeg.parts.slice(-3)) {
      expect(jpegSize(part.jpeg)).toEqual({ width: 640, height: 360 });
      expect(await decodesAsJpeg(part.jpeg)).toBe(true);
    }
    // The picture moves (the fake camera animates): not the same JPEG over and over.
    expect(new Set(mjpeg.parts.map((p) => p.jpeg.toString('base64'))).size).toBeGreaterThan(1);

    const state = await publishState(page);
    expect(state.sent).toBeGreaterThanOrEqual(20);
    expect(state.dropped).toBe(0);
    expect(await metric('framecast_gateway_publishers')).toBe(1);
    expect(await published('published')).toBeGreaterThanOrEqual(20);
    const rate = await page.evaluate(async () => {
      const s = (window as unknown as { framecastPublish: PublishState }).framecastPublish;
      const a = s.sent;
      await new Promise((r) => setTimeout(r, 2000)); // the measurement window
      return (s.sent - a) / 2;
    });
    console.log(`browser publisher: ${rate} frames/s sent at the page's default 10 fps, ${state.sent} in all, viewer latency p50 ${latencies.sort((a, b) => a - b)[Math.floor(latencies.length / 2)]!.toFixed(1)} ms (capture in the page → websocket viewer)`);
    // Never above the chosen rate (a loaded machine may encode slower and skip, never queue).
    expect(rate).toBeGreaterThanOrEqual(4);
    expect(rate).toBeLessThanOrEqual(11.5);
    await page.screenshot({ path: join(SHOTS, 'publish.png') });

    // One publisher per room: a second, with the same token, is refused while the page is live.
    const second = new PublishClient('studio', { token: tokens.studioPublish });
    expect(await second.closed).toEqual({ code: 4409, reason: 'another publisher is live in this room' });
    expect(second.errors).toEqual([expect.objectContaining({ error: 'room_busy', code: 4409 })]);

    // The page's stop button ends the publisher; the room is free again.
    await page.locator('#stop').click();
    await waitFor('the publisher gone', async () => (await metric('framecast_gateway_publishers')) === 0, 5000);
    expect(await page.locator('#state').textContent()).toBe('stopped');
    viewer.close();
    mjpeg.close();
  });

  it('the page fits a 375 px phone screen', async () => {
    const page = await open('/publish/yard', { width: 375, height: 740 });
    await page.waitForFunction(() => document.getElementById('room')?.textContent === 'yard');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(SHOTS, 'publish-375.png') });
  });

  it('without a token the page is refused (4401) and asks for one; with the token typed in it goes live', async () => {
    const page = await open('/publish/yard');
    expect(await page.locator('#state').textContent()).toBe('ready');
    await page.locator('#go').click();
    await page.waitForFunction(() => (window as unknown as { framecastPublish: PublishState }).framecastPublish.state === 'refused', undefined, { timeout: 15_000 });
    expect((await publishState(page)).lastError).toMatchObject({ error: 'publish_unauthorized', code: 4401 });
    expect(await page.locator('#token-form').isVisible()).toBe(true);
    expect(await page.locator('#token-why').textContent()).toMatch(/publish token/);
    await page.locator('#token-input').fill(tokens.yardPublish);
    await page.locator('#go').click();
    await page.waitForFunction(() => (window as unknown as { framecastPublish: PublishState }).framecastPublish.sent >= 3, undefined, { timeout: 15_000 });
    expect(new URL(page.url()).hash).toBe(`#token=${tokens.yardPublish}`);
    await page.close();
    await waitFor('the publisher gone', async () => (await metric('framecast_gateway_publishers')) === 0, 5000);
  });

  const refusals: Array<[string, number, string, RegExp, () => PublishClient]> = [
    ['no token', 4401, 'publish_unauthorized', /publish token/, () => new PublishClient('studio')],
    ['a publish token for another room', 4403, 'forbidden', /does not open room studio/, () => new PublishClient('studio', { token: tokens.otherPublish })],
    ['a viewer token of the room', 4401, 'publish_unauthorized', /viewer token cannot publish/, () => new PublishClient('studio', { token: tokens.studioView })],
    ['a viewer token as the subprotocol', 4401, 'publish_unauthorized', /viewer token cannot publish/, () => new PublishClient('studio', { token: tokens.studioView, as: 'subprotocol' })],
    ['a valid publish token in the URL (never read from there)', 4401, 'publish_unauthorized', /publish token/, () => new PublishClient('studio', { token: tokens.studioPublish, as: 'query' })],
    ['a forged publish token', 4401, 'publish_unauthorized', /not valid/, () => new PublishClient('studio', { token: tokens.studioPublish.slice(0, -4) + 'AAAA' })],
    ['a bad room name', 4400, 'invalid_room', /invalid room name/, () => new PublishClient('x', { path: '/ws/publish/-bad', token: tokens.studioPublish })],
  ];
  it.each(refusals)('refuses %s: %i %s', async (_what, code, error, message, connect) => {
    const before = await metric('framecast_gateway_publishers_refused_total', { reason: error });
    const client = connect();
    const closed = await client.closed;
    expect(closed.code).toBe(code);
    expect(client.errors).toEqual([expect.objectContaining({ type: 'error', error, code, message: expect.stringMatching(message) })]);
    expect(client.hello).toBeUndefined();
    expect(await metric('framecast_gateway_publishers_refused_total', { reason: error })).toBe(before + 1);
  });

  it('an expired publish token is refused with 4401 publish_token_expired', async () => {
    const expired = (await new ViewerTokenSigner(TOKEN_SECRET).issue({ rooms: ['studio'], ttlSeconds: 10, scope: 'publish', now: Date.now() - 60_000 })).token;
    const client = new PublishClient('studio', { token: expired, as: 'subprotocol' });
    expect((await client.closed).code).toBe(4401);
    expect(client.errors[0]).toMatchObject({ error: 'publish_token_expired' });
  });

  it('a publish token is a lease: the publisher is closed (4401 publish_token_expired) when it runs out', async () => {
    const { token, expiresAt } = await new ViewerTokenSigner(TOKEN_SECRET).issue({ rooms: ['other'], ttlSeconds: 2, scope: 'publish' });
    const client = new PublishClient('other', { token });
    await waitFor('hello', () => client.hello, 5000);
    expect((await client.closed).code).toBe(4401);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(client.errors[0]).toMatchObject({ error: 'publish_token_expired' });
  });

  it('a publish token never opens the private room for viewing', async () => {
    const viewer = new TestViewer(viewerUrl('studio'), { headers: { authorization: `Bearer ${tokens.studioPublish}` } });
    expect(await viewer.closed).toBe(4401);
    expect(viewer.control[0]).toMatchObject({ type: 'error', error: 'unauthorized', message: expect.stringMatching(/publish token cannot open a room for viewing/) });
    const snapshot = await fetch(`${base}/video/studio.jpg`, { headers: { authorization: `Bearer ${tokens.studioPublish}` } });
    expect(snapshot.status).toBe(401);
  });

  it('plain HTTP on the publish path is a 426; an upgrade to an unknown path a 404; viewers and publishers keep their own paths', async () => {
    const res = await fetch(`${base}/ws/publish/studio`);
    expect(res.status).toBe(426);
    expect(await res.json()).toMatchObject({ error: 'upgrade_required' });
    const stray = new PublishClient('x', { path: '/ws/nothing/here' });
    await expect(stray.opened).rejects.toThrow('HTTP 404');
    // A viewer on the publish path is a publisher without a token (refused), never a viewer.
    const misplaced = new TestViewer(`ws://127.0.0.1:${gwPort}/ws/publish/yard`, { protocols: [VIEWER_SUBPROTOCOL] });
    expect(await misplaced.closed).toBe(4401);
    expect(misplaced.control[0]).toMatchObject({ error: 'publish_unauthorized' });
  });

  it('a node publisher with a valid token: garbage, lies, oversize and too-fast frames are dropped, counted and told; good frames still reach viewers', async () => {
    const viewer = new TestViewer(viewerUrl('dock'));
    await viewer.opened;
    const client = new PublishClient('dock', { token: tokens.dockPublish });
    await client.opened;
    await waitFor('hello', () => client.hello, 5000);
    expect(client.hello).toMatchObject({ type: 'hello', v: 1, role: 'publisher', room: 'dock', maxFps: MAX_FPS, maxEnvelopeBytes: MAX_ENVELOPE_BYTES, maxDimension: 4096 });
    const at = { invalid: await published('invalid'), oversized: await published('oversized'), rate: await published('rate'), published: await published('published'), superseded: await published('superseded') };

    // Garbage: not an envelope, a text message, a PNG in a JPEG envelope, a header that lies about the size.
    client.send(Buffer.from('this is not a frame at all'));
    client.send('{"type":"frame"}');
    client.send(client.frame({}, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])));
    client.send(client.frame({ width: 1920, height: 1080 }));
    await waitFor('4 invalid counted', async () => (await published('invalid')) === at.invalid + 4, 5000);
    await waitFor('told about 4 invalid frames', () => client.told('invalid') === 4, 5000);
    // The first was told at once, with its reason; the rest in the next note, a second later at most.
    expect(client.notes[0]).toMatchObject({ type: 'rejected', v: 1, error: 'bad_message', dropped: { invalid: 1 }, message: expect.stringMatching(/bad magic/) });
    expect(viewer.frames).toHaveLength(0);

    // A good frame after the garbage goes through, re-headed: the gateway's sequence, and a capture
    // time from an hour in the future clamped to now.
    const sentAtUs = nowMicros();
    client.send(client.frame({ sequence: 4_000_000, captureTimeUs: sentAtUs + 3_600_000_000 }));
    await waitFor('the good frame at the viewer', () => viewer.frames.length === 1, 5000);
    expect(viewer.frames[0]).toMatchObject({ width: 320, height: 180, sequence: 0 });
    expect(viewer.frames[0]!.captureTimeUs).toBeGreaterThanOrEqual(sentAtUs);
    expect(viewer.frames[0]!.captureTimeUs).toBeLessThanOrEqual(nowMicros());
    // A capture time a minute old is clamped too; a plausible one is kept.
    client.send(client.frame({ captureTimeUs: sentAtUs - 60_000_000 }));
    await waitFor('the second frame', () => viewer.frames.length === 2, 5000);
    expect(viewer.frames[1]!.sequence).toBe(1);
    expect(viewer.frames[1]!.captureTimeUs).toBeGreaterThanOrEqual(sentAtUs);
    const plausible = nowMicros() - 30_000;
    client.send(client.frame({ captureTimeUs: plausible }));
    await waitFor('the third frame', () => viewer.frames.length === 3, 5000);
    expect(viewer.frames[2]).toMatchObject({ sequence: 2, captureTimeUs: plausible });
    expect(await published('published')).toBe(at.published + 3);

    // Oversized: over FRAMECAST_MAX_ENVELOPE_BYTES (under twice that): dropped, told, still connected.
    client.send(client.frame({}, Buffer.concat([jpeg.subarray(0, jpeg.byteLength - 2), Buffer.alloc(MAX_ENVELOPE_BYTES), Buffer.from([0xff, 0xd9])])));
    await waitFor('oversized counted', async () => (await published('oversized')) === at.oversized + 1, 5000);
    await waitFor('told about the oversized frame', () => client.told('oversized') === 1, 5000);
    expect(client.notes.at(-1)!.message).toMatch(/exceeds the limit of 1048576/);

    // Too fast: 60 frames at once against 30 a second; most are dropped for the rate.
    for (let i = 0; i < 60; i++) client.send(client.frame());
    const settled = async () => {
      const d = (r: keyof typeof at) => published(r).then((v) => v - at[r]);
      return (await d('published')) - 3 + (await d('superseded')) + (await d('rate')) === 60;
    };
    await waitFor('all 60 frames accounted for', settled, 10_000);
    const rateDropped = (await published('rate')) - at.rate;
    // At most a quarter second's burst (8) and what trickles in at 30/s while they arrive passes.
    expect(rateDropped).toBeGreaterThanOrEqual(30);
    await waitFor('told about the rate', () => client.told('rate') === rateDropped, 5000);
    expect(client.notes.at(-1)!.message).toMatch(/over 30 frames a second/);
    // What passed reached the viewer, numbered on: the gateway's sequence never jumps back.
    await waitFor('the frames that passed at the viewer', async () => viewer.frames.length === 3 + (await published('published')) - at.published - 3, 5000);
    const seqs = viewer.frames.map((f) => f.sequence);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);

    // The publisher was never closed for any of it.
    expect(client.closeCode).toBeNull();
    console.log(`node publisher: ${client.notes.length} notes for ${4 + 1 + 60 - ((await published('published')) - at.published - 3)} dropped frames: ${client.notes.map((n) => JSON.stringify(n.dropped)).join(' ')}`);

    // A message over twice the limit is refused by its length alone: the connection closes, 1009.
    client.send(Buffer.alloc(2 * MAX_ENVELOPE_BYTES + 1));
    expect((await client.closed).code).toBe(1009);
    await waitFor('counted as oversized', async () => (await published('oversized')) === at.oversized + 2, 5000);
    await waitFor('the publisher gone', async () => (await metric('framecast_gateway_publishers')) === 0, 5000);
    viewer.close();
  });

  it('on shutdown publishers are closed with 1012; the page reconnects by itself and is live again on the restarted gateway', async () => {
    const client = new PublishClient('other', { token: tokens.otherPublish, as: 'subprotocol' });
    await client.opened;
    await waitFor('hello', () => client.hello, 5000);
    const page = await open(`/publish/yard#token=${tokens.yardPublish}`);
    await page.waitForFunction(() => (window as unknown as { framecastPublish: PublishState }).framecastPublish.state === 'live', undefined, { timeout: 15_000 });
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => seen.push(document.getElementById('state')!.textContent!)).observe(document.getElementById('state')!, { childList: true, characterData: true, subtree: true });
    });
    await gw.stop();
    expect(await client.closed).toEqual({ code: 1012, reason: 'gateway restarting, reconnect' });
    expect(client.errors[0]).toMatchObject({ error: 'shutting_down', code: 1012 });
    const stoppedAt = Date.now();
    gw = await startGateway(redis.url, gatewayEnv());
    await page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.at(-1) === 'live', undefined, { timeout: 20_000 });
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen).toContain('reconnecting');
    const sentBefore = (await publishState(page)).sent;
    await page.waitForFunction((n) => (window as unknown as { framecastPublish: PublishState }).framecastPublish.sent >= n + 5, sentBefore, { timeout: 10_000 });
    console.log(`go-live page after a gateway restart: live again ${Date.now() - stoppedAt} ms after the old gateway stopped; states ${seen.join(' → ')}`);
  });
});
