/**
 * Memory soak: one camera at 30 fps through the real CLI into a private redis-server, for a
 * bounded time, sampling the resident memory of the agent and of its ffmpeg every second.
 * Passes when the agent's RSS in the last fifth of the run is within BOUND_MB of the second
 * fifth (the first fifth is warm-up: JIT, pools, libvips caches).
 *
 *   pnpm --filter @framecast/capture-agent soak            # 5 minutes
 *   SOAK_SECONDS=1800 pnpm --filter @framecast/capture-agent soak
 */
import { readFileSync } from 'node:fs';
import { rssOf, sleep, startService, startTestRedis, waitFor } from '@framecast/testing';
import { FrameTap } from '../test/helpers.ts';
import { makeClip, mediaDir } from '../test/media.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const BOUND_MB = Number(process.env.SOAK_BOUND_MB ?? 8);
const SOURCE = process.env.SOAK_SOURCE; // default: an H.264 720p clip re-encoded at 640x360

const rssKb = (pid: number) => rssOf(pid) / 1024;
const ffmpegOf = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number).find((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'ffmpeg');

const redis = await startTestRedis({ needsControl: true });
const source = SOURCE ?? `file:${makeClip(mediaDir(), 'soak', { codec: 'h264', width: 1280, height: 720, fps: 30, seconds: 10 })}`;
const tap = new FrameTap(redis.url, 'soak');
await tap.ready;
// Count only: a soak must not hold every frame in the tap.
tap.redis.removeAllListeners('messageBuffer');
let received = 0;
tap.redis.on('messageBuffer', () => received++);
const agent = await startService('agent:soak', {
  entry: 'services/capture-agent/src/main.ts',
  env: { REDIS_URL: redis.url, FRAMECAST_ROOM: 'soak', FRAMECAST_SOURCE: source, FRAMECAST_FPS: '30', FRAMECAST_SIZE: '640x360', FRAMECAST_STATS_INTERVAL_MS: '0', LOG_LEVEL: 'info' },
  readyLine: /capture agent started/,
});
const pid = agent.proc.pid!;
await waitFor('frames', () => received > 30, 20_000);
const samples: Array<{ t: number; agent: number; ffmpeg: number; received: number }> = [];
const t0 = Date.now();
while (Date.now() - t0 < SECONDS * 1000) {
  const ff = ffmpegOf(pid);
  samples.push({ t: (Date.now() - t0) / 1000, agent: rssKb(pid), ffmpeg: ff ? rssKb(ff) : NaN, received });
  if (samples.length % 60 === 0) {
    const s = samples.at(-1)!;
    console.log(`t=${s.t.toFixed(0)} s  agent RSS ${(s.agent / 1024).toFixed(1)} MB  ffmpeg RSS ${(s.ffmpeg / 1024).toFixed(1)} MB  frames ${s.received}`);
  }
  await sleep(1000);
}
await agent.stop();
tap.close();
await redis.close();

const fifth = Math.floor(samples.length / 5);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length / 1024;
const early = samples.slice(fifth, 2 * fifth);
const late = samples.slice(-fifth);
const growth = mean(late.map((s) => s.agent)) - mean(early.map((s) => s.agent));
const maxMb = Math.max(...samples.map((s) => s.agent)) / 1024;
const fps = (samples.at(-1)!.received - samples[0]!.received) / (samples.at(-1)!.t - samples[0]!.t);
console.log(
  `soak ${SECONDS} s at 30 fps (${source.startsWith('file:') ? 'H.264 720p file → 640x360' : source}): ${fps.toFixed(1)} fps published; ` +
    `agent RSS ${mean(early.map((s) => s.agent)).toFixed(1)} MB (2nd fifth) → ${mean(late.map((s) => s.agent)).toFixed(1)} MB (last fifth), ` +
    `growth ${growth.toFixed(1)} MB (bound ${BOUND_MB} MB), max ${maxMb.toFixed(1)} MB; ffmpeg RSS ${mean(late.map((s) => s.ffmpeg)).toFixed(1)} MB`,
);
process.exit(growth <= BOUND_MB ? 0 : 1);
