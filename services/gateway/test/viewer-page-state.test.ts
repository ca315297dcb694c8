import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, REPO_ROOT, startTestRedis, stopAllServices, TestViewer, waitFor, type ServiceProcess, type TestBrowser, type TestRedis } from '@framecast/testing';
import { startAgent, startGateway, type GatewayProcess } from './helpers.ts';
import { startRegistry, type RegistryProcess } from '../../registry/test/helpers.ts';

// The viewer page tells the truth (issue 9, item 8): its room list counts the page itself and
// agrees with the registry, a join shows no skipped frame, and a room whose camera stops says so
// over its last frame. Headless Chromium against real gateway, registry, agent and Redis
// processes; the page's /api requests go to the registry, as a deployment routing /api would.

type Page = Awaited<ReturnType<TestBrowser['context']['newPage']>>;

const ROOM = 'porch';
let redis: TestRedis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let agentKey: string;
let agent: ServiceProcess;
let browser: TestBrowser;

interface PageStats {
  painted: number;
  skipped: number;
  gaps: number;
  replaced: number;
}

beforeAll(async () => {
  redis = await startTestRedis();
  reg = await startRegistry(redis.url, { FRAMECAST_AGENT_TIMEOUT_MS: '2000', FRAMECAST_SWEEP_INTERVAL_MS: '500' });
  expect((await reg.api('POST', '/rooms', { name: ROOM, visibility: 'public' })).status).toBe(201);
  agentKey = (await reg.api('POST', '/agent-keys', { name: 'porch-box', rooms: [ROOM] })).body.key;
  // Presence at its default pace (1 s batches): the page must count itself without a faster one.
  // A kept frame up to a minute old goes to a new viewer, so one joining the stopped room gets it.
  gw = await startGateway(redis.url, { FRAMECAST_FIRST_FRAME_MAX_AGE_MS: '60000' });
  agent = await camera();
  browser = await launchChromium();
  await browser.context.route('**/api/**', async (route) => {
    const url = new URL(route.request().url());
    await route.fulfill({ response: await route.fetch({ url: `${reg.url}${url.pathname}${url.search}` }) });
  });
  await waitFor('room live in the registry', async () => (await reg.api('GET', `/rooms/${ROOM}`)).body.live === true, 10_000);
});
afterEach(() => expect(browser?.pageErrors ?? []).toEqual([]));
afterAll(async () => {
  await browser?.close();
  await stopAllServices();
  await redis?.close();
});

/** A real capture agent (test pattern, real JPEGs) heartbeating to the registry. */
function camera(): Promise<ServiceProcess> {
  return startAgent(redis.url, ROOM, 'testsrc', {
    FRAMECAST_FPS: '10',
    FRAMECAST_REGISTRY_URL: reg.url,
    FRAMECAST_AGENT_KEY: agentKey,
    FRAMECAST_AGENT_ID: 'porch-box',
    FRAMECAST_HEARTBEAT_INTERVAL_MS: '500',
  });
}

const open = (): Promise<Page> => browser.openPage(`http://127.0.0.1:${gw.port}/rooms/${ROOM}`);

const stats = (page: Page) => page.evaluate(() => (window as unknown as { framecastStats: PageStats }).framecastStats);
const registryViewers = async () => (await reg.api('GET', `/rooms/${ROOM}`)).body.viewers.total as number;
/** The canvas's pixels (as a data URL) and their mean brightness. */
const canvasPixels = (page: Page) =>
  page.evaluate(() => {
    const c = document.getElementById('video') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += d[i]! + d[i + 1]! + d[i + 2]!;
    return { url: c.toDataURL(), brightness: sum / (d.length / 4) / 3 };
  });

