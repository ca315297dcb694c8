export { handleShutdownSignals, type ShutdownOptions } from './shutdown.ts';
export { printVersionAndExit, runService, type ListeningInfo, type ServiceBaseConfig, type ServiceDefinition, type StartedService } from './run-service.ts';
export { healthBody, packageVersion, type HealthBody, type HealthIdentity, type ServiceName } from './health.ts';
