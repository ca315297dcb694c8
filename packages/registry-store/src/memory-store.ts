import { type CameraReport } from '@framecast/protocol';
import {
  DELIVERY_LOG_LENGTH,
  HISTORY_MAX_AGE_MS,
  type AgentKeyRecord,
  type CameraStatus,
  type DeliveryRecord,
  type HistoryEntry,
  type Liveness,
  type PresenceJoin,
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
  type WebhookRecord,
} from './types.ts';

interface Viewer {
  user: string | null;
  since: number;
}

/**
 * The registry's state in this process's memory, for the embedded default (`pnpm start` without
 * REDIS_URL). The same semantics as the Redis store, minus the events stream: without Redis there
 * are no webhooks. Not shared between processes, lost on exit: never for production.
 */
export class MemoryRegistryStore implements RegistryStore {
  readonly kind = 'memory' as const;
  private readonly rooms = new Map<string, RoomRecord>();
  /** room -> agent -> status */
  private readonly cameras = new Map<string, Map<string, CameraStatus>>();
  private readonly live = new Set<string>();
  /** gateway -> last report */
  private readonly gateways = new Map<string, number>();
  /** room -> gateway -> viewer id -> viewer */
  private readonly viewers = new Map<string, Map<string, Map<string, Viewer>>>();
  private readonly historyByRoom = new Map<string, HistoryEntry[]>();
  private readonly listeners = new Set<() => void>();
  private readonly agentKeys = new Map<string, AgentKeyRecord>();
  private readonly webhooks = new Map<string, WebhookRecord>();
  private readonly deliveryLog = new Map<string, DeliveryRecord[]>();

  async createRoom(room: RoomRecord): Promise<boolean> {
    if (this.rooms.has(room.name)) return false;
    this.rooms.set(room.name, { ...room });
    this.changed();
    return true;
  }

  async updateRoom(name: string, patch: RoomPatch, now: number): Promise<RoomRecord | null> {
    const room = this.rooms.get(name);
    if (!room) return null;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    Object.assign(room, defined, { updatedAt: now });
    if (patch.visibility !== undefined) this.changed();
    return { ...room };
  }

  async getRoom(name: string): Promise<RoomRecord | null> {
    const room = this.rooms.get(name);
    return room ? { ...room } : null;
  }

  async deleteRoom(name: string): Promise<boolean> {
    const had = this.rooms.delete(name);
    if (had) this.changed();
    return had;
  }

