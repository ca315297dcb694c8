import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { sleep, waitFor } from '@framecast/testing';
import type { CapturedFrame, RunContext, RunEnd, SourceRun } from './frame-source.ts';
import { SourceSupervisor } from './supervisor.ts';

function captureLogs() {
  const lines: Array<Record<string, unknown> & { msg: string; level: number }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string; level: number });
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const frame = (): CapturedFrame => ({ jpeg: Buffer.alloc(4), width: 2, height: 2, captureTimeUs: 0, flags: 0 });

/** A run the test drives by hand: emit frames, end it, see whether it was stopped. */
class ScriptedRun implements SourceRun {
  readonly ended: Promise<RunEnd>;
  end!: (e: RunEnd) => void;
  stopped = false;
  readonly ctx: RunContext;

  constructor(ctx: RunContext) {
    this.ctx = ctx;
    this.ended = new Promise((r) => (this.end = r));
  }
  async stop() {
    this.stopped = true;
  }
}

function supervised(opts: { stallTimeoutMs?: number; restartDelayMs?: number; maxRestartDelayMs?: number; healthyRunMs?: number } = {}) {
  const { logger, lines } = captureLogs();
  const runs: ScriptedRun[] = [];
  const frames: CapturedFrame[] = [];
  const sup = new SourceSupervisor({
    camera: 'cam1',
    startRun: (ctx) => {
      const r = new ScriptedRun(ctx);
      runs.push(r);
      return r;
    },
    stallTimeoutMs: opts.stallTimeoutMs ?? 60_000,
    restartDelayMs: opts.restartDelayMs ?? 10,
    maxRestartDelayMs: opts.maxRestartDelayMs ?? 40,
    healthyRunMs: opts.healthyRunMs ?? 60_000,
    logger,
    onFrame: (f) => frames.push(f),
    onDropped: () => {},
  });
  return { sup, runs, frames, lines };
}

describe('SourceSupervisor', () => {
  it('restarts failed runs with doubling delays up to the cap, logging each cause in one line', async () => {
    const { sup, runs, lines } = supervised();
    sup.start();
    for (let i = 0; i < 5; i++) {
      await waitFor(`run ${i + 1}`, () => runs.length === i + 1, 2000, 1);
      runs[i]!.end({ reason: 'failed', cause: '/dev/video0: Device or resource busy' });
    }
    await waitFor('6th run', () => runs.length === 6, 2000, 1);
    await sup.stop();
    const restarts = lines.filter((l) => l.msg.startsWith('camera cam1: '));
    expect(restarts.map((l) => l.restartInMs)).toEqual([10, 20, 40, 40, 40]);
    expect(restarts[0]).toMatchObject({ level: 50, reason: 'failed', cause: '/dev/video0: Device or resource busy' });
    expect(restarts[0]!.msg).toBe('camera cam1: /dev/video0: Device or resource busy; restarting in 10 ms');
    expect(sup.status()).toMatchObject({ state: 'stopped', restarts: { failed: 5, ended: 0, stalled: 0 }, runs: 6 });
    expect(runs[5]!.stopped).toBe(true);
  });

  it('treats a run that delivers no frame within the stall timeout as failed: stops it, then restarts', async () => {
    const { sup, runs, lines } = supervised({ stallTimeoutMs: 150 });
    sup.start();
    await waitFor('first run', () => runs.length === 1);
    runs[0]!.ctx.frame(frame());
    expect(sup.status().state).toBe('streaming');
    // Frames keep it alive...
    for (let i = 0; i < 5; i++) {
      await sleep(50);
      runs[0]!.ctx.frame(frame());
    }
    expect(runs).toHaveLength(1);
    // ...silence does not.
    await waitFor('stall restart', () => runs.length === 2, 2000);
    expect(runs[0]!.stopped).toBe(true);
    const stall = lines.find((l) => l.reason === 'stalled');
    expect(stall).toMatchObject({ level: 40, cause: expect.stringMatching(/^no frame for \d+ ms$/) });
    expect(sup.status()).toMatchObject({ restarts: { stalled: 1 }, lastError: stall!.cause });
    await sup.stop();
  });

  it('ignores a replaced run\'s late frames, and resets the backoff after a healthy run', async () => {
    const { sup, runs, frames, lines } = supervised({ healthyRunMs: 30 });
    sup.start();
    await waitFor('run 1', () => runs.length === 1);
    runs[0]!.end({ reason: 'failed', cause: 'x' });
    await waitFor('run 2', () => runs.length === 2);
    runs[0]!.ctx.frame(frame()); // from the dead run: ignored
    expect(frames).toHaveLength(0);
    runs[1]!.ctx.frame(frame());
    await sleep(40);
    runs[1]!.end({ reason: 'ended', cause: 'the camera closed the stream' });
    await waitFor('run 3', () => runs.length === 3);
    expect(frames).toHaveLength(1);
    expect(lines.filter((l) => l.restartInMs !== undefined).map((l) => l.restartInMs)).toEqual([10, 10]);
    runs[2]!.ctx.frame(frame());
    expect(lines.at(-1)).toMatchObject({ msg: 'camera cam1: streaming again', previousError: 'the camera closed the stream' });
    expect(sup.status().lastError).toBeNull();
    await sup.stop();
  });
});
