import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';

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
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
