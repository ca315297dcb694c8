import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, launchChromium, REPO_ROOT, startTestRedis, stopAllServices, waitFor, type ServiceProcess, type TestBrowser, type TestRedis } from '@framecast/testing';
import { startRegistry, type RegistryProcess } from '../../registry/test/helpers.ts';
import { startAgent, startGateway, type GatewayProcess } from './helpers.ts';

// The viewer app in headless Chromium against real processes: the room directory with live
// thumbnails, a grid of four rooms through <framecast-player> with a frame-rate cap, the player
// embedded in a page of another origin, a 375 px phone screen, and a gateway restart the player
// rides out by itself. The pages' /api requests go to the registry, as a deployment routing /api would.

type Page = Awaited<ReturnType<TestBrowser['context']['newPage']>>;

const ROOMS = ['north', 'south', 'east', 'west'];
const SHOTS = join(REPO_ROOT, 'test-results', 'viewer-app');
let redis: TestRedis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let gwPort: number;
const agents: ServiceProcess[] = [];
let browser: TestBrowser;
let embedServer: Server | undefined;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  redis = await startTestRedis();
  reg = await startRegistry(redis.url);
  const key = (await reg.api('POST', '/agent-keys', { name: 'boxes', rooms: ROOMS })).body.key;
  for (const room of ROOMS) expect((await reg.api('POST', '/rooms', { name: room, title: `${room[0]!.toUpperCase()}${room.slice(1)} gate`, visibility: 'public' })).status).toBe(201);
  gwPort = await freePort();
  gw = await startGateway(redis.url, { PORT: String(gwPort) });
  for (const room of ROOMS) {
    agents.push(
      await startAgent(redis.url, room, 'testsrc', {
        FRAMECAST_FPS: '12',
        FRAMECAST_SIZE: '640x360',
        FRAMECAST_VARIANT_CHECK_MS: '500',
        FRAMECAST_REGISTRY_URL: reg.url,
        FRAMECAST_AGENT_KEY: key,
        FRAMECAST_AGENT_ID: `box-${room}`,
        FRAMECAST_HEARTBEAT_INTERVAL_MS: '1000',
      }),
    );
  }
  browser = await launchChromium();
  await browser.context.route('**/api/**', async (route) => {
    const url = new URL(route.request().url());
    await route.fulfill({ response: await route.fetch({ url: `${reg.url}${url.pathname}${url.search}` }) });
  });
  await waitFor('every room live in the registry', async () => {
    const { rooms } = (await reg.api('GET', '/rooms', undefined, null)).body as { rooms: Array<{ name: string; live: boolean }> };
    return ROOMS.every((r) => rooms.find((x) => x.name === r)?.live === true);
  }, 15_000);
});
afterEach(() => expect((browser?.pageErrors ?? []).splice(0)).toEqual([]));
afterAll(async () => {
  await browser?.close();
  embedServer?.close();
  await stopAllServices();
  await redis?.close();
});

const open = (path: string, viewport = { width: 1280, height: 800 }, base = `http://127.0.0.1:${gwPort}`): Promise<Page> => browser.openPage(`${base}${path}`, viewport);

/** Frames each <framecast-player> on the page has painted, by room. */
const painted = (page: Page) =>
  page.evaluate(() => Object.fromEntries([...document.querySelectorAll('framecast-player')].map((p) => [p.getAttribute('room'), (p as unknown as { stats: { painted: number } }).stats.painted])));

