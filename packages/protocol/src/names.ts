import { RoomNameError } from './rooms.ts';
import { isValidStreamName } from './variants.ts';

/**
 * Every Redis channel and key framecast uses comes from here. A stream is a room, or a variant of
 * one (`<room>~small`, see variants.ts); each has its own channel and last-frame key.
 *
 * `video_<stream>`        pub/sub channel carrying the stream's envelopes (sharded in a cluster)
 * `video_<stream>:last`   string key: the stream's latest envelope, with an expiry, for instant first frames
 */
export const CHANNEL_PREFIX = 'video_';

/** The stream name itself, checked: a room name, or a room and a known variant. */
export function assertStreamName(stream: string): string {
  if (!isValidStreamName(stream)) throw new RoomNameError(stream);
  return stream;
}

export function frameChannel(stream: string): string {
  return CHANNEL_PREFIX + assertStreamName(stream);
}

export function lastFrameKey(stream: string): string {
  return `${CHANNEL_PREFIX}${assertStreamName(stream)}:last`;
}

/** The stream (room, or room~variant) of a frame channel name, or null if the name is not one. */
export function streamOfChannel(channel: string): string | null {
  if (!channel.startsWith(CHANNEL_PREFIX)) return null;
  const stream = channel.slice(CHANNEL_PREFIX.length);
  return isValidStreamName(stream) ? stream : null;
}
