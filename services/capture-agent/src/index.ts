export { startCaptureAgent, createSource, type CaptureAgent, type CaptureAgentOptions, type CaptureAgentStats } from './agent.ts';
export { loadAgentConfig, agentEnvSchema, AGENT_SOURCES, type AgentConfig, type AgentSource, type FrameSize, type LoadAgentConfigOptions } from './config.ts';
export { FramePublisher, type DropReason, type PublisherStats, type FramePublisherOptions } from './publisher.ts';
export { JpegStreamSplitter, type JpegSplitterOptions, type JpegSplitterStats } from './jpeg-splitter.ts';
export type { CapturedFrame, FrameSink, FrameSource } from './sources/frame-source.ts';
