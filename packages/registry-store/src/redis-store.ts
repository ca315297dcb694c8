import { cameraMember, REGISTRY_KEY_PREFIX, registryKeys as keys, type CameraReport } from '@framecast/protocol';
import { scripts } from './lua-script.ts';
import { classifyRedisError, connectRedis, DEFAULT_REDIS_COMMAND_TIMEOUT_MS, execPipeline, quitRedis, RedisLiveness, type RedisClient, type RedisTarget } from '@framecast/redis';
import { RedisAdminRecords } from './redis-admin-records.ts';
import {
  EVENTS_MAX_LENGTH,
  HISTORY_MAX_AGE_MS,
  type CameraStatus,
  type HistoryEntry,
  type Liveness,
  type PresenceReport,
  type PresenceResult,
  type RegistryCounts,
  type RegistryStore,
  type RoomPatch,
  type RoomRecord,
  type RoomStatus,
  type SweepResult,
  type ViewerPresence,
  type Visibility,
  registryListeningTtlMs,
} from './types.ts';

/** Most stale cameras or gateways one sweep call expires; the next sweep takes the rest. */
const SWEEP_BATCH = 500;
/** Longest history a single read returns (an hour of a very busy room). */
const HISTORY_READ_LIMIT = 10_000;

export interface RedisRegistryStoreOptions {
  /** One Redis (URL or target) or a Redis Cluster: every key shares the `{framecast}` hash tag, so one slot holds them all. */
  redis: RedisTarget | string;
  /** Shown in CLIENT LIST. */
  connectionName: string;
  /** Every command's timeout, and how long a PING may go unanswered before the store counts as unavailable. Default 1000 ms. */
  commandTimeoutMs?: number;
}

/**
 * The registry's state in Redis. Reads are pipelined; every write that decides a transition
 * (online/offline, joined/left, a gateway expiring) is one Lua script, so any number of registry
 * replicas and gateways can write at once and each transition happens exactly once.
 */
export class RedisRegistryStore extends RedisAdminRecords implements RegistryStore {
  readonly kind = 'redis' as const;
  private sub: RedisClient | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly liveness: RedisLiveness;
  /** The last failed connection attempt's error, until the connection is ready again. */
  private lastConnectionError: Error | null = null;

  private readonly opts: RedisRegistryStoreOptions;

  constructor(opts: RedisRegistryStoreOptions) {
    const commandTimeout = opts.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
    super(connectRedis(opts.redis, opts.connectionName, { commandTimeout }));
    this.opts = opts;
    // ioredis emits 'error' for every failed reconnect; callers watch `connection` state events.
    this.redis.on('error', (err: Error) => (this.lastConnectionError = err));
    this.redis.on('ready', () => (this.lastConnectionError = null));
    // A hung Redis keeps the connection 'ready'; the watchdog notices it stop answering.
    // On a cluster every key here is in the `{framecast}` slot: its primary hung is the store hung.
    this.liveness = new RedisLiveness(this.redis, { timeoutMs: commandTimeout, slotKey: REGISTRY_KEY_PREFIX });
  }

  /** The command connection, for state events. */
  get connection(): RedisClient {
    return this.redis;
  }

  /** Connected and answering: requests can be served (readiness). */
  available(): boolean {
    return this.redis.status === 'ready' && this.liveness.responsive;
  }

  /** Why the store is not available, null while it is. */
  problem(): string | null {
    if (this.redis.status !== 'ready') {
      const problem = classifyRedisError(this.lastConnectionError);
      return problem ? `${problem.summary}: ${problem.detail}` : `not connected to Redis (${this.redis.status})`;
    }
    return this.liveness.problem();
  }

  async createRoom(room: RoomRecord): Promise<boolean> {
    const fields = JSON.stringify({ title: room.title, description: room.description, visibility: room.visibility });
    return (await scripts.rooms.run(this.redis, [keys.rooms()], ['create', room.name, room.createdAt, fields])) === 1;
  }

  async updateRoom(name: string, patch: RoomPatch, now: number): Promise<RoomRecord | null> {
    const flat = await scripts.rooms.run(this.redis, [keys.rooms()], ['update', name, now, JSON.stringify(patch)]);
    if (!Array.isArray(flat)) return null;
    const record: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = String(flat[i + 1]);
    return parseRoom(record);
  }

  async getRoom(name: string): Promise<RoomRecord | null> {
    return parseRoom(await this.redis.hgetall(keys.room(name)));
  }

  async deleteRoom(name: string): Promise<boolean> {
    return (await scripts.rooms.run(this.redis, [keys.rooms()], ['delete', name, Date.now(), ''])) === 1;
  }