describe('the viewer page', () => {
  it('counts itself in the room list, soon after joining, as the registry does', async () => {
    const startedAt = Date.now();
    const page = await open();
    await page.waitForFunction((room: string) => /· 1 watching$/.test(document.querySelector(`#rooms a[data-room="${room}"]`)?.textContent ?? ''), ROOM, { timeout: 10_000 });
    const countedAfterMs = Date.now() - startedAt;
    process.stdout.write(`viewer page counted itself ${countedAfterMs} ms after it was opened\n`);
    // The list used to be fetched at load and then every 5 s: "0 watching" for the first 5 s.
    expect(countedAfterMs).toBeLessThan(4500);
    expect(await registryViewers()).toBe(1);

    // Another viewer joins: the next refresh agrees with the registry again.
    const other = new TestViewer(gw.wsUrl(ROOM), { hash: false });
    await other.opened;
    await waitFor('registry counts two', async () => (await registryViewers()) === 2, 5000);
    await page.waitForFunction((room: string) => /· 2 watching$/.test(document.querySelector(`#rooms a[data-room="${room}"]`)?.textContent ?? ''), ROOM, { timeout: 8000 });
    other.close();
    await waitFor('registry counts one', async () => (await registryViewers()) === 1, 5000);
    await page.close();
  });

  it('shows no skipped frame after joining while frames flow normally', async () => {
    for (let join = 0; join < 3; join++) {
      const page = await open();
      await page.waitForFunction(() => (window as unknown as { framecastStats: PageStats }).framecastStats.painted >= 25, null, { timeout: 15_000 });
      const s = await stats(page);
      expect(s, `join ${join}`).toMatchObject({ skipped: 0, gaps: 0, replaced: 0 });
      expect(await page.locator('#skipped').textContent()).toBe('0');
      expect(await page.locator('#state').textContent()).toBe('live');
      expect(await page.locator('#overlay').isHidden()).toBe(true);
      await page.close();
    }
  });

  it('says a room whose camera stopped is offline, over its last frame, and plays again when it returns', async () => {
    const page = await open();
    await page.waitForFunction(() => (window as unknown as { framecastStats: PageStats }).framecastStats.painted >= 10, null, { timeout: 15_000 });
    expect(await page.locator('#state').textContent()).toBe('live');

    await agent.stop('SIGTERM');
    const stoppedAt = Date.now();
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'offline, waiting for the camera', null, { timeout: 10_000 });
    process.stdout.write(`viewer page said offline ${Date.now() - stoppedAt} ms after the camera stopped\n`);
    expect(await page.locator('#overlay').isVisible()).toBe(true);
    expect(await page.locator('#overlay-title').textContent()).toBe('offline, waiting for the camera');
    expect(await page.locator('#overlay-detail').textContent()).toMatch(/^last frame \d\d?:\d\d:\d\d.* \(\d+ s ago\)$/);
    expect(await page.locator('#video').getAttribute('class')).toContain('dim');
    // The last frame stays on the canvas (the pattern is bright), and nothing replaces it.
    const last = await canvasPixels(page);
    expect(last.brightness).toBeGreaterThan(20);
    // The registry's verdict reaches the list; the page still shows the same frame.
    await page.waitForSelector(`#rooms a[data-room="${ROOM}"].off`, { timeout: 10_000 });
    expect((await canvasPixels(page)).url).toBe(last.url);
    expect(await page.locator('#state').textContent()).toBe('offline, waiting for the camera');

    // Someone joining the stopped room sees the kept last frame, dimmed, and the same message.
    const late = await open();
    await late.waitForFunction(() => document.getElementById('state')!.textContent === 'offline, waiting for the camera', null, { timeout: 10_000 });
    expect((await stats(late)).painted).toBe(1);
    expect((await canvasPixels(late)).brightness).toBeGreaterThan(20);
    expect(await late.locator('#overlay-detail').textContent()).toMatch(/^last frame /);
    const out = join(REPO_ROOT, 'test-results');
    mkdirSync(out, { recursive: true });
    await late.screenshot({ path: join(out, 'viewer-offline.png') });
    await page.screenshot({ path: join(out, 'viewer-offline-watching.png') });

    // The camera comes back: live again, the overlay goes, and a restarted camera's new sequence is no skip.
    agent = await camera();
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'live', null, { timeout: 15_000 });
    await page.waitForFunction(() => document.getElementById('overlay')!.hidden, null, { timeout: 5000 });
    expect(await page.locator('#video').getAttribute('class')).not.toContain('dim');
    expect(await stats(page)).toMatchObject({ skipped: 0 });
    await page.waitForFunction((room: string) => /· 2 watching$/.test(document.querySelector(`#rooms a[data-room="${room}"]`)?.textContent ?? ''), ROOM, { timeout: 8000 });
  });
});
