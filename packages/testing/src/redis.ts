import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort, sleep, waitFor } from './ports.ts';

export interface TestRedis {
  url: string;
  /** How this Redis came to be: an external REDIS_URL, a private redis-server, or a container. */
  source: 'env' | 'redis-server' | 'container';
  /** Whether stop()/start() work (only for a Redis this harness owns). */
  controllable: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP): its connections stay open and nothing answers, like a hung or
   * swapping Redis. Only for a private redis-server.
   */
  pause(): Promise<void>;
  /** Lets a paused server go on (SIGCONT). */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export interface TestRedisOptions {
  /** The test stops and restarts Redis: never hand out a shared external one. */
  needsControl?: boolean;
}

/**
 * A real Redis for one test file: REDIS_URL if set (and the test does not need to stop it),
 * else a private redis-server on a free loopback port with no persistence, else a
 * testcontainers Redis when a Docker engine answers, else an error saying how to get one.
 */
export async function startTestRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  const external = process.env.REDIS_URL;
  if (external && !opts.needsControl) {
    return {
      url: external,
      source: 'env',
      controllable: false,
      stop: () => Promise.reject(new Error('cannot stop the external Redis given by REDIS_URL')),
      start: () => Promise.reject(new Error('cannot start the external Redis given by REDIS_URL')),
      pause: () => Promise.reject(new Error('cannot pause the external Redis given by REDIS_URL')),
      resume: () => Promise.reject(new Error('cannot resume the external Redis given by REDIS_URL')),
      close: async () => {},
    };
  }
  if (hasRedisServer()) return startRedisServer();
  const container = await startRedisContainer();
  if (container) return container;
  throw new Error(
    'no Redis for tests: set REDIS_URL, install redis-server (apt-get install -y redis-server) or run a Docker engine for testcontainers',
  );
}

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function startRedisServer(): Promise<TestRedis> {
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const start = async () => {
    if (proc) return;
    const p = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    proc = p;
    p.on('exit', () => {
      if (proc === p) proc = null;
    });
    await waitFor(`redis-server on port ${port}`, () => ping(port), 10_000);
  };
  const stop = async () => {
    const p = proc;
    if (!p) return;
    proc = null;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    // The port must be closed before the test goes on to measure the outage.
    await waitFor('redis port to close', async () => !(await ping(port)), 5_000);
  };
  const signal = async (sig: 'SIGSTOP' | 'SIGCONT') => {
    if (!proc) throw new Error(`redis-server on port ${port} is not running`);
    proc.kill(sig);
    // A stopped process still has its port open but answers nothing; wait until that is so.
    await waitFor(`redis-server ${sig === 'SIGSTOP' ? 'stopped' : 'running'}`, () => processState(proc!.pid!) === (sig === 'SIGSTOP' ? 'T' : 'running'), 5_000, 5);
  };
  const pause = () => signal('SIGSTOP');
  const resume = () => signal('SIGCONT');
  await start();
  return { url: `redis://127.0.0.1:${port}`, source: 'redis-server', controllable: true, start, stop, pause, resume, close: stop };
}

async function startRedisContainer(): Promise<TestRedis | null> {
  let mod: typeof import('testcontainers');
  try {
    mod = await import('testcontainers');
  } catch {
    return null;
  }
  try {
    let container = await new mod.GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    const url = () => `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
    let running = true;
    return {
      get url() {
        return url();
      },
      source: 'container',
      controllable: true,
      stop: async () => {
        if (!running) return;
        await container.stop({ remove: false });
        running = false;
      },
      start: async () => {
        if (running) return;
        await container.restart();
        running = true;
      },
      pause: () => Promise.reject(new Error('pausing a container Redis is not supported: install redis-server')),
      resume: () => Promise.reject(new Error('pausing a container Redis is not supported: install redis-server')),
      close: async () => {
        await container.stop();
      },
    } as TestRedis;
  } catch (err) {
    // "Could not find a working container runtime strategy": no engine here.
    if (/container runtime strategy/i.test(String(err))) return null;
    throw err;
  }
}

/** 'T' for a stopped process, 'running' for any other live state (from /proc/<pid>/stat). */
function processState(pid: number): 'T' | 'running' | 'gone' {
  try {
    const state = /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
    return state === 'T' ? 'T' : state === undefined || state === 'Z' ? 'gone' : 'running';
  } catch {
    return 'gone';
  }
}

/** PING through redis-cli with its connection flags (`--tls --cacert …`): whether a TLS Redis answers there. */
export function redisCliPing(port: number, cliArgs: string[]): boolean {
  const r = spawnSync('redis-cli', [...cliArgs, '-p', String(port), 'PING'], { encoding: 'utf8', timeout: 2000 });
  return r.stdout?.trim() === 'PONG';
}

/** One PING over a raw socket: answers whether something that speaks RESP listens there. */
export function ping(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export { sleep };