  async listRooms(): Promise<RoomRecord[]> {
    const names = await this.redis.zrange(keys.rooms(), '0', '-1');
    const p = this.redis.pipeline();
    for (const name of names) p.hgetall(keys.room(name));
    const records = (await execPipeline(p)) as Array<Record<string, string>>;
    return records.map(parseRoom).filter((r): r is RoomRecord => r !== null);
  }

  async roomStatus(rooms: string[], now: number, liveness: Liveness): Promise<Map<string, RoomStatus>> {
    const p = this.redis.pipeline();
    p.exists(keys.registryResumed()).exists(keys.registryListening());
    p.zrangebyscore(keys.gateways(), `(${now - liveness.gatewayTimeoutMs}`, '+inf');
    for (const room of rooms) p.hgetall(keys.roomCameras(room)).smembers(keys.roomGateways(room));
    const [resumed, listening, liveGateways, ...perRoom] = await execPipeline(p);
    // In the restart grace the sweep expires no camera; reads agree with it, so a camera that
    // streamed through a registry outage reads live at once instead of waiting for its heartbeat.
    // A lapsed listening mark means the grace is about to begin (the first sweep or mark after a
    // return starts it): the same answer already.
    const grace = resumed === 1 || listening === 0;
    const cameraCutoff = grace ? -Infinity : now - liveness.agentTimeoutMs;
    const alive = new Set(liveGateways as string[]);
    const counts = this.redis.pipeline();
    const asked: Array<[string, string]> = [];
    rooms.forEach((room, i) => {
      for (const gw of perRoom[2 * i + 1] as string[]) {
        if (!alive.has(gw)) continue;
        counts.hlen(keys.roomPresence(room, gw));
        asked.push([room, gw]);
      }
    });
    const lengths = asked.length > 0 ? ((await execPipeline(counts)) as number[]) : [];
    const out = new Map<string, RoomStatus>();
    rooms.forEach((room, i) => {
      const cameras = Object.values(perRoom[2 * i] as Record<string, string>)
        .map((json) => JSON.parse(json) as CameraStatus)
        .filter((c) => c.reportedAt > cameraCutoff)
        .sort((a, b) => a.agentId.localeCompare(b.agentId));
      out.set(room, { live: cameras.length > 0, cameras, viewers: { total: 0, byGateway: {} } });
    });
    asked.forEach(([room, gw], i) => {
      const n = lengths[i] ?? 0;
      if (n === 0) return;
      const v = out.get(room)!.viewers;
      v.total += n;
      v.byGateway[gw] = n;
    });
    return out;
  }

  async counts(now: number, liveness: Liveness): Promise<RegistryCounts> {
    const p = this.redis.pipeline();
    p.exists(keys.registryResumed()).exists(keys.registryListening()).zcard(keys.rooms());
    p.zrangebyscore(keys.gateways(), `(${now - liveness.gatewayTimeoutMs}`, '+inf');
    const [resumed, listening, rooms, liveGateways] = (await execPipeline(p)) as [number, number, number, string[]];
    // The same restart grace as roomStatus: while it lasts no camera counts as expired.
    const cameraCutoff = resumed === 1 || listening === 0 ? '-inf' : `(${now - liveness.agentTimeoutMs}`;
    const second = this.redis.pipeline();
    second.zrangebyscore(keys.cameras(), cameraCutoff, '+inf');
    for (const gw of liveGateways) second.smembers(keys.gatewayRooms(gw));
    const [liveCameras, ...roomsByGateway] = (await execPipeline(second)) as [string[], ...string[][]];
    const lengths = this.redis.pipeline();
    let asked = 0;
    liveGateways.forEach((gw, i) => {
      for (const room of roomsByGateway[i] ?? []) {
        lengths.hlen(keys.roomPresence(room, gw));
        asked++;
      }
    });
    const viewers = asked > 0 ? ((await execPipeline(lengths)) as number[]).reduce((a, b) => a + b, 0) : 0;
    // Members are "<room>/<agent>"; a room name has no "/".
    const roomsLive = new Set(liveCameras.map((m) => m.slice(0, m.indexOf('/')))).size;
    return { rooms, roomsLive, cameras: liveCameras.length, viewers, gateways: liveGateways.length };
  }

  async heartbeat(agentId: string, cameras: CameraReport[], now: number, newRoomVisibility: Visibility = 'private'): Promise<string[]> {
    const args = cameras.map(({ room, ...report }): [string, string] => {
      cameraMember(room, agentId); // validates both halves of the member
      const status: CameraStatus = { ...report, agentId, reportedAt: now };
      return [room, JSON.stringify(status)];
    });
    const online = await scripts.heartbeat.run(this.redis, [keys.cameras()], [agentId, now, JSON.stringify(args), EVENTS_MAX_LENGTH, newRoomVisibility]);
    return online as string[];
  }

