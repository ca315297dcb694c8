import type { CameraReport, WebhookEventType } from '@framecast/protocol';

export type Visibility = 'public' | 'private';

export interface RoomRecord {
  name: string;
  title: string;
  description: string;
  visibility: Visibility;
  /** ms since the Unix epoch */
  createdAt: number;
  updatedAt: number;
}

export interface RoomPatch {
  title?: string;
  description?: string;
  visibility?: Visibility;
}

/** A camera as the registry last heard of it. */
export interface CameraStatus extends Omit<CameraReport, 'room'> {
  agentId: string;
  /** When the registry received the heartbeat (registry clock, ms). */
  reportedAt: number;
}

export interface RoomStatus {
  /** At least one camera has a heartbeat younger than the agent timeout. */
  live: boolean;
  cameras: CameraStatus[];
  viewers: { total: number; byGateway: Record<string, number> };
}

export interface ViewerPresence {
  /** `<gateway>/<n>`: unique while the viewer is connected. */
  id: string;
  gateway: string;
  /** The `sub` claim of the viewer's token, or null for anonymous viewers. */
  user: string | null;
  since: number;
}

export interface HistoryEntry {
  at: number;
  event: 'joined' | 'left';
  viewer: string;
  gateway: string;
  user: string | null;
  /** Why a viewer left without saying so: `gateway_timeout` (its gateway stopped reporting) or `resync`. */
  reason: string | null;
}

export interface PresenceJoin {
  /** The viewer's id within its gateway. */
  id: string;
  room: string;
  user: string | null;
  since: number;
}

export interface PresenceLeave {
  id: string;
  room: string;
}

/**
 * A gateway's report. `delta` carries the joins and leaves since the last report; `sync` carries
 * every viewer the gateway has now, and the store converges on it (leaves for what it no longer
 * has, joins for what is new, nothing for the rest).
 */
export type PresenceReport = { mode: 'delta'; joins: PresenceJoin[]; leaves: PresenceLeave[] } | { mode: 'sync'; viewers: PresenceJoin[] };

/** `resync`: the store does not know this gateway (it was swept, or Redis lost its data); send a sync. */
export type PresenceResult = 'ok' | 'resync';

export interface Liveness {
  /** A camera whose last heartbeat is older than this is gone. */
  agentTimeoutMs: number;
  /** A gateway whose last presence report is older than this is gone, and its viewers with it. */
  gatewayTimeoutMs: number;
}

export interface SweepResult {
  /**
   * True while the registry is in its restart grace (it was away: every replica down or cut off
   * from Redis, or this is the first start): no camera is expired until one agent timeout has
   * passed since its return, so cameras that streamed throughout are not taken offline for
   * heartbeats nobody could receive.
   */
  cameraGrace: boolean;
  /** This sweep found the registry had been away and began that grace (else a replica's noteListening did). */
  graceBegan: boolean;
  camerasExpired: number;
  roomsOffline: string[];
  gatewaysExpired: string[];
  viewersExpired: number;
}

/**
 * Totals for the registry's gauges, read when Prometheus scrapes. Computed with the same liveness
 * rules as roomStatus, but without reading every room: the cost follows live cameras and the rooms
 * that have viewers, not the number of room records.
 */
export interface RegistryCounts {
  /** Room records. */
  rooms: number;
  /** Rooms with at least one live camera. */
  roomsLive: number;
  /** Cameras whose last heartbeat is younger than the agent timeout. */
  cameras: number;
  /** Viewers on gateways that are alive. */
  viewers: number;
  /** Gateways whose last presence report is younger than the gateway timeout. */
  gateways: number;
}

export interface WebhookRecord {
  id: string;
  url: string;
  events: WebhookEventType[];
  /** null: every room. */
  room: string | null;
  /** HMAC-SHA256 key for the signature header. Never returned by listings. */
  secret: string;
  createdAt: number;
}

export interface DeliveryRecord {
  deliveryId: string;
  eventId: string;
  event: WebhookEventType;
  room: string;
  attempt: number;
  ok: boolean;
  /** HTTP status, or null when no response came (timeout, refused). */
  status: number | null;
  error: string | null;
  durationMs: number;
  at: number;
}

export interface AgentKeyRecord {
  id: string;
  name: string;
  /** Room names the key allows, or ["*"] for any room. */
  rooms: string[];
  /** SHA-256 (hex) of the key; the key itself is shown once, at creation. */
  sha256: string;
  createdAt: number;
}