describe('the viewer app', () => {
  it('the directory lists the live rooms with a thumbnail, the camera size and rate, and viewers', async () => {
    const page = await open('/');
    await page.waitForFunction(
      (rooms) => rooms.every((r) => {
        const card = document.querySelector(`.card[data-room="${r}"]`);
        const img = card?.querySelector('img');
        return card?.getAttribute('data-live') === 'true' && img instanceof HTMLImageElement && img.naturalWidth > 0;
      }),
      ROOMS,
      { timeout: 15_000 },
    );
    const card = page.locator('.card[data-room="north"]');
    expect(await card.locator('.title').textContent()).toBe('North gate');
    expect(await card.locator('.meta').textContent()).toMatch(/^640×360 · \d+ fps · \d+ watching$/);
    expect(await card.locator('.badge').textContent()).toBe('LIVE');
    expect(await card.locator('img').evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([640, 360]);
    await page.screenshot({ path: join(SHOTS, 'directory.png') });
    // Ticking rooms builds the grid link.
    await card.locator('input[type=checkbox]').check();
    await page.locator('.card[data-room="east"] input[type=checkbox]').check();
    expect(await page.locator('#grid-link').getAttribute('href')).toBe('/grid?rooms=north,east');
  });

  /** Frames each player paints per second over a 3 s window, once each has painted `warm` frames. */
  async function rates(page: Page, warm: number): Promise<Record<string, number>> {
    const first = await painted(page);
    await page.waitForFunction(
      ([before, n]) => [...document.querySelectorAll('framecast-player')].every((p) => (p as unknown as { stats: { painted: number } }).stats.painted >= (before[p.getAttribute('room')!] ?? 0) + n),
      [first, warm] as const,
      { timeout: 20_000 },
    );
    const startedAt = Date.now();
    const a = await painted(page);
    await page.waitForTimeout(3000); // the measurement window, not a wait for a result
    const b = await painted(page);
    const seconds = (Date.now() - startedAt) / 1000;
    return Object.fromEntries(Object.keys(b).map((room) => [room, (b[room]! - a[room]!) / seconds]));
  }

  it("the grid shows four rooms moving, from each camera's small variant (320 px, at most 2 fps)", async () => {
    const page = await open(`/grid?rooms=${ROOMS.join(',')}`);
    await page.waitForFunction(() => document.querySelectorAll('framecast-player').length === 4);
    const rate = await rates(page, 3);
    for (const room of ROOMS) expect(rate[room], room).toBeLessThanOrEqual(2.7);
    const tiles = await page.evaluate(() => [...document.querySelectorAll('framecast-player')].map((p) => ({ state: (p as unknown as { state: string }).state, ...(p as unknown as { stats: { width: number; height: number } }).stats })));
    for (const t of tiles) expect(t).toMatchObject({ state: 'live', width: 320, height: 180 });
    await page.screenshot({ path: join(SHOTS, 'grid.png') });
  });

  it('a grid of full streams is capped at its ?fps= by the gateway', async () => {
    const page = await open('/grid?rooms=north,south&variant=&fps=4');
    const rate = await rates(page, 8);
    for (const room of ['north', 'south']) {
      // 12 fps cameras capped at 4 by the gateway: about 4 per second, never the full 12.
      expect(rate[room], room).toBeGreaterThanOrEqual(2.5);
      expect(rate[room], room).toBeLessThanOrEqual(5.5);
    }
    expect(await page.evaluate(() => (document.querySelector('framecast-player') as unknown as { stats: { width: number } }).stats.width)).toBe(640);
  });

  it('the watch page paints a changing picture and shows the capture-to-paint latency', async () => {
    const page = await open('/rooms/north');
    await page.waitForFunction(() => (window as unknown as { framecastStats: { painted: number } }).framecastStats.painted >= 5, undefined, { timeout: 10_000 });
    const pixels = () => page.evaluate(() => (document.getElementById('video') as HTMLCanvasElement).toDataURL('image/png'));
    const before = await pixels();
    await page.waitForFunction((n) => (window as unknown as { framecastStats: { painted: number } }).framecastStats.painted >= n + 5, await page.evaluate(() => (window as unknown as { framecastStats: { painted: number } }).framecastStats.painted));
    expect(await pixels()).not.toBe(before);
    await page.waitForFunction(() => /^\d+ \(p50\)/.test(document.getElementById('latency')!.textContent ?? ''), undefined, { timeout: 5000 });
    const latency = await page.locator('#latency').textContent();
    console.log(`watch page: capture→paint ${latency} ms (loopback, headless Chromium)`);
    await page.screenshot({ path: join(SHOTS, 'watch.png') });
  });

  it('fits a 375 px phone screen: no horizontal scroll on the directory, grid, watch and go-live pages', async () => {
    for (const path of ['/', `/grid?rooms=${ROOMS.join(',')}`, '/rooms/north', '/publish/north']) {
      const page = await open(path, { width: 375, height: 740 });
      await page.waitForLoadState('networkidle').catch(() => {});
      await page.waitForFunction(() => document.querySelector('.card, framecast-player, #video, #preview') !== null);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width, path).toBeLessThanOrEqual(375);
    }
  });

  it('<framecast-player> embedded in a page of another origin plays the room, with its controls', async () => {
    const embedPort = await freePort();
    const html = `<!doctype html><html><body style="margin:0;background:#222">
<h1 style="color:#ddd;font:16px sans-serif">A page elsewhere</h1>
<script type="module" src="http://127.0.0.1:${gwPort}/framecast-player.js"></script>
<framecast-player id="p" room="south" controls style="width:480px"></framecast-player></body></html>`;
    embedServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((r) => embedServer!.listen(embedPort, '127.0.0.1', r));
    const page = await open('/', undefined, `http://127.0.0.1:${embedPort}`);
    await page.waitForFunction(() => ((document.getElementById('p') as unknown as { stats?: { painted: number } }).stats?.painted ?? 0) >= 5, undefined, { timeout: 10_000 });
    expect(await page.evaluate(() => (document.getElementById('p') as unknown as { state: string }).state)).toBe('live');
    await page.screenshot({ path: join(SHOTS, 'embedded.png') });
  });

  it('the player rides out a gateway restart by itself: live again within seconds, without a reload', async () => {
    const page = await open(`/grid?rooms=west`);
    await page.waitForFunction(() => (document.querySelector('framecast-player') as unknown as { state: string } | null)?.state === 'live', undefined, { timeout: 10_000 });
    await page.evaluate(() => {
      const states: string[] = [];
      (window as unknown as { states: string[] }).states = states;
      document.querySelector('framecast-player')!.addEventListener('statechange', (e) => states.push((e as CustomEvent<{ state: string }>).detail.state));
    });
    await gw.stop();
    const stoppedAt = Date.now();
    gw = await startGateway(redis.url, { PORT: String(gwPort) });
    await page.waitForFunction(() => (window as unknown as { states: string[] }).states.at(-1) === 'live', undefined, { timeout: 20_000 });
    const liveAfterMs = Date.now() - stoppedAt;
    const states = await page.evaluate(() => (window as unknown as { states: string[] }).states);
    console.log(`player after a gateway restart: live again ${liveAfterMs} ms after the old gateway stopped; states ${states.join(' → ')}`);
    expect(states).toContain('reconnecting');
  });
});
