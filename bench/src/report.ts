import type { ChurnResult, IdleResult, JoinResult, StreamResult } from './run.ts';

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const mb = (n: number) => (n / 1e6).toFixed(1);

export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function streamTable(rows: Array<{ label: string; r: StreamResult }>): string {
  return table(
    ['run', 'server', 'viewers', 'frames/s', 'MB/s', 'loss%', 'p50', 'p95', 'p99', 'max ms', 'cpu µs/frame', 'server core', 'loadgen core', 'peak RSS MB'],
    rows.map(({ label, r }) => [
      label,
      r.server,
      String(r.viewers),
      f1(r.framesPerSec),
      f1(r.mbPerSec),
      f2(r.lossPct),
      f1(r.p50),
      f1(r.p95),
      f1(r.p99),
      f1(r.max),
      f2(r.cpuUsPerFrame),
      `${Math.round(r.serverCore * 100)}%`,
      `${Math.round(r.loadgenCore * 100)}%${r.loadgenCore > 0.9 ? ' (saturated)' : ''}`,
      mb(r.peakRss),
    ]),
  );
}

export function churnTable(rows: Array<{ label: string; r: ChurnResult }>): string {
  return table(
    ['run', 'server', 'hops/s', 'frames/s', 'loss%', 'missed hops', 'server closes', 'first frame p50', 'p99', 'max ms', 'cpu µs/hop', 'cpu µs/frame', 'server core', 'loadgen core', 'NUMSUB after', 'peak RSS MB'],
    rows.map(({ label, r }) => [
      label,
      r.server,
      f1(r.hopsPerSec),
      f1(r.framesPerSec),
      f2(r.lossPct),
      String(r.missedHops),
      String(r.serverCloses),
      f1(r.firstFrameP50),
      f1(r.firstFrameP99),
      f1(r.firstFrameMax),
      f1(r.cpuUsPerHop),
      f2(r.cpuUsPerFrame),
      `${Math.round(r.serverCore * 100)}%`,
      `${Math.round(r.loadgenCore * 100)}%`,
      String(r.numsubAfter),
      mb(r.peakRss),
    ]),
  );
}

export function idleTable(rows: IdleResult[]): string {
  return table(
    ['server', 'viewers', 'RSS before MB', 'RSS at 1.5 s MB', 'bytes/viewer', 'RSS settled MB', 'bytes/viewer settled'],
    rows.map((r) => [r.server, String(r.viewers), mb(r.rssBefore), mb(r.rssAfter), Math.round(r.bytesPerViewer).toString(), mb(r.rssSettled), Math.round(r.settledBytesPerViewer).toString()]),
  );
}

export function joinTable(rows: JoinResult[]): string {
  return table(
    ['server', 'joins', 'first frame p50 ms', 'p99 ms', 'max ms'],
    rows.map((r) => [r.server, String(r.joins), f1(r.p50), f1(r.p99), f1(r.max)]),
  );
}

export function mean(xs: number[]): number {
  const v = xs.filter(Number.isFinite);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}
