import { describe, expect, it } from 'vitest';
import { describeSource, parseSource, redactCredentials, SourceSyntaxError } from './source-url.ts';

describe('parseSource', () => {
  it.each([
    ['testsrc', { kind: 'testsrc' }],
    ['ffmpeg:testsrc', { kind: 'ffmpeg-testsrc' }],
    ['v4l2:/dev/video0', { kind: 'v4l2', device: '/dev/video0' }],
    ['v4l2:///dev/v4l/by-id/usb-cam-video-index0', { kind: 'v4l2', device: '/dev/v4l/by-id/usb-cam-video-index0' }],
    ['rtsp://admin:pw@10.0.0.5:554/stream1', { kind: 'rtsp', url: 'rtsp://admin:pw@10.0.0.5:554/stream1' }],
    ['rtsps://cam.local/live', { kind: 'rtsp', url: 'rtsps://cam.local/live' }],
    ['http://cam.local:8080/?action=stream', { kind: 'http-mjpeg', url: 'http://cam.local:8080/?action=stream' }],
    ['HTTPS://cam.local/mjpg/video.mjpg', { kind: 'http-mjpeg', url: 'https://cam.local/mjpg/video.mjpg' }],
    ['file:/srv/clips/door.mp4', { kind: 'file', path: '/srv/clips/door.mp4' }],
    ['file:///srv/clips/front%20door.mp4', { kind: 'file', path: '/srv/clips/front door.mp4' }],
  ])('%s', (text, spec) => {
    expect(parseSource(text)).toEqual(spec);
  });

  it.each([
    ['v4l2', /must be one of/],
    ['v4l2:video0', /absolute device path/],
    ['file:clip.mp4', /absolute path/],
    ['ftp://host/x', /must be one of/],
    ['rtsp://', /valid URL|no host/],
    ['/dev/video0', /must be one of/],
  ])('rejects %j', (text, message) => {
    expect(() => parseSource(text)).toThrow(SourceSyntaxError);
    expect(() => parseSource(text)).toThrow(message);
  });
});

describe('credentials never reach logs', () => {
  it('describeSource hides the password of a camera URL', () => {
    expect(describeSource(parseSource('rtsp://admin:s3cret@10.0.0.5/stream1'))).toBe('rtsp://admin:***@10.0.0.5/stream1');
    expect(describeSource(parseSource('http://cam/stream'))).toBe('http://cam/stream');
  });

  it('redactCredentials scrubs URLs inside ffmpeg messages', () => {
    expect(redactCredentials('rtsp://admin:s3cret@10.0.0.5:554/x: Connection refused')).toBe('rtsp://admin:***@10.0.0.5:554/x: Connection refused');
    expect(redactCredentials('Opening http://u:p@h/a and rtsp://v:q@k/b')).toBe('Opening http://u:***@h/a and rtsp://v:***@k/b');
    expect(redactCredentials('no url here: 12:30')).toBe('no url here: 12:30');
  });
});
