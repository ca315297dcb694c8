import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, launchChromium, REPO_ROOT, startService, stopAllServices, waitFor, type ServiceProcess, type TestBrowser } from '@framecast/testing';

let app: ServiceProcess;
let browser: TestBrowser;
let port: number;

beforeAll(async () => {
  port = await freePort();
  // `pnpm start` as a user runs it: no REDIS_URL, in-memory bus, testsrc agent for room demo.
  app = await startService('embedded', {
    entry: 'apps/embedded/src/main.ts',
    env: { PORT: String(port), HOST: '127.0.0.1' },
    readyLine: /Open http:\/\/127\.0\.0\.1:\d+\/rooms\/demo/,
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stopAllServices();
});

describe('embedded default in a browser', () => {
  it('prints the URL and the page there shows a moving test pattern with fps and latency', async () => {
    const url = /Open (http:\S+) to watch/.exec(app.lines.join('\n'))![1]!;
    expect(url).toBe(`http://127.0.0.1:${port}/rooms/demo`);
    const page = await browser.context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { framecastStats: { painted: number } }).framecastStats.painted >= 5, null, { timeout: 15_000 });
    const canvas = page.locator('#video');
    const a = await canvas.screenshot();
    await page.waitForTimeout(1500);
    const b = await canvas.screenshot();
    // A moving pattern: two screenshots 1.5 s apart differ (clock, counter and box move).
    expect(Buffer.compare(a, b)).not.toBe(0);
    const dims = await page.evaluate(() => {
      const c = document.getElementById('video') as HTMLCanvasElement;
      return [c.width, c.height];
    });
    expect(dims).toEqual([640, 360]);
    await page.waitForFunction(() => Number(document.getElementById('fps')!.textContent) > 0, null, { timeout: 5000 });
    expect(await page.locator('#latency').textContent()).toMatch(/\d+ \(p50\)/);
    expect(await page.locator('#state').textContent()).toBe('live');
    const out = join(REPO_ROOT, 'test-results');
    mkdirSync(out, { recursive: true });
    await page.screenshot({ path: join(out, 'embedded-viewer.png') });
  });

  it('lists the rooms from the in-process registry, with live status and viewer counts', async () => {
    expect(app.lines.join('\n')).toMatch(/webhooks off/);
    expect(app.lines.join('\n')).toMatch(/Auth is OFF/);
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${port}/rooms/demo`);
    const link = page.locator('#rooms a[data-room="demo"]');
    // The agent heartbeats within a second; the page polls every 5 s.
    await page.waitForFunction(() => document.querySelector('#rooms a[data-room="demo"].live') !== null, null, { timeout: 15_000 });
    expect(await link.getAttribute('aria-current')).toBe('page');
    const api = await (await fetch(`http://127.0.0.1:${port}/api/rooms/demo`)).json();
    expect(api).toMatchObject({ name: 'demo', live: true, visibility: 'public' });
    // The very first heartbeat can precede the first frame (no size yet); the next one has it.
    await waitFor(
      'camera size in a heartbeat',
      async () => (await (await fetch(`http://127.0.0.1:${port}/api/rooms/demo`)).json()).cameras[0]?.width === 640,
      10_000,
    );
    expect((await (await fetch(`http://127.0.0.1:${port}/api/rooms/demo`)).json()).cameras[0]).toMatchObject({ width: 640, height: 360 });
    // This page and the earlier one are viewers; presence reaches the registry within a flush.
    await waitFor('viewer counted', async () => (await (await fetch(`http://127.0.0.1:${port}/api/rooms/demo`)).json()).viewers.total >= 1, 5000);
  });

  it('a bad room name in the page URL shows the refusal instead of reconnecting forever', async () => {
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${port}/rooms/bad%20room`);
    await page.waitForFunction(() => document.getElementById('state')!.dataset.state === 'error', null, { timeout: 5000 });
    expect(await page.locator('#state').textContent()).toMatch(/invalid room name/);
  });
});
