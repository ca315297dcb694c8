/**
 * CPU per camera, passthrough vs re-encode, at 720p: the CLI publishing one file camera to a
 * private redis-server, CPU of the agent and its ffmpeg read from /proc/<pid>/stat over a window.
 *   - passthrough: an MJPEG 1280x720 clip at --size 1280x720 (the camera's JPEGs copied out);
 *   - re-encode:   an H.264 1280x720 clip at --size 1280x720 (decode + JPEG encode in ffmpeg).
 * Both at 30 fps, 25 fps and 15 fps cap. Prints a table (percent of one core).
 *
 *   pnpm --filter @framecast/capture-agent cpu        # CPU_SECONDS=20 by default
 */
import { readFileSync } from 'node:fs';
import { sleep, startService, startTestRedis, waitFor } from '@framecast/testing';
import { FrameTap } from '../test/helpers.ts';
import { makeClip, mediaDir } from '../test/media.ts';

const SECONDS = Number(process.env.CPU_SECONDS ?? 20);
const TICKS = 100; // USER_HZ on Linux

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}
const ffmpegOf = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number).find((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'ffmpeg');

const dir = mediaDir();
const clips = {
  passthrough: makeClip(dir, 'mjpeg720', { codec: 'mjpeg', width: 1280, height: 720, fps: 30, seconds: 10 }),
  're-encode': makeClip(dir, 'h264720', { codec: 'h264', width: 1280, height: 720, fps: 30, seconds: 10 }),
};
const redis = await startTestRedis();
const rows: string[] = [];
for (const fps of [30, 15]) {
  for (const [mode, clip] of Object.entries(clips)) {
    const tap = new FrameTap(redis.url, 'cpu');
    await tap.ready;
    tap.redis.removeAllListeners('messageBuffer');
    let received = 0;
    let bytes = 0;
    tap.redis.on('messageBuffer', (_c: Buffer, m: Buffer) => {
      received++;
      bytes += m.length;
    });
    const agent = await startService('agent:cpu', {
      entry: 'services/capture-agent/src/main.ts',
      env: { REDIS_URL: redis.url, FRAMECAST_ROOM: 'cpu', FRAMECAST_SOURCE: `file:${clip}`, FRAMECAST_FPS: String(fps), FRAMECAST_SIZE: '1280x720', FRAMECAST_QUALITY: '80', LOG_LEVEL: 'info' },
      readyLine: /capture agent started/,
    });
    const pid = agent.proc.pid!;
    await waitFor('frames', () => received > fps * 2, 20_000);
    await sleep(2000); // past start-up (module loading, ffmpeg probe)
    const ff = ffmpegOf(pid)!;
    const a0 = cpuSeconds(pid);
    const f0 = cpuSeconds(ff);
    const n0 = received;
    const b0 = bytes;
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const wall = (performance.now() - t0) / 1000;
    const agentPct = ((cpuSeconds(pid) - a0) / wall) * 100;
    const ffPct = ((cpuSeconds(ff) - f0) / wall) * 100;
    const n = received - n0;
    const opened = agent.lines.find((l) => l.includes('source opened'));
    const actual = opened ? (JSON.parse(opened) as { mode: string }).mode : '?';
    rows.push(
      `${mode.padEnd(12)} ${String(fps).padStart(3)} fps  mode=${actual.padEnd(11)} published ${(n / wall).toFixed(1).padStart(5)} fps  ` +
        `${((bytes - b0) / n / 1024).toFixed(0).padStart(4)} KB/frame  agent ${agentPct.toFixed(1).padStart(5)} %  ffmpeg ${ffPct.toFixed(1).padStart(5)} %  total ${(agentPct + ffPct).toFixed(1).padStart(5)} % of a core`,
    );
    console.log(rows.at(-1));
    await agent.stop();
    tap.close();
  }
}
await redis.close();
console.log(`\nCPU per 720p camera over ${SECONDS} s windows (${readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'cpu'}):\n${rows.join('\n')}`);
