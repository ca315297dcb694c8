/**
 * Bench load generator process: real websocket viewers that parse only the envelope header.
 * Per frame it records latency (now − capture time stamped by the publisher) in a fixed-bucket
 * histogram and sequence gaps as loss. Driven over IPC by the bench runner.
 */
import WebSocket from 'ws';
import { nowMicros } from '@framecast/protocol';
import { Churn, type ChurnPlan } from './churn-viewers.ts';
import { LatencyHistogram } from './latency-histogram.ts';

export type LoadgenCommand =
  | { cmd: 'connect'; urls: string[]; batch?: number }
  | { cmd: 'reset' }
  | { cmd: 'report' }
  | { cmd: 'pauseOne'; url: string }
  | { cmd: 'slowReport' }
  | { cmd: 'joins'; url: string; count: number }
  | ({ cmd: 'churnStart' } & ChurnPlan)
  | { cmd: 'churnReport' }
  | { cmd: 'closeAll' };

interface ViewerState {
  ws: WebSocket;
  lastSeq: number;
}

const viewers: ViewerState[] = [];
let hist = new LatencyHistogram();
let frames = 0;
let bytes = 0;
let lost = 0;
let slow: { ws: WebSocket; frames: number; closeCode: number | null } | null = null;
let churn: Churn | null = null;

function open(url: string, onFrame: (buf: Buffer) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => {
      if (isBinary) onFrame(data as Buffer);
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.on('error', () => {});
  });
}

function watch(url: string): Promise<void> {
  const state: ViewerState = { ws: null as unknown as WebSocket, lastSeq: -1 };
  return open(url, (buf) => {
    const seq = buf.readUInt32BE(12);
    const captureUs = buf.readUInt32BE(16) * 0x1_0000_0000 + buf.readUInt32BE(20);
    hist.record(nowMicros() - captureUs);
    frames++;
    bytes += buf.length;
    if (state.lastSeq >= 0 && seq > state.lastSeq + 1) lost += seq - state.lastSeq - 1;
    state.lastSeq = seq;
  }).then((ws) => {
    state.ws = ws;
    viewers.push(state);
  });
}

async function connect(urls: string[], batch = 100): Promise<number> {
  for (let i = 0; i < urls.length; i += batch) await Promise.all(urls.slice(i, i + batch).map(watch));
  return viewers.length;
}

/** Connect → first binary frame, one viewer at a time, closing each after its first frame. */
async function joins(url: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const timeout = setTimeout(() => {
        ws.terminate();
        reject(new Error('no first frame within 5 s'));
      }, 5000);
      let done = false;
      ws.on('message', (_d, isBinary) => {
        if (!isBinary || done) return;
        done = true;
        times.push(performance.now() - t0);
        clearTimeout(timeout);
        ws.close();
        resolve();
      });
      ws.on('error', () => {});
    });
  }
  return times;
}

process.on('message', async (msg: LoadgenCommand) => {
  switch (msg.cmd) {
    case 'connect':
      process.send!({ connected: await connect(msg.urls, msg.batch) });
      break;
    case 'reset':
      hist = new LatencyHistogram();
      frames = bytes = lost = 0;
      churn?.reset();
      process.send!({ ok: true });
      break;
    case 'report':
      process.send!({ frames, bytes, lost, maxUs: hist.maxUs, hist: hist.toSparse() });
      break;
    case 'pauseOne': {
      const s = { ws: null as unknown as WebSocket, frames: 0, closeCode: null as number | null };
      s.ws = await open(msg.url, () => s.frames++);
      s.ws.once('close', (code) => (s.closeCode = code));
      s.ws.pause();
      slow = s;
      process.send!({ ok: true });
      break;
    }
    case 'slowReport': {
      // Let it read again to learn how the server ended it (close code, or still open).
      const s = slow;
      s?.ws.resume();
      await new Promise((r) => setTimeout(r, 1500));
      process.send!({ closeCode: s?.closeCode ?? null });
      break;
    }
    case 'joins':
      process.send!({ times: await joins(msg.url, msg.count) });
      break;
    case 'churnStart':
      churn = new Churn(msg);
      await churn.start();
      process.send!({ ok: true });
      break;
    case 'churnReport':
      process.send!(churn!.report());
      break;
    case 'closeAll':
      await churn?.stop();
      churn = null;
      for (const v of viewers) v.ws.terminate();
      viewers.length = 0;
      slow?.ws.terminate();
      slow = null;
      process.send!({ ok: true });
      break;
  }
});
process.send!({ ready: true });
