import { assertRoomName, isValidRoomName } from './rooms.ts';

/**
 * Every Redis channel and key framecast uses comes from here.
 *
 * `video_<room>`        pub/sub channel carrying the room's envelopes (sharded in a cluster)
 * `video_<room>:last`   string key: the room's latest envelope, with an expiry, for instant first frames
 */
export const CHANNEL_PREFIX = 'video_';

export function frameChannel(room: string): string {
  return CHANNEL_PREFIX + assertRoomName(room);
}

export function lastFrameKey(room: string): string {
  return `${CHANNEL_PREFIX}${assertRoomName(room)}:last`;
}

/** The room of a frame channel name, or null if the name is not one. */
export function roomOfChannel(channel: string): string | null {
  if (!channel.startsWith(CHANNEL_PREFIX)) return null;
  const room = channel.slice(CHANNEL_PREFIX.length);
  return isValidRoomName(room) ? room : null;
}
