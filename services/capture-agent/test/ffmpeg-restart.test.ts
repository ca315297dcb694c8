import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startTestRedis, stopAllServices, waitFor, type TestRedis } from '@framecast/testing';
import { childPids, FrameTap, isAlive, logLines, startAgent } from './helpers.ts';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

const env = (room: string) => ({
  REDIS_URL: redis.url,
  FRAMECAST_ROOM: room,
  FRAMECAST_SOURCE: 'ffmpeg:testsrc',
  FRAMECAST_FPS: '15',
  FRAMECAST_SIZE: '320x180',
  FRAMECAST_RESTART_DELAY_MS: '250',
});

describe('ffmpeg supervision', () => {
  it('restarts ffmpeg killed from outside, with its exit logged, and frames resume', async () => {
    const tap = new FrameTap(redis.url, 'ff-restart');
    await tap.ready;
    const agent = await startAgent(env('ff-restart'));
    try {
      await waitFor('frames', () => tap.frames.length >= 10, 15_000);
      const [ffmpeg] = childPids(agent.proc.pid!, 'ffmpeg');
      expect(ffmpeg).toBeDefined();
      process.kill(ffmpeg!, 'SIGKILL');
      const killedAt = Date.now();
      await waitFor('ffmpeg gone', () => !isAlive(ffmpeg!), 3000);
      await sleep(100);
      const countAfterKill = tap.frames.length;

      const restarted = await waitFor('new ffmpeg', () => childPids(agent.proc.pid!, 'ffmpeg').find((p) => p !== ffmpeg), 5000);
      await waitFor('frames resume', () => tap.frames.length >= countAfterKill + 10, 10_000);
      console.log(`ffmpeg ${ffmpeg} killed; ${restarted} publishing again ${Date.now() - killedAt} ms later`);

      const exit = logLines(agent, 'camera ff-restart: ffmpeg exited with SIGKILL');
      expect(exit).toHaveLength(1);
      expect(exit[0]).toMatchObject({ level: 50, camera: 'ff-restart', reason: 'failed', restartInMs: 250 });
      const seqs = tap.frames.map((f) => f.header.sequence);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    } finally {
      tap.close();
      await agent.stop();
    }
  });

  it('leaves no ffmpeg behind when the agent is killed outright (SIGKILL)', async () => {
    const agent = await startAgent(env('ff-orphan'));
    const [ffmpeg] = await waitFor('ffmpeg child', () => {
      const pids = childPids(agent.proc.pid!, 'ffmpeg');
      return pids.length > 0 ? pids : null;
    });
    await agent.stop('SIGKILL');
    // ffmpeg's next write to the closed pipe fails and it exits (within a frame or two).
    await waitFor('orphaned ffmpeg to exit', () => !isAlive(ffmpeg!), 5000);
  });
});
