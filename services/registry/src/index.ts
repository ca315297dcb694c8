export { createRegistry, type Registry } from './registry.ts';
export { buildRegistryServer, type RegistryServer } from './server.ts';
export { loadRegistryConfig, registryEnvSchema, embeddedRegistryEnvSchema, type RegistryConfig } from './config.ts';
export { RegistryMetrics } from './metrics.ts';
export { API_ERRORS, ApiError, type ApiErrorCode } from './errors.ts';
export { signWebhook, verifyWebhookSignature } from './webhooks/signature.ts';
export { redisAclFor, createAgentKey } from './routes/agents.ts';
