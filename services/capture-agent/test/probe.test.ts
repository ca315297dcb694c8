import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, stopAllServices } from '@framecast/testing';
import { AGENT_ENTRY } from './helpers.ts';
import { jpegFrames, makeClip, mediaDir } from './media.ts';
import { MjpegCamera } from './mjpeg-camera.ts';

let dir: string;
let clip: string;
let page: MjpegCamera;
let mjpeg: MjpegCamera;

beforeAll(async () => {
  dir = mediaDir();
  clip = makeClip(dir, 'probe', { codec: 'h264', width: 640, height: 360, fps: 25, seconds: 2 });
  page = await MjpegCamera.start({ frames: [], fps: 1, answer: { status: 200, contentType: 'text/html', body: '<html></html>' } });
  mjpeg = await MjpegCamera.start({ frames: jpegFrames(dir, { width: 320, height: 240, fps: 10, seconds: 1 }), fps: 20 });
});
afterAll(async () => {
  await stopAllServices();
  await page?.close();
  await mjpeg?.close();
});

/** Runs the CLI to completion (no Redis: probe publishes nothing). */
async function probe(args: string[]) {
  const svc = await startService('agent-probe', { entry: AGENT_ENTRY, args, env: {} });
  const code = await svc.exited;
  return { code, lines: svc.lines.filter((l) => l.trim() !== '') };
}

describe('probe mode', () => {
  it('reports what a file source offers and what the agent makes of it, then exits 0', async () => {
    const { code, lines } = await probe(['probe', '--source', `file:${clip}`, '--size', '320x180', '--fps', '10', '--probe-seconds', '2', '--json']);
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(report).toMatchObject({
      camera: 'lobby',
      ok: true,
      error: null,
      mode: 'encode',
      input: { codec: 'h264', width: 640, height: 360, fps: 25 },
      width: 320,
      height: 180,
      configured: { size: '320x180', fps: 10 },
    });
    expect(report.fps).toBeGreaterThan(8.5);
    expect(report.fps).toBeLessThan(11.5);
    expect(report.frames).toBeGreaterThanOrEqual(18);
  });

  it('--dry-run prints one line per camera of a config file, naming each failure, and exits 1 if any failed', async () => {
    const config = join(dir, 'probe.yaml');
    writeFileSync(
      config,
      `cameras:
  - room: porch
    source: ${mjpeg.url}
  - room: web-page
    source: ${page.url}
  - room: missing
    source: file:${join(dir, 'missing.mp4')}
`,
    );
    const { code, lines } = await probe(['--dry-run', '--config', config, '--probe-seconds', '1']);
    expect(code).toBe(1);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^porch: ok http:\/\/127\.0\.0\.1:\d+\/\?action=stream: source mjpeg .*→ passthrough 320x240, [\d.]+ fps, [\d.]+ KB\/frame/);
    expect(lines[1]).toMatch(/^web-page: FAILED http:\/\/.*: answered text\/html, not an MJPEG stream/);
    expect(lines[2]).toMatch(/^missing: FAILED \/.*missing\.mp4: No such file or directory$/);
  });
});
