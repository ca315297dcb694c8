import { RoomNameError } from './rooms.ts';
import { isValidStreamName } from './variants.ts';

/**
 * Every Redis channel and key framecast uses comes from here. A stream is a room, or a variant of
 * one (`<room>~small`, see variants.ts); each has its own channel and last-frame key.
 *
 * `video_<stream>`        pub/sub channel carrying the stream's envelopes (sharded in a cluster)
 * `video_<stream>:last`   string key: the stream's latest envelope, with an expiry, for instant first frames
 * `{video_<stream>}:last` the same key on a Redis Cluster: its hash tag is the channel's own name, so
 *                         the key lives in the slot (and on the shard) that carries the channel
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

/**
 * The last-frame key on a Redis Cluster. A sharded channel's slot is the hash of its whole name;
 * tagging the key with that name puts both in one slot, so the publish and the store go to one
 * primary in one pipeline.
 */
export function clusterLastFrameKey(stream: string): string {
  return `{${CHANNEL_PREFIX}${assertStreamName(stream)}}:last`;
}

/** The stream (room, or room~variant) of a frame channel name, or null if the name is not one. */
export function streamOfChannel(channel: string): string | null {
  if (!channel.startsWith(CHANNEL_PREFIX)) return null;
  const stream = channel.slice(CHANNEL_PREFIX.length);
  return isValidStreamName(stream) ? stream : null;
}