  async listRooms(): Promise<RoomRecord[]> {
    return [...this.rooms.values()].sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name)).map((r) => ({ ...r }));
  }

  async roomStatus(rooms: string[], now: number, liveness: Liveness): Promise<Map<string, RoomStatus>> {
    const out = new Map<string, RoomStatus>();
    for (const room of rooms) {
      const cameras = [...(this.cameras.get(room)?.values() ?? [])]
        .filter((c) => c.reportedAt > now - liveness.agentTimeoutMs)
        .sort((a, b) => a.agentId.localeCompare(b.agentId));
      const byGateway: Record<string, number> = {};
      let total = 0;
      for (const [gw, vs] of this.viewers.get(room) ?? []) {
        if (!this.gatewayAlive(gw, now, liveness) || vs.size === 0) continue;
        byGateway[gw] = vs.size;
        total += vs.size;
      }
      out.set(room, { live: cameras.length > 0, cameras, viewers: { total, byGateway } });
    }
    return out;
  }

  async counts(now: number, liveness: Liveness): Promise<RegistryCounts> {
    let roomsLive = 0;
    let cameras = 0;
    for (const byAgent of this.cameras.values()) {
      let live = 0;
      for (const c of byAgent.values()) if (c.reportedAt > now - liveness.agentTimeoutMs) live++;
      cameras += live;
      if (live > 0) roomsLive++;
    }
    let viewers = 0;
    for (const byGw of this.viewers.values()) for (const [gw, vs] of byGw) if (this.gatewayAlive(gw, now, liveness)) viewers += vs.size;
    let gateways = 0;
    for (const gw of this.gateways.keys()) if (this.gatewayAlive(gw, now, liveness)) gateways++;
    return { rooms: this.rooms.size, roomsLive, cameras, viewers, gateways };
  }

  async heartbeat(agentId: string, cameras: CameraReport[], now: number, newRoomVisibility: Visibility = 'private'): Promise<string[]> {
    const online: string[] = [];
    for (const { room, ...report } of cameras) {
      let byAgent = this.cameras.get(room);
      if (!byAgent) this.cameras.set(room, (byAgent = new Map()));
      byAgent.set(agentId, { ...report, agentId, reportedAt: now });
      if (!this.rooms.has(room)) {
        this.rooms.set(room, { name: room, title: room, description: '', visibility: newRoomVisibility, createdAt: now, updatedAt: now });
        if (newRoomVisibility === 'public') this.changed();
      }
      if (!this.live.has(room)) {
        this.live.add(room);
        online.push(room);
      }
    }
    return online;
  }

  async reportPresence(gateway: string, report: PresenceReport, now: number): Promise<PresenceResult> {
    if (report.mode === 'delta') {
      if (!this.gateways.has(gateway)) return 'resync';
      for (const j of report.joins) this.addViewer(gateway, j, now);
      for (const l of report.leaves) this.removeViewer(gateway, l.room, l.id, now, null);
    } else {
      const want = new Set(report.viewers.map((v) => `${v.room}/${v.id}`));
      for (const [room, byGw] of this.viewers) {
        for (const id of [...(byGw.get(gateway)?.keys() ?? [])]) if (!want.has(`${room}/${id}`)) this.removeViewer(gateway, room, id, now, 'resync');
      }
      for (const v of report.viewers) this.addViewer(gateway, v, now);
    }
    this.gateways.set(gateway, now);
    return 'ok';
  }

  async presence(room: string, now: number, liveness: Liveness): Promise<ViewerPresence[]> {
    const out: ViewerPresence[] = [];
    for (const [gateway, vs] of this.viewers.get(room) ?? []) {
      if (!this.gatewayAlive(gateway, now, liveness)) continue;
      for (const [id, v] of vs) out.push({ id: `${gateway}/${id}`, gateway, user: v.user, since: v.since });
    }
    return out.sort((a, b) => a.since - b.since || a.id.localeCompare(b.id));
  }

  async history(room: string, since: number): Promise<HistoryEntry[]> {
    return (this.historyByRoom.get(room) ?? []).filter((e) => e.at >= since);
  }

  async sweep(now: number, liveness: Liveness): Promise<SweepResult> {
    const result: SweepResult = { cameraGrace: false, graceBegan: false, camerasExpired: 0, roomsOffline: [], gatewaysExpired: [], viewersExpired: 0 };
    for (const [room, byAgent] of this.cameras) {
      for (const [agent, status] of byAgent) {
        if (status.reportedAt > now - liveness.agentTimeoutMs) continue;
        byAgent.delete(agent);
        result.camerasExpired++;
      }
      if (byAgent.size === 0) {
        this.cameras.delete(room);
        if (this.live.delete(room)) result.roomsOffline.push(room);
      }
    }
    for (const [gw, seen] of this.gateways) {
      if (seen > now - liveness.gatewayTimeoutMs) continue;
      this.gateways.delete(gw);
      result.gatewaysExpired.push(gw);
      for (const [room, byGw] of this.viewers) {
        for (const id of [...(byGw.get(gw)?.keys() ?? [])]) result.viewersExpired += this.removeViewer(gw, room, id, now, 'gateway_timeout');
      }
    }
    for (const [room, entries] of this.historyByRoom) {
      const kept = entries.filter((e) => e.at > now - HISTORY_MAX_AGE_MS);
      if (kept.length === 0) this.historyByRoom.delete(room);
      else this.historyByRoom.set(room, kept);
    }
    return result;
  }

  async noteListening(): Promise<boolean> {
    return false;
  }

  async publicRooms(): Promise<Set<string>> {
    return new Set([...this.rooms.values()].filter((r) => r.visibility === 'public').map((r) => r.name));
  }

  onRoomsChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async putAgentKey(key: AgentKeyRecord): Promise<void> {
    this.agentKeys.set(key.id, { ...key });
  }

  async agentKeyByHash(sha256: string): Promise<AgentKeyRecord | null> {
    return [...this.agentKeys.values()].find((k) => k.sha256 === sha256) ?? null;
  }

  async listAgentKeys(): Promise<AgentKeyRecord[]> {
    return [...this.agentKeys.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  async deleteAgentKey(id: string): Promise<boolean> {
    return this.agentKeys.delete(id);
  }

  async putWebhook(hook: WebhookRecord): Promise<void> {
    this.webhooks.set(hook.id, { ...hook });
  }

  async getWebhook(id: string): Promise<WebhookRecord | null> {
    return this.webhooks.get(id) ?? null;
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    return [...this.webhooks.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  async deleteWebhook(id: string): Promise<boolean> {
    this.deliveryLog.delete(id);
    return this.webhooks.delete(id);
  }

  async appendDelivery(webhookId: string, delivery: DeliveryRecord): Promise<void> {
    const log = this.deliveryLog.get(webhookId) ?? [];
    log.unshift(delivery);
    this.deliveryLog.set(webhookId, log.slice(0, DELIVERY_LOG_LENGTH));
  }

  async deliveries(webhookId: string, limit: number): Promise<DeliveryRecord[]> {
    return (this.deliveryLog.get(webhookId) ?? []).slice(0, limit);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private gatewayAlive(gw: string, now: number, liveness: Liveness): boolean {
    return (this.gateways.get(gw) ?? 0) > now - liveness.gatewayTimeoutMs;
  }

  private addViewer(gateway: string, v: PresenceJoin, now: number): void {
    let byGw = this.viewers.get(v.room);
    if (!byGw) this.viewers.set(v.room, (byGw = new Map()));
    let vs = byGw.get(gateway);
    if (!vs) byGw.set(gateway, (vs = new Map()));
    if (vs.has(v.id)) return;
    vs.set(v.id, { user: v.user, since: v.since });
    this.record(v.room, { at: now, event: 'joined', viewer: `${gateway}/${v.id}`, gateway, user: v.user, reason: null });
  }

  private removeViewer(gateway: string, room: string, id: string, now: number, reason: string | null): number {
    const vs = this.viewers.get(room)?.get(gateway);
    const v = vs?.get(id);
    if (!vs || !v) return 0;
    vs.delete(id);
    if (vs.size === 0) this.viewers.get(room)!.delete(gateway);
    this.record(room, { at: now, event: 'left', viewer: `${gateway}/${id}`, gateway, user: v.user, reason });
    return 1;
  }

  private record(room: string, entry: HistoryEntry): void {
    const list = this.historyByRoom.get(room) ?? [];
    list.push(entry);
    this.historyByRoom.set(room, list);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
