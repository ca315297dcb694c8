/**
 * The one room-name rule. A room name is 1–64 characters of ASCII letters, digits, `-` and `_`,
 * starting with a letter or digit: safe in a URL path, a Redis channel name, a metric label and a
 * file name without escaping.
 */
export const ROOM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const ROOM_NAME_RULE = '1-64 characters from A-Z a-z 0-9 _ -, starting with a letter or digit';

export function isValidRoomName(name: unknown): name is string {
  return typeof name === 'string' && ROOM_NAME_PATTERN.test(name);
}

export class RoomNameError extends Error {
  override readonly name = 'RoomNameError';
  readonly room: string;

  constructor(room: string) {
    super(`invalid room name ${JSON.stringify(room.length > 80 ? `${room.slice(0, 80)}…` : room)}: ${ROOM_NAME_RULE}`);
    this.room = room;
  }
}

export function assertRoomName(name: string): string {
  if (!isValidRoomName(name)) throw new RoomNameError(name);
  return name;
}
