export type { FrameBus, FrameListener, PublishResult } from './frame-bus.ts';
export { MemoryBroker, MemoryFrameBus } from './memory-bus.ts';
export { RedisFrameBus, type RedisFrameBusOptions } from './redis-bus.ts';
// What the bus's Redis errors mean, for the services that reach Redis only through the bus.
export { classifyRedisError, RedisProblemLog, redisTargetOf, describeRedisTarget, type RedisTarget, REDIS_PROBLEM_REASONS, type RedisProblem, type RedisProblemReason } from '@framecast/redis';
