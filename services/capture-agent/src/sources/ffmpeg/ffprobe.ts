import type { InputInfo } from '../frame-source.ts';
import { causeFromStderr, runCommand } from './ffmpeg-output.ts';

/** Asks ffprobe what the input's first video stream is; throws an Error whose message is the cause. */
export async function probeVideoInput(
  ffprobePath: string,
  inputArgs: string[],
  opts: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<InputInfo> {
  const args = [
    '-hide_banner',
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name,width,height,avg_frame_rate,r_frame_rate',
    '-of',
    'json',
    ...inputArgs,
  ];
  const res = await runCommand(ffprobePath, args, opts);
  if (opts.signal?.aborted) throw new Error('probe cancelled');
  if (res.signal === 'SIGKILL') throw new Error(`no answer within ${opts.timeoutMs} ms`);
  if (res.code !== 0) throw new Error(causeFromStderr(res.stderr.split('\n'), `ffprobe exited with code ${res.code}`));
  return parseProbeJson(res.stdout);
}

interface ProbeStream {
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
}

export function parseProbeJson(json: string): InputInfo {
  let doc: { streams?: ProbeStream[] };
  try {
    doc = JSON.parse(json) as { streams?: ProbeStream[] };
  } catch {
    throw new Error('ffprobe printed no readable answer');
  }
  const s = doc.streams?.[0];
  if (!s) throw new Error('the source has no video stream');
  return { codec: s.codec_name, width: s.width, height: s.height, fps: parseRate(s.avg_frame_rate) ?? parseRate(s.r_frame_rate) };
}

/** "30000/1001" → 29.97; "0/0" (unknown) → undefined. */
export function parseRate(rate: string | undefined): number | undefined {
  const m = rate ? /^(\d+)\/(\d+)$/.exec(rate) : null;
  if (!m || Number(m[2]) === 0 || Number(m[1]) === 0) return undefined;
  return Math.round((Number(m[1]) / Number(m[2])) * 100) / 100;
}
