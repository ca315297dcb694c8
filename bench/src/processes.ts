import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, serviceEntry } from '@framecast/testing';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('./', import.meta.url));

/** A forked helper process (publisher, load generator) spoken to with request/reply messages. */
export class IpcChild {
  readonly proc: ChildProcess;

  private constructor(proc: ChildProcess) {
    this.proc = proc;
  }

  static async fork(file: string, env: Record<string, string>): Promise<IpcChild> {
    const proc = fork(HERE + file, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const child = new IpcChild(proc);
    await child.next();
    return child;
  }

  private next<T>(): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`bench child exited (${code})`));
      this.proc.once('exit', onExit);
      this.proc.once('message', (m) => {
        this.proc.off('exit', onExit);
        resolve(m as T);
      });
    });
  }

  call<T>(msg: object): Promise<T> {
    const reply = this.next<T>();
    this.proc.send(msg);
    return reply;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }
}

export type ServerKind = 'framecast' | 'floor';

export interface ServerUnderTest {
  kind: ServerKind;
  pid: number;
  port: number;
  wsUrl(room: string): string;
  stop(): Promise<void>;
}

/** Starts the server under test as its own process, the way an operator would. */
export interface ServerOptions {
  env?: Record<string, string>;
  nodeArgs?: string[];
  /** Appended to every websocket URL (the framecast viewer token). */
  urlQuery?: string;
}

/** Entries and flags whose compile cache this bench run has filled (once each: the cache is per V8 flags). */
const primed = new Set<string>();

export async function startServer(kind: ServerKind, redisUrl: string, opts: ServerOptions = {}): Promise<ServerUnderTest> {
  const port = await freePort();
  // The gateway as shipped, from its bin, which serves every module from Node's compile cache; the
  // floor from the same cache, so neither pays for Node's TypeScript stripper (~18 MB of RSS) that
  // a JavaScript program would not load. A first run fills the cache for these flags (`--version`
  // loads every module and exits), so no measured start is a cold one.
  const entry = kind === 'framecast' ? serviceEntry('gateway') : 'bench/src/floor-server.ts';
  const cacheEnv = { NODE_COMPILE_CACHE: `${REPO_ROOT}node_modules/.cache/framecast-compile` };
  const primeArgs = [...(opts.nodeArgs ?? []), entry, '--version'];
  if (!primed.has(primeArgs.join(' '))) {
    spawnSync(process.execPath, primeArgs, { cwd: REPO_ROOT, env: { ...process.env, ...cacheEnv }, stdio: 'ignore' });
    primed.add(primeArgs.join(' '));
  }
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...cacheEnv,
    REDIS_URL: redisUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    FRAMECAST_GATEWAY_ID: 'bench',
    ...opts.env,
  };
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), entry], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  // The gateway logs JSON at warn, so readiness is its listening port answering.
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    if (/"level":(40|50|60)/.test(l)) process.stderr.write(`[${kind}] ${l}\n`);
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`);
      break;
    } catch {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${kind} server did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    kind,
    pid: proc.pid!,
    port,
    wsUrl: (room) => `ws://127.0.0.1:${port}/ws/video/${room}${opts.urlQuery ?? ''}`,
    async stop() {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