/** What a gateway writes: batched presence reports. */
export interface PresenceWriter {
  reportPresence(gateway: string, report: PresenceReport, now: number): Promise<PresenceResult>;
}

/**
 * What a gateway reads: which rooms are open without a token, and a signal when that may have
 * changed. Deny by default: a room is public only while it is in this set, so whatever loses the
 * set (a deleted record, Redis losing its data) makes rooms private, never public.
 */
export interface PublicRoomSource {
  publicRooms(): Promise<Set<string>>;
  /** Calls `listener` when a room's visibility may have changed (or after a reconnect). Returns an unsubscribe. */
  onRoomsChanged(listener: () => void): () => void;
}

export interface RegistryStore extends PresenceWriter, PublicRoomSource {
  readonly kind: 'redis' | 'memory';
  /** false when a room of that name exists already. */
  createRoom(room: RoomRecord): Promise<boolean>;
  updateRoom(name: string, patch: RoomPatch, now: number): Promise<RoomRecord | null>;
  getRoom(name: string): Promise<RoomRecord | null>;
  deleteRoom(name: string): Promise<boolean>;
  listRooms(): Promise<RoomRecord[]>;
  roomStatus(rooms: string[], now: number, liveness: Liveness): Promise<Map<string, RoomStatus>>;
  /** Totals of rooms, live rooms, cameras, viewers and gateways (for metrics). */
  counts(now: number, liveness: Liveness): Promise<RegistryCounts>;
  /**
   * Records an agent's cameras. A room without a record gets one with `newRoomVisibility`
   * (private unless the operator chose otherwise). Returns rooms that went live.
   */
  heartbeat(agentId: string, cameras: CameraReport[], now: number, newRoomVisibility?: Visibility): Promise<string[]>;
  presence(room: string, now: number, liveness: Liveness): Promise<ViewerPresence[]>;
  history(room: string, since: number): Promise<HistoryEntry[]>;
  /** Expires cameras and gateways; every transition happens in exactly one sweep, whoever runs it. */
  sweep(now: number, liveness: Liveness): Promise<SweepResult>;
  /**
   * A registry replica says it is listening; every replica calls this every
   * `registryListeningTtlMs(agentTimeoutMs) / 4`. Returns true when no replica had said so for
   * longer than that TTL (the registry was away, or this is the first start): the restart grace
   * begins (see SweepResult.cameraGrace). The memory store lives and dies with its process and
   * never has such a gap: always false.
   */
  noteListening(now: number, liveness: Liveness): Promise<boolean>;

  putAgentKey(key: AgentKeyRecord): Promise<void>;
  agentKeyByHash(sha256: string): Promise<AgentKeyRecord | null>;
  listAgentKeys(): Promise<AgentKeyRecord[]>;
  deleteAgentKey(id: string): Promise<boolean>;

  putWebhook(hook: WebhookRecord): Promise<void>;
  getWebhook(id: string): Promise<WebhookRecord | null>;
  listWebhooks(): Promise<WebhookRecord[]>;
  deleteWebhook(id: string): Promise<boolean>;
  appendDelivery(webhookId: string, delivery: DeliveryRecord): Promise<void>;
  deliveries(webhookId: string, limit: number): Promise<DeliveryRecord[]>;

  close(): Promise<void>;
}

/**
 * How long the registry may go without any replica saying it is listening before it counts as
 * having been away: a third of the agent timeout, 1–5 s. Shorter absences go unnoticed, which is
 * harmless while they plus one heartbeat interval stay under the agent timeout; a replica stalled
 * this long (a long GC pause) starts a grace it did not need, which only delays the expiry of
 * cameras already silent by up to one agent timeout.
 */
export function registryListeningTtlMs(agentTimeoutMs: number): number {
  return Math.min(5_000, Math.max(1_000, Math.round(agentTimeoutMs / 3)));
}

/** How far back a room's join/leave history goes. */
export const HISTORY_MAX_AGE_MS = 3_600_000;
/** The events stream keeps about this many entries (a registry down for long loses the oldest). */
export const EVENTS_MAX_LENGTH = 10_000;
/** Delivery attempts kept per webhook. */
export const DELIVERY_LOG_LENGTH = 200;
