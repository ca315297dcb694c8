export { startCaptureAgent, type AgentHealth, type CaptureAgent, type CaptureAgentOptions, type CaptureAgentStats } from './agent.ts';
export { loadAgentConfig, agentEnvSchema, AGENT_SOURCES, type AgentConfig, type CameraConfig, type FrameSize, type LoadAgentConfigOptions } from './config.ts';
export { CameraPipeline, type CameraStats, type FrameDropReason } from './camera-pipeline.ts';
export { FramePublisher, type DropReason, type PublisherStats, type FramePublisherOptions } from './publisher.ts';
export { JpegStreamSplitter, type JpegSplitterOptions, type JpegSplitterStats } from './jpeg-splitter.ts';
export { parseSource, describeSource, type SourceSpec, type SourceKind } from './source-url.ts';
export { probeCameras, type ProbeReport } from './probe.ts';
export type { CapturedFrame, FrameSink, FrameSource } from './sources/frame-source.ts';
export { startRegistryHeartbeat, RegistryHeartbeat, CameraReporter, type HeartbeatConfig } from './registry/index.ts';
