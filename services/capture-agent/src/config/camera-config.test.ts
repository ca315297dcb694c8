import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@framecast/config';
import { loadAgentConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'framecast-config-'));
let n = 0;
function yamlFile(text: string): string {
  const path = join(dir, `agent-${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}
const REDIS = { REDIS_URL: 'redis://127.0.0.1:6379' };

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadAgentConfig({ ...REDIS, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('YAML camera list (FRAMECAST_CONFIG)', () => {
  it('resolves every camera, with file defaults over environment defaults and camera fields over both', () => {
    const path = yamlFile(`
defaults:
  fps: 10
cameras:
  - room: front-door
    source: rtsp://admin:pw@10.0.0.5/stream1
    size: 1280x720
  - name: garage-cam
    room: garage
    source: v4l2:/dev/video0
    fps: 25
    mjpegPassthrough: false
  - room: yard
    source: http://10.0.0.7:8080/?action=stream
    stallTimeoutMs: 20000
`);
    const { config } = loadAgentConfig({ ...REDIS, FRAMECAST_CONFIG: path, FRAMECAST_QUALITY: '70', FRAMECAST_FPS: '5' });
    expect(config.cameras).toEqual([
      {
        name: 'front-door',
        room: 'front-door',
        source: { kind: 'rtsp', url: 'rtsp://admin:pw@10.0.0.5/stream1' },
        sourceText: 'rtsp://admin:***@10.0.0.5/stream1',
        size: { width: 1280, height: 720 },
        fps: 10,
        quality: 70,
        stallTimeoutMs: 10_000,
        mjpegPassthrough: true,
      },
      expect.objectContaining({ name: 'garage-cam', room: 'garage', fps: 25, size: { width: 640, height: 360 }, mjpegPassthrough: false }),
      expect.objectContaining({ name: 'yard', source: { kind: 'http-mjpeg', url: 'http://10.0.0.7:8080/?action=stream' }, stallTimeoutMs: 20_000 }),
    ]);
    expect(Object.isFrozen(config.cameras)).toBe(true);
  });

  it('without a file, the room/source variables are the one camera', () => {
    const { config } = loadAgentConfig({ ...REDIS, FRAMECAST_ROOM: 'hall', FRAMECAST_SOURCE: 'file:/srv/a.mp4', FRAMECAST_FPS: '12' });
    expect(config.cameras).toEqual([expect.objectContaining({ name: 'hall', room: 'hall', source: { kind: 'file', path: '/srv/a.mp4' }, fps: 12 })]);
  });

  it.each([
    ['cameras:\n  - room: a\n    source: testsrc\n    fps: 120\n', /agent-\d+\.yaml: cameras\[0\] \(a\): fps: must be <= 60$/],
    ['cameras:\n  - room: a\n    source: testsrc\n  - room: b\n    source: v4l2\n', /cameras\[1\] \(b\): source: must be one of testsrc, ffmpeg:testsrc/],
    ['cameras:\n  - room: a\n    source: testsrc\n    fsp: 10\n', /cameras\[0\] \(a\): Unrecognized key: "fsp"/],
    ['cameras:\n  - room: a\n    source: testsrc\n    size: 641x480\n', /cameras\[0\] \(a\): size: must be WIDTHxHEIGHT/],
    ['cameras:\n  - room: bad room\n    source: testsrc\n', /cameras\[0\] \(bad room\): room: must be a valid room name/],
    ['cameras:\n  - source: testsrc\n', /cameras\[0\]: room: /],
    ['cameras:\n  - room: a\n    source: testsrc\n    fps: "15"\n', /cameras\[0\] \(a\): fps: must be a number/],
    ['cameras: []\n', /cameras: must list at least one camera/],
    ['cameras:\n  - room: a\n    source: testsrc\n  - room: a\n    source: ffmpeg:testsrc\n', /cameras\[1\] \(a\): room "a" is already used by cameras\[0\]/],
    ['defaults:\n  quality: 0\ncameras:\n  - room: a\n    source: testsrc\n', /defaults\.quality: must be >= 1|defaults: quality/],
    ['cameras:\n  - room: a\n   source: x\n', /not valid YAML/],
    ['camera:\n  - room: a\n', /Unrecognized key: "camera"|cameras: must be a list|cameras: is required/],
    ['- room: a\n  source: testsrc\n', /must be a mapping with a cameras: list, not a list/],
  ])('names the camera and field: %j', (text, message) => {
    const err = errorOf({ FRAMECAST_CONFIG: yamlFile(text) });
    expect(err.variable).toBe('FRAMECAST_CONFIG');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
  });

  it('says when the file cannot be read', () => {
    expect(errorOf({ FRAMECAST_CONFIG: join(dir, 'missing.yaml') }).message).toMatch(/cannot read .*missing\.yaml: no such file/);
  });

  it('refuses a camera named both in the file and in FRAMECAST_ROOM/FRAMECAST_SOURCE', () => {
    const path = yamlFile('cameras:\n  - room: a\n    source: testsrc\n');
    expect(errorOf({ FRAMECAST_CONFIG: path, FRAMECAST_SOURCE: 'testsrc' }).message).toMatch(/^FRAMECAST_SOURCE: cannot be combined with FRAMECAST_CONFIG/);
  });
});
