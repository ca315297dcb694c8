export { startEmbedded, loadEmbeddedConfig, type Embedded, type EmbeddedConfig } from './embedded.ts';
