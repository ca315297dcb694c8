/**
 * The capture agent's floor: the least a Node program can do for the same job, to measure the
 * agent against (`pnpm bench --workload agent`). ffmpeg writes MJPEG to a pipe; frames are cut at
 * each end-of-image marker (FFD9: wrong for JPEGs with embedded thumbnails, fine for ffmpeg's own
 * output) and each one is sent with PUBLISH and a SET of the last frame, as the agent does, through
 * one ioredis connection. No envelope header, no validation, no rate limit, no metrics, no timers.
 *
 *   node bench/src/agent-floor.ts <redis url> <room> <ffmpeg args…>
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';

const [redisUrl, room, ...ffmpegArgs] = process.argv.slice(2);
if (!redisUrl || !room || ffmpegArgs.length === 0) throw new Error('usage: agent-floor.ts <redis url> <room> <ffmpeg args…>');
const redis = new Redis(redisUrl);
const channel = `video_${room}`;
const lastKey = `${channel}:last`;
const ffmpeg = spawn('ffmpeg', ffmpegArgs, { stdio: ['ignore', 'pipe', 'inherit'] });

let pieces: Buffer[] = [];
let stopped = false;
// Callbacks, not promises: a command refused while stopping must not end the process.
const ignore = () => {};
ffmpeg.stdout!.on('data', (chunk: Buffer) => {
  if (stopped) return;
  let from = 0;
  for (;;) {
    const end = chunk.indexOf(0xd9, from);
    if (end < 0) break;
    if (end === 0 ? pieces.length > 0 && pieces[pieces.length - 1]![pieces[pieces.length - 1]!.length - 1] === 0xff : chunk[end - 1] === 0xff) {
      pieces.push(chunk.subarray(from, end + 1));
      const frame = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
      pieces = [];
      redis.publish(channel, frame, ignore);
      redis.set(lastKey, frame, 'PX', 10_000, ignore);
    } else {
      pieces.push(chunk.subarray(from, end + 1));
    }
    from = end + 1;
  }
  if (from < chunk.length) pieces.push(chunk.subarray(from));
});
const stop = () => {
  stopped = true;
  ffmpeg.kill('SIGTERM');
  redis.disconnect();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
ffmpeg.once('exit', () => process.exit(0));
