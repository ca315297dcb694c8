import { describe, expect, it } from 'vitest';
import { qscaleForQuality, RTSP_IO_TIMEOUT_MS } from './ffmpeg-args.ts';
import { ffmpegArgs } from './ffmpeg-plan.ts';
import { parseProbeJson, parseRate } from './ffprobe.ts';
import { chooseV4l2Input, parseV4l2Formats } from './v4l2-formats.ts';

const out = { width: 1280, height: 720, fps: 15, quality: 80 };
const line = (args: string[]) => args.join(' ');

describe('ffmpeg command lines', () => {
  it('maps JPEG quality onto the qscale range', () => {
    expect(qscaleForQuality(100)).toBe(2);
    expect(qscaleForQuality(1)).toBe(31);
    expect(qscaleForQuality(80)).toBe(8);
  });

  it('every run: quiet stderr, progress on fd 3, MJPEG on stdout flushed per frame', () => {
    for (const spec of [{ kind: 'ffmpeg-testsrc' } as const, { kind: 'file', path: '/a.mp4' } as const]) {
      const args = line(ffmpegArgs(spec, out, false));
      expect(args).toMatch(/^-hide_banner -nostdin -nostats -loglevel warning -progress pipe:3 -stats_period 1 /);
      expect(args).toMatch(/-f mjpeg -flush_packets 1 pipe:1$/);
    }
  });

  it('encodes with the rate cap before the encoder, letterboxed to exactly the size, at the quality', () => {
    const args = line(ffmpegArgs({ kind: 'file', path: '/a.mp4' }, out, false));
    expect(args).toContain('-fps_mode vfr -r 15 -vf scale=1280:720:force_original_aspect_ratio=decrease');
    expect(args).toContain('pad=1280:720:-1:-1');
    expect(args).toContain('-c:v mjpeg -q:v 8');
  });

  it('testsrc: lavfi testsrc2 at the size and rate, in real time', () => {
    expect(line(ffmpegArgs({ kind: 'ffmpeg-testsrc' }, { width: 320, height: 240, fps: 12, quality: 100 }, false))).toMatch(
      /-re -f lavfi -i testsrc2=size=320x240:rate=12 .*-q:v 2 /,
    );
  });

  it('file: real time, looping for ever; passthrough copies the JPEGs', () => {
    const args = line(ffmpegArgs({ kind: 'file', path: '/srv/door.avi' }, out, true));
    expect(args).toContain('-re -stream_loop -1 -i /srv/door.avi');
    expect(args).toContain('-c:v copy -f mjpeg');
    expect(args).not.toContain('-vf');
  });

  it('rtsp: TCP transport and a socket timeout so a dead camera is noticed within seconds', () => {
    const args = line(ffmpegArgs({ kind: 'rtsp', url: 'rtsp://cam/s1' }, out, false));
    expect(args).toContain(`-rtsp_transport tcp -timeout ${RTSP_IO_TIMEOUT_MS * 1000} -analyzeduration 1000000 -i rtsp://cam/s1`);
    expect(RTSP_IO_TIMEOUT_MS).toBeLessThanOrEqual(5000);
  });

  it('v4l2: MJPEG passthrough asks for mjpeg at the size and rate and copies', () => {
    const choice = { mjpeg: true, videoSize: '1280x720', passthrough: true };
    expect(line(ffmpegArgs({ kind: 'v4l2', device: '/dev/video0' }, out, choice))).toMatch(
      /-f v4l2 -input_format mjpeg -video_size 1280x720 -framerate 15 -i \/dev\/video0 -an -sn -dn -c:v copy -f mjpeg/,
    );
  });

  it('v4l2: raw frames are encoded; mjpeg at another size is decoded and scaled', () => {
    const raw = line(ffmpegArgs({ kind: 'v4l2', device: '/dev/video0' }, out, { mjpeg: false, videoSize: '1280x720', passthrough: false }));
    expect(raw).toMatch(/-f v4l2 -video_size 1280x720 -framerate 15 -i \/dev\/video0 .*-fps_mode vfr -r 15 -vf scale=1280:720/);
    expect(raw).not.toContain('-input_format');
    const scaled = line(ffmpegArgs({ kind: 'v4l2', device: '/dev/video0' }, out, { mjpeg: true, videoSize: undefined, passthrough: false }));
    expect(scaled).toMatch(/-f v4l2 -input_format mjpeg -framerate 15 -i \/dev\/video0 .*-c:v mjpeg -q:v 8/);
  });
});

describe('V4L2 format listing', () => {
  const listing = [
    '[video4linux2,v4l2 @ 0x55d0c1a2b3c0] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 320x240 1280x720',
    '[video4linux2,v4l2 @ 0x55d0c1a2b3c0] Compressed:       mjpeg :          Motion-JPEG : 640x480 1280x720 1920x1080',
    '[video4linux2,v4l2 @ 0x55d0c1a2b3c0] Raw       :        nv12 :         Y/CbCr 4:2:0 : {32-4096, 2}x{32-2160, 2}',
    '/dev/video0: Immediate exit requested',
  ].join('\n');

  it('parses discrete and stepwise sizes', () => {
    expect(parseV4l2Formats(listing)).toEqual([
      { kind: 'raw', name: 'yuyv422', sizes: ['640x480', '320x240', '1280x720'] },
      { kind: 'compressed', name: 'mjpeg', sizes: ['640x480', '1280x720', '1920x1080'] },
      { kind: 'raw', name: 'nv12', sizes: 'any' },
    ]);
    expect(parseV4l2Formats('Cannot open video device /dev/video9: No such file or directory')).toEqual([]);
  });

  it('passes MJPEG through at an offered size, otherwise encodes from the best input', () => {
    const formats = parseV4l2Formats(listing);
    expect(chooseV4l2Input(formats, '1280x720', true)).toEqual({ mjpeg: true, videoSize: '1280x720', passthrough: true });
    expect(chooseV4l2Input(formats, '1280x720', false)).toEqual({ mjpeg: true, videoSize: '1280x720', passthrough: false });
    // nv12 offers any size: raw at exactly 800x600 beats scaling MJPEG.
    expect(chooseV4l2Input(formats, '800x600', true)).toEqual({ mjpeg: false, videoSize: '800x600', passthrough: false });
    const mjpegOnly = formats.filter((f) => f.name === 'mjpeg');
    expect(chooseV4l2Input(mjpegOnly, '800x600', true)).toEqual({ mjpeg: true, videoSize: undefined, passthrough: false });
    expect(chooseV4l2Input([], '640x360', true)).toEqual({ mjpeg: false, videoSize: '640x360', passthrough: false });
  });
});

describe('ffprobe output', () => {
  it('reads the first video stream', () => {
    const json = JSON.stringify({ streams: [{ codec_name: 'h264', width: 1920, height: 1080, avg_frame_rate: '30000/1001', r_frame_rate: '30000/1001' }] });
    expect(parseProbeJson(json)).toEqual({ codec: 'h264', width: 1920, height: 1080, fps: 29.97 });
    expect(parseRate('0/0')).toBeUndefined();
    expect(() => parseProbeJson('{"streams":[]}')).toThrow('the source has no video stream');
  });
});
