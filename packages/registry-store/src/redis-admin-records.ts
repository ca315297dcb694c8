import { registryKeys as keys } from '@framecast/protocol';
import { scripts } from './lua-script.ts';
import { execPipeline, type RedisClient } from '@framecast/redis';
import { DELIVERY_LOG_LENGTH, type AgentKeyRecord, type DeliveryRecord, type WebhookRecord } from './types.ts';

/** Records only operators write: agent keys, webhooks and their delivery logs. */
export class RedisAdminRecords {
  protected readonly redis: RedisClient;

  constructor(redis: RedisClient) {
    this.redis = redis;
  }

  async putAgentKey(key: AgentKeyRecord): Promise<void> {
    await execPipeline(
      this.redis.multi().hset(keys.agentKeys(), key.id, JSON.stringify(key)).hset(keys.agentKeysByHash(), key.sha256, key.id),
    );
  }

  async agentKeyByHash(sha256: string): Promise<AgentKeyRecord | null> {
    const id = await this.redis.hget(keys.agentKeysByHash(), sha256);
    if (!id) return null;
    const json = await this.redis.hget(keys.agentKeys(), id);
    return json ? (JSON.parse(json) as AgentKeyRecord) : null;
  }

  async listAgentKeys(): Promise<AgentKeyRecord[]> {
    const all = await this.redis.hvals(keys.agentKeys());
    return all.map((j) => JSON.parse(j) as AgentKeyRecord).sort((a, b) => a.createdAt - b.createdAt);
  }

  async deleteAgentKey(id: string): Promise<boolean> {
    const json = await this.redis.hget(keys.agentKeys(), id);
    if (!json) return false;
    const { sha256 } = JSON.parse(json) as AgentKeyRecord;
    await execPipeline(this.redis.multi().hdel(keys.agentKeys(), id).hdel(keys.agentKeysByHash(), sha256));
    return true;
  }

  async putWebhook(hook: WebhookRecord): Promise<void> {
    await scripts.webhooks.run(this.redis, [keys.webhooks()], ['put', hook.id, JSON.stringify(hook)]);
  }

  async getWebhook(id: string): Promise<WebhookRecord | null> {
    const json = await this.redis.hget(keys.webhooks(), id);
    return json ? (JSON.parse(json) as WebhookRecord) : null;
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    const all = await this.redis.hvals(keys.webhooks());
    return all.map((j) => JSON.parse(j) as WebhookRecord).sort((a, b) => a.createdAt - b.createdAt);
  }

  async deleteWebhook(id: string): Promise<boolean> {
    const removed = await scripts.webhooks.run(this.redis, [keys.webhooks()], ['delete', id, '']);
    if (removed === 1) await this.redis.del(keys.webhookDeliveries(id));
    return removed === 1;
  }

  async appendDelivery(webhookId: string, delivery: DeliveryRecord): Promise<void> {
    const key = keys.webhookDeliveries(webhookId);
    await execPipeline(this.redis.multi().lpush(key, JSON.stringify(delivery)).ltrim(key, 0, DELIVERY_LOG_LENGTH - 1));
  }

  async deliveries(webhookId: string, limit: number): Promise<DeliveryRecord[]> {
    const all = await this.redis.lrange(keys.webhookDeliveries(webhookId), 0, Math.max(0, limit - 1));
    return all.map((j) => JSON.parse(j) as DeliveryRecord);
  }
}
