import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startTestRedis, stopAllServices, type TestBrowser, type TestRedis } from '@framecast/testing';
import { startAgent, startGateway, type GatewayProcess } from './helpers.ts';
import { startRegistry, TOKEN_SECRET, type RegistryProcess } from '../../registry/test/helpers.ts';

// The viewer page plays a private room with a token that never travels in a URL: it comes in the
// page's fragment (never sent to servers) or a prompt, and goes to the gateway in the
// Sec-WebSocket-Protocol header. Checked in headless Chromium against real processes.

let redis: TestRedis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let browser: TestBrowser;

beforeAll(async () => {
  redis = await startTestRedis();
  reg = await startRegistry(redis.url);
  expect((await reg.api('POST', '/rooms', { name: 'hushed', visibility: 'private' })).status).toBe(201);
  // Debug level logs every upgrade's path: the test reads them for the token.
  gw = await startGateway(redis.url, { FRAMECAST_AUTH: 'on', FRAMECAST_TOKEN_SECRET: TOKEN_SECRET, LOG_LEVEL: 'debug' });
  await gw.waitForLine(/public room list loaded/);
  // A real agent: the page decodes what it paints, so the frames must be real JPEGs.
  await startAgent(redis.url, 'hushed', 'testsrc');
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stopAllServices();
  await redis?.close();
});

async function token(): Promise<string> {
  const res = await reg.api('POST', '/rooms/hushed/tokens', { user: 'page', ttlSeconds: 600 });
  expect(res.status).toBe(201);
  return res.body.token;
}

const painted = () => (window as unknown as { framecastStats: { painted: number } }).framecastStats.painted >= 3;

describe('viewer page and tokens', () => {
  it('plays a private room from #token=, and the token is in no request line the gateway sees', async () => {
    const t = await token();
    const page = await browser.context.newPage();
    const socketUrls: string[] = [];
    const requestUrls: string[] = [];
    page.on('websocket', (ws) => socketUrls.push(ws.url()));
    page.on('request', (req) => requestUrls.push(req.url()));
    await page.goto(`http://127.0.0.1:${gw.port}/rooms/hushed#token=${t}`);
    await page.waitForFunction(painted, null, { timeout: 15_000 });
    expect(await page.locator('#state').textContent()).toBe('live');
    expect(socketUrls).toEqual([`ws://127.0.0.1:${gw.port}/ws/video/hushed`]);
    for (const url of [...socketUrls, ...requestUrls]) expect(url).not.toContain(t);
    // The gateway's own record of the connection (debug log with the request path) has no token.
    await gw.waitForLine(/viewer admitted/);
    expect(gw.lines.filter((l) => l.includes('/ws/video/hushed')).length).toBeGreaterThan(0);
    expect(gw.lines.join('\n')).not.toContain(t);
    expect(gw.lines.join('\n')).not.toContain(t.split('.')[2]!);
    await page.close();
  });

  it('without a token asks for one, and plays once it is entered', async () => {
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${gw.port}/rooms/hushed`);
    await page.waitForSelector('#token-form:not([hidden])', { timeout: 10_000 });
    expect(await page.locator('#state').textContent()).toBe('private room');
    expect(await page.locator('#token-why').textContent()).toMatch(/token is required/);
    await page.fill('#token-input', await token());
    await page.click('#token-form button');
    await page.waitForFunction(painted, null, { timeout: 15_000 });
    // Kept in the fragment for reloads, never in the query.
    expect(new URL(page.url()).search).toBe('');
    expect(new URL(page.url()).hash).toMatch(/^#token=/);
    await page.close();
  });

  it('moves an old-style ?token= out of the query into the fragment and still plays', async () => {
    const t = await token();
    const page = await browser.context.newPage();
    const socketUrls: string[] = [];
    page.on('websocket', (ws) => socketUrls.push(ws.url()));
    await page.goto(`http://127.0.0.1:${gw.port}/rooms/hushed?token=${t}`);
    await page.waitForFunction(painted, null, { timeout: 15_000 });
    expect(new URL(page.url()).search).toBe('');
    expect(socketUrls.every((u) => !u.includes(t))).toBe(true);
    await page.close();
  });
});
