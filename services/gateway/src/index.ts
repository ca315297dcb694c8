export { buildGateway, GATEWAY_VERSION, type Gateway, type GatewayOptions } from './gateway.ts';
export { loadGatewayConfig, gatewayEnvSchema, embeddedGatewayEnvSchema, type GatewayConfig } from './config.ts';
export { GatewayMetrics } from './metrics.ts';
