export type { FrameBus, FrameListener } from './frame-bus.ts';
export { MemoryBroker, MemoryFrameBus } from './memory-bus.ts';
export { RedisFrameBus, type RedisFrameBusOptions } from './redis-bus.ts';
