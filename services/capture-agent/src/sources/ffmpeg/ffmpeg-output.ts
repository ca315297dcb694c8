import { spawn } from 'node:child_process';
import { redactCredentials } from '../../config/source-url.ts';

/** ffmpeg's "[rtsp @ 0x55d0c1a2b3c0] " prefix says nothing to an operator. */
export function cleanFfmpegLine(line: string): string {
  return redactCredentials(line.replace(/^(\[[^\]]+ @ 0x[0-9a-f]+\]\s*)+/i, '').trim()).slice(0, 300);
}

/** The most telling line of ffmpeg's stderr: its last one, which is the error that ended it. */
export function causeFromStderr(lines: readonly string[], fallback: string): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = cleanFfmpegLine(lines[i]!);
    if (l && !/^Conversion failed!?$/i.test(l) && !/^Exiting normally/i.test(l)) return l;
  }
  return fallback;
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Output kept from a helper command: enough for JSON and an error, bounded however chatty it is. */
const MAX_OUTPUT = 256 * 1024;

/**
 * Runs ffprobe (or ffmpeg for a format listing) to completion, bounded in time and output, and
 * killable through `signal`. Rejects only when the binary cannot be started at all.
 */
export function runCommand(path: string, args: string[], opts: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(kill, opts.timeoutMs);
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      reject(err.code === 'ENOENT' ? new Error(`${path} not found: install ffmpeg or set its path (FRAMECAST_FFMPEG_PATH / FRAMECAST_FFPROBE_PATH)`) : err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
