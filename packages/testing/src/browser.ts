import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

/** Debian's Chromium; tests never let a tool download a browser of its own. */
export const CHROMIUM_PATH = process.env.FRAMECAST_TEST_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  /** Every uncaught error of the pages opened with openPage, in order (a test expects none). */
  pageErrors: string[];
  /** A new page at `url` (at `viewport` if given) whose uncaught errors go to pageErrors. */
  openPage(url: string, viewport?: { width: number; height: number }): Promise<Page>;
  /** Closes every page and the browser, and removes the profile. */
  close(): Promise<void>;
}

export interface LaunchOptions {
  /**
   * Flags after the fixed ones, e.g. a fake camera for getUserMedia:
   * `--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`.
   */
  args?: string[];
}

/** Headless Chromium with a fresh profile that is removed on close. */
export async function launchChromium(opts: LaunchOptions = {}): Promise<TestBrowser> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'framecast-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...(opts.args ?? [])], headless: true });
  const pageErrors: string[] = [];
  return {
    context,
    pageErrors,
    async openPage(url, viewport) {
      const page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(String(err)));
      if (viewport) await page.setViewportSize(viewport);
      await page.goto(url);
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
