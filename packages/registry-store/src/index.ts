export * from './types.ts';
export { MemoryRegistryStore } from './memory-store.ts';
export { RedisRegistryStore, type RedisRegistryStoreOptions } from './redis-store.ts';
export { LuaScript } from './lua-script.ts';
