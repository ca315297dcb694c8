import { describe, expect, it } from 'vitest';
import { assertRoomName, isValidRoomName, RoomNameError } from './rooms.ts';
import { frameChannel, lastFrameKey, streamOfChannel } from './names.ts';
import { parseStream, parseVariant, streamName } from './variants.ts';
import { CloseCode, shouldReconnect } from './close-codes.ts';

describe('room names', () => {
  it.each(['demo', 'lobby-1', 'Cam_02', '0', 'a'.repeat(64)])('accepts %s', (n) => expect(isValidRoomName(n)).toBe(true));
  it.each(['', '-lead', '_lead', 'a'.repeat(65), 'sp ace', 'dot.ted', 'slash/x', 'ünï', 'a*', 'x:last', '../x'])('rejects %j', (n) =>
    expect(isValidRoomName(n)).toBe(false),
  );
  it('names the rule in its error', () => {
    expect(() => assertRoomName('bad room')).toThrow(RoomNameError);
    expect(() => assertRoomName('bad room')).toThrow(/1-64 characters/);
  });
  it('builds channel and key names from valid rooms only', () => {
    expect(frameChannel('lobby')).toBe('video_lobby');
    expect(lastFrameKey('lobby')).toBe('video_lobby:last');
    expect(streamOfChannel('video_lobby')).toBe('lobby');
    expect(streamOfChannel('video_bad room')).toBeNull();
    expect(streamOfChannel('other')).toBeNull();
    expect(() => frameChannel('a b')).toThrow(RoomNameError);
  });
  it('names a variant stream `<room>~<variant>`, and only known variants', () => {
    expect(frameChannel(streamName('lobby', 'small'))).toBe('video_lobby~small');
    expect(lastFrameKey('lobby~small')).toBe('video_lobby~small:last');
    expect(streamOfChannel('video_lobby~small')).toBe('lobby~small');
    expect(parseStream('lobby~small')).toEqual({ room: 'lobby', variant: 'small' });
    expect(parseStream('lobby')).toEqual({ room: 'lobby', variant: null });
    for (const bad of ['lobby~huge', 'lobby~', '~small', 'lobby~small~small', 'a b~small']) {
      expect(parseStream(bad), bad).toBeNull();
      expect(() => frameChannel(bad), bad).toThrow(RoomNameError);
    }
    expect(parseVariant(undefined)).toBeNull();
    expect(parseVariant('small')).toBe('small');
    expect(() => parseVariant('huge')).toThrow(/unknown variant "huge": known variants are small/);
    expect(() => parseVariant('__proto__')).toThrow(/unknown variant/);
  });
});

describe('close codes', () => {
  it('tells clients whether to reconnect', () => {
    expect(shouldReconnect(CloseCode.ServiceRestart)).toBe(true);
    expect(shouldReconnect(CloseCode.Stalled)).toBe(true);
    expect(shouldReconnect(CloseCode.InvalidRoom)).toBe(false);
    expect(shouldReconnect(CloseCode.Forbidden)).toBe(false);
    expect(shouldReconnect(CloseCode.Normal)).toBe(false);
  });
});
