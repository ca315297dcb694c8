import type { Registry } from 'prom-client';
import type { CameraReport } from '@framecast/protocol';
import type { CameraStats } from '../camera-pipeline.ts';

interface SumCount {
  sum: number;
  count: number;
}

/** Sum and count per camera of one of the agent's histograms. */
async function histogramByCamera(register: Registry, name: string): Promise<Map<string, SumCount>> {
  const out = new Map<string, SumCount>();
  const metric = register.getSingleMetric(name);
  if (!metric) return out;
  // Histogram values carry the series name (_bucket, _sum, _count); the type only says so loosely.
  for (const v of (await metric.get()).values as Array<{ labels: Record<string, string | number | undefined>; value: number; metricName?: string }>) {
    const camera = String(v.labels.camera ?? '');
    const entry = out.get(camera) ?? { sum: 0, count: 0 };
    if (v.metricName === `${name}_sum`) entry.sum = v.value;
    else if (v.metricName === `${name}_count`) entry.count = v.value;
    else continue;
    out.set(camera, entry);
  }
  return out;
}

/**
 * Turns the agent's own numbers into heartbeat reports: fps from the pipelines, and bitrate, mean
 * frame size and mean capture→publish time from the deltas of the agent's Prometheus histograms
 * since the previous heartbeat (the frame path already observes those; nothing new is measured
 * per frame). Dropped frames count every frame lost on the way (superseded, bus down, stale, bad
 * JPEG), not the ones the fps cap discards on purpose.
 */
export class CameraReporter {
  private previous = new Map<string, { bytes: SumCount; latency: SumCount }>();
  private previousAt = Date.now();

  private readonly register: Registry;
  private readonly stats: () => CameraStats[];

  constructor(register: Registry, stats: () => CameraStats[]) {
    this.register = register;
    this.stats = stats;
  }

  async reports(): Promise<CameraReport[]> {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.previousAt) / 1000);
    const [bytes, latency] = await Promise.all([
      histogramByCamera(this.register, 'framecast_agent_frame_bytes'),
      histogramByCamera(this.register, 'framecast_agent_capture_to_publish_seconds'),
    ]);
    const next = new Map<string, { bytes: SumCount; latency: SumCount }>();
    const reports = this.stats().map((s): CameraReport => {
      const b = bytes.get(s.camera) ?? { sum: 0, count: 0 };
      const l = latency.get(s.camera) ?? { sum: 0, count: 0 };
      next.set(s.camera, { bytes: b, latency: l });
      const before = this.previous.get(s.camera) ?? { bytes: { sum: 0, count: 0 }, latency: { sum: 0, count: 0 } };
      const dBytes = b.sum - before.bytes.sum;
      const dFrames = b.count - before.bytes.count;
      const dLatency = l.sum - before.latency.sum;
      const dLatencyCount = l.count - before.latency.count;
      const { rate: _onPurpose, ...lost } = s.dropped;
      return {
        room: s.room,
        fps: s.fps,
        width: s.lastFrame?.width ?? 0,
        height: s.lastFrame?.height ?? 0,
        bitrateBps: Math.round((Math.max(0, dBytes) * 8) / seconds),
        frameBytes: dFrames > 0 ? Math.round(dBytes / dFrames) : (s.lastFrame?.bytes ?? 0),
        captureToPublishMs: dLatencyCount > 0 ? Math.round((dLatency / dLatencyCount) * 10_000) / 10 : 0,
        droppedFrames: Object.values(lost).reduce((a, n) => a + n, 0),
        lastFrameAgeMs: s.lastFrameAgeMs === null ? -1 : Math.round(s.lastFrameAgeMs),
        busUp: s.busUp,
      };
    });
    this.previous = next;
    this.previousAt = now;
    return reports;
  }
}
