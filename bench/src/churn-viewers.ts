/**
 * The `churn` workload's viewers, inside the load generator: each watches one room and every
 * `hopMs` leaves it (a normal close, as a browser tab switching cameras does) and opens another,
 * picked at random. Hops are staggered evenly over the interval so the server sees a steady rate
 * of joins and leaves, not bursts. Per hop it records the time from opening the new connection to
 * its first frame (connect, auth and the server's first-frame path together: what a person
 * switching cameras waits for); per frame, sequence gaps within one connection as loss.
 */
import WebSocket from 'ws';
import { LatencyHistogram } from './latency-histogram.ts';

export interface ChurnPlan {
  /** One websocket URL per room. */
  roomUrls: string[];
  viewers: number;
  hopMs: number;
  /** Seeds the room choices, so A and B runs see the same hops. */
  seed: number;
}

export interface ChurnReport {
  hops: number;
  /** Hops whose connection delivered a frame before the viewer's next hop. */
  firstFrames: number;
  /** Hops that got no frame before the next hop, or failed to connect. */
  missed: number;
  frames: number;
  lost: number;
  /** Connections the server closed while the viewer was watching. */
  serverCloses: number;
  maxUs: number;
  hist: Array<[number, number]>;
}

interface ChurnViewer {
  ws: WebSocket | null;
  room: number;
  openedAt: number;
  gotFirst: boolean;
  lastSeq: number;
}

/** Park–Miller: small, deterministic, good enough to spread viewers over rooms. */
function prng(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

export class Churn {
  private firstFrame = new LatencyHistogram();
  private hops = 0;
  private firstFrames = 0;
  private missed = 0;
  private frames = 0;
  private lost = 0;
  private serverCloses = 0;
  private readonly viewers: ChurnViewer[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly random: () => number;
  private stopped = false;

  private readonly plan: ChurnPlan;

  constructor(plan: ChurnPlan) {
    this.plan = plan;
    this.random = prng(plan.seed);
  }

  /** Opens every viewer on its first room (spread round-robin) and starts the hops. */
  async start(): Promise<void> {
    const { viewers, hopMs, roomUrls } = this.plan;
    for (let i = 0; i < viewers; i++) this.viewers.push({ ws: null, room: i % roomUrls.length, openedAt: 0, gotFirst: false, lastSeq: -1 });
    await Promise.all(this.viewers.map((v) => this.open(v)));
    this.viewers.forEach((v, i) => {
      const first = setTimeout(() => {
        this.hop(v);
        this.timers.push(setInterval(() => this.hop(v), hopMs));
      }, (i * hopMs) / viewers);
      this.timers.push(first);
    });
  }

  reset(): void {
    this.firstFrame = new LatencyHistogram();
    this.hops = this.firstFrames = this.missed = this.frames = this.lost = this.serverCloses = 0;
  }

  report(): ChurnReport {
    return {
      hops: this.hops,
      firstFrames: this.firstFrames,
      missed: this.missed,
      frames: this.frames,
      lost: this.lost,
      serverCloses: this.serverCloses,
      maxUs: this.firstFrame.maxUs,
      hist: this.firstFrame.toSparse(),
    };
  }

  /** Stops hopping and closes every viewer normally; resolves once their sockets are closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.viewers.map((v) => this.leave(v)));
  }

  private hop(v: ChurnViewer): void {
    if (this.stopped) return;
    if (!v.gotFirst) this.missed++;
    void this.leave(v);
    const n = this.plan.roomUrls.length;
    v.room = (v.room + 1 + Math.floor(this.random() * (n - 1))) % n; // any room but the current one
    this.hops++;
    void this.open(v);
  }

  private leave(v: ChurnViewer): Promise<void> {
    const ws = v.ws;
    v.ws = null;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      // A viewer that is still connecting has nothing to close politely.
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000);
    });
  }

  private open(v: ChurnViewer): Promise<void> {
    const ws = new WebSocket(this.plan.roomUrls[v.room]!, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    v.ws = ws;
    v.openedAt = performance.now();
    v.gotFirst = false;
    v.lastSeq = -1;
    ws.on('message', (data, isBinary) => {
      if (!isBinary || v.ws !== ws) return;
      const seq = (data as Buffer).readUInt32BE(12);
      if (!v.gotFirst) {
        v.gotFirst = true;
        this.firstFrames++;
        this.firstFrame.record((performance.now() - v.openedAt) * 1000);
      } else if (seq > v.lastSeq + 1) this.lost += seq - v.lastSeq - 1;
      v.lastSeq = seq;
      this.frames++;
    });
    ws.on('close', () => {
      if (v.ws === ws && !this.stopped) this.serverCloses++;
    });
    ws.on('error', () => {});
    return new Promise((resolve) => {
      ws.once('open', () => resolve());
      ws.once('close', () => resolve());
    });
  }
}
