import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time a process has used so far, in microseconds: the sum over its threads (main, libuv
 * pool, GC helpers) of /proc/<pid>/task/<tid>/schedstat, which counts nanoseconds. /proc/<pid>/stat
 * counts 10 ms ticks, too coarse for a few seconds at a few percent of a core.
 */
export function cpuMicros(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between readdir and read; its time is gone with it (small, rare).
    }
  }
  return ns / 1000;
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Samples a process's RSS every `everyMs` and keeps the peak. */
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly pid: number;

  constructor(pid: number, everyMs = 100) {
    this.pid = pid;
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  sample(): number {
    try {
      const r = rssBytes(this.pid);
      if (r > this.peak) this.peak = r;
      return r;
    } catch {
      return 0;
    }
  }
  stop(): number {
    clearInterval(this.timer);
    return this.peak;
  }
}

/** CPU used by a process over a window, as µs and as a fraction of one core. */
export class CpuWindow {
  private readonly startCpu: number;
  private readonly startWall = performance.now();
  private readonly pid: number;

  constructor(pid: number) {
    this.pid = pid;
    this.startCpu = cpuMicros(pid);
  }
  end(): { cpuUs: number; wallUs: number; coreShare: number } {
    const cpuUs = cpuMicros(this.pid) - this.startCpu;
    const wallUs = (performance.now() - this.startWall) * 1000;
    return { cpuUs, wallUs, coreShare: cpuUs / wallUs };
  }
}
