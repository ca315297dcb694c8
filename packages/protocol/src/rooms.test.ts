import { describe, expect, it } from 'vitest';
import { assertRoomName, isValidRoomName, RoomNameError } from './rooms.ts';
import { frameChannel, lastFrameKey, roomOfChannel } from './names.ts';
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
    expect(roomOfChannel('video_lobby')).toBe('lobby');
    expect(roomOfChannel('video_bad room')).toBeNull();
    expect(roomOfChannel('other')).toBeNull();
    expect(() => frameChannel('a b')).toThrow(RoomNameError);
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
