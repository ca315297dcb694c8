/**
 * Bench publisher process: publishes envelopes of FRAME_BYTES to ROOMS at FPS each, stamped with
 * the publish time as capture time, paced against the clock (no drift); with `lastFrameTtlMs` it
 * also stores each as the room's last frame, as the capture agent does. Driven over IPC:
 * {cmd:'start', rooms, fps, bytes, lastFrameTtlMs?} / {cmd:'stop'} → replies {published}.
 */
import { Redis } from 'ioredis';
import { encodeEnvelope, nowMicros, frameChannel, lastFrameKey } from '@framecast/protocol';

const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
let timer: NodeJS.Timeout | null = null;
let published = 0;

interface Start {
  cmd: 'start';
  rooms: string[];
  fps: number;
  bytes: number;
  /** Also store each frame as the room's last frame with this expiry, as the capture agent does (PUBLISH + SET PX). */
  lastFrameTtlMs?: number;
}

function start(msg: Start): void {
  const payload = Buffer.alloc(msg.bytes, 0x5a);
  const sequences = new Map(msg.rooms.map((r) => [r, 0]));
  const channels = new Map(msg.rooms.map((r) => [r, frameChannel(r)]));
  const lastKeys = new Map(msg.rooms.map((r) => [r, lastFrameKey(r)]));
  const ttl = msg.lastFrameTtlMs;
  const period = 1000 / msg.fps;
  const t0 = performance.now();
  let tick = 0;
  const step = () => {
    for (const room of msg.rooms) {
      const seq = sequences.get(room)!;
      sequences.set(room, seq + 1);
      const env = encodeEnvelope({ sequence: seq, captureTimeUs: nowMicros(), width: 1280, height: 720 }, payload);
      void redis.publish(channels.get(room)!, env);
      if (ttl) void redis.set(lastKeys.get(room)!, env, 'PX', ttl);
      published++;
    }
    tick++;
    timer = setTimeout(step, Math.max(0, t0 + tick * period - performance.now()));
  };
  step();
}

process.on('message', (msg: Start | { cmd: 'stop' }) => {
  if (msg.cmd === 'start') {
    published = 0;
    start(msg);
    process.send!({ started: true });
  } else {
    if (timer) clearTimeout(timer);
    timer = null;
    process.send!({ published });
  }
});
process.send!({ ready: true });