  async reportPresence(gateway: string, report: PresenceReport, now: number): Promise<PresenceResult> {
    const tuple = (v: { id: string; room: string; user: string | null; since: number }) => [v.id, v.room, v.user, v.since];
    const payload =
      report.mode === 'delta'
        ? { j: report.joins.map(tuple), l: report.leaves.map((l) => [l.id, l.room]) }
        : { v: report.viewers.map(tuple) };
    keys.gatewayRooms(gateway); // validates the id before it reaches a key
    const result = await scripts.presence.run(this.redis, [keys.gateways()], [
      gateway,
      now,
      report.mode,
      JSON.stringify(payload),
      HISTORY_MAX_AGE_MS,
      EVENTS_MAX_LENGTH,
    ]);
    return result === 'resync' ? 'resync' : 'ok';
  }

  async presence(room: string, now: number, liveness: Liveness): Promise<ViewerPresence[]> {
    const [alive, members] = await execPipeline(
      this.redis.pipeline().zrangebyscore(keys.gateways(), `(${now - liveness.gatewayTimeoutMs}`, '+inf').smembers(keys.roomGateways(room)),
    );
    const live = new Set(alive as string[]);
    const gws = (members as string[]).filter((g) => live.has(g)).sort();
    if (gws.length === 0) return [];
    const p = this.redis.pipeline();
    for (const gw of gws) p.hgetall(keys.roomPresence(room, gw));
    const hashes = (await execPipeline(p)) as Array<Record<string, string>>;
    const out: ViewerPresence[] = [];
    hashes.forEach((hash, i) => {
      const gateway = gws[i]!;
      for (const [id, json] of Object.entries(hash)) {
        const { u, s } = JSON.parse(json) as { u?: string | null; s: number };
        out.push({ id: `${gateway}/${id}`, gateway, user: u ?? null, since: s });
      }
    });
    return out.sort((a, b) => a.since - b.since || a.id.localeCompare(b.id));
  }

  async history(room: string, since: number): Promise<HistoryEntry[]> {
    const entries = await this.redis.xrange(keys.roomHistory(room), String(Math.max(0, since)), '+', 'COUNT', HISTORY_READ_LIMIT);
    return entries.map(([id, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
      return {
        at: Number(id.split('-')[0]),
        event: f.e === 'left' ? 'left' : 'joined',
        viewer: `${f.g}/${f.v}`,
        gateway: f.g ?? '',
        user: f.u ?? null,
        reason: f.r ?? null,
      };
    });
  }

  async sweep(now: number, liveness: Liveness): Promise<SweepResult> {
    const [cams, offline, gone, viewers, grace, returned] = (await scripts.sweep.run(this.redis, [keys.cameras(), keys.gateways()], [
      now,
      now - liveness.agentTimeoutMs,
      now - liveness.gatewayTimeoutMs,
      HISTORY_MAX_AGE_MS,
      EVENTS_MAX_LENGTH,
      SWEEP_BATCH,
      registryListeningTtlMs(liveness.agentTimeoutMs),
      liveness.agentTimeoutMs,
    ])) as [number, string[], string[], number, number, number];
    return { cameraGrace: grace === 1, graceBegan: returned === 1, camerasExpired: cams, roomsOffline: offline, gatewaysExpired: gone, viewersExpired: viewers };
  }

  async noteListening(now: number, liveness: Liveness): Promise<boolean> {
    const began = await scripts.listening.run(this.redis, [keys.registryListening()], [now, registryListeningTtlMs(liveness.agentTimeoutMs), liveness.agentTimeoutMs]);
    return began === 1;
  }

  async publicRooms(): Promise<Set<string>> {
    return new Set(await this.redis.smembers(keys.publicRooms()));
  }

  onRoomsChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.sub) {
      // Its own connection (a subscribed connection runs nothing else); after a reconnect it
      // re-subscribes and the listeners reload, since notices sent meanwhile were lost.
      // (A classic PUBLISH reaches every node of a cluster, so any node can carry this subscription.)
      const sub = connectRedis(this.opts.redis, `${this.opts.connectionName}:sub`, {
        commandTimeout: this.opts.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
      });
      sub.on('error', () => {});
      let connectedBefore = false;
      sub.on('ready', () => {
        if (connectedBefore) for (const l of this.listeners) l();
        connectedBefore = true;
      });
      sub.on('message', () => {
        for (const l of this.listeners) l();
      });
      void sub.subscribe(keys.roomsChanged()).catch(() => {});
      this.sub = sub;
    }
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.liveness.stop();
    await Promise.all([quitRedis(this.redis), quitRedis(this.sub)]);
  }
}

function parseRoom(h: Record<string, string>): RoomRecord | null {
  if (!h.name) return null;
  return {
    name: h.name,
    title: h.title ?? h.name,
    description: h.description ?? '',
    visibility: h.visibility === 'private' ? 'private' : 'public',
    createdAt: Number(h.createdAt),
    updatedAt: Number(h.updatedAt),
  };
}
