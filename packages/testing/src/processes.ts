import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from './ports.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServiceProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Every stdout and stderr line so far (pino JSON lines and anything else). */
  readonly lines: string[];
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and waits for exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

export interface StartServiceOptions {
  /** Path of the TypeScript entry point, relative to the repository root. */
  entry: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  /** A line that says the service is up; the call waits for it. */
  readyLine?: RegExp;
  readyTimeoutMs?: number;
}

const running = new Set<ServiceProcess>();

/** Starts a service the way an operator would: its own Node process (running the .ts entry itself), configured by env. */
export async function startService(name: string, opts: StartServiceOptions): Promise<ServiceProcess> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('FRAMECAST_') && k !== 'REDIS_URL') env[k] = v;
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  const proc = spawn(process.execPath, [opts.entry, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<{ re: RegExp; resolve: (l: string) => void }>();
  const onLine = (line: string) => {
    lines.push(line);
    if (process.env.FRAMECAST_TEST_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
    for (const w of waiters) if (w.re.test(line)) (waiters.delete(w), w.resolve(line));
  };
  createInterface({ input: proc.stdout! }).on('line', onLine);
  createInterface({ input: proc.stderr! }).on('line', onLine);
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));

  const service: ServiceProcess = {
    name,
    proc,
    lines,
    exited,
    waitForLine(re, timeoutMs = 15_000) {
      const found = lines.find((l) => re.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { re, resolve };
        waiters.add(w);
        const t = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`));
        }, timeoutMs);
        void exited.then((code) => {
          if (!waiters.has(w)) return;
          waiters.delete(w);
          clearTimeout(t);
          reject(new Error(`${name} exited (${code}) before a line matching ${re}; last lines:\n${lines.slice(-15).join('\n')}`));
        });
        const origResolve = w.resolve;
        w.resolve = (l) => (clearTimeout(t), origResolve(l));
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (!exitedYet) {
        proc.kill(signal);
        const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      running.delete(service);
      return exited;
    },
  };
  running.add(service);
  if (opts.readyLine) await service.waitForLine(opts.readyLine, opts.readyTimeoutMs ?? 20_000);
  return service;
}

/** Kills every service this test file started (for afterAll). */
export async function stopAllServices(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop('SIGKILL', 1000)));
}

export { waitFor };
