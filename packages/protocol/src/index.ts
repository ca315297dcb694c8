export * from './envelope.ts';
export * from './rooms.ts';
export * from './names.ts';
export * from './close-codes.ts';
export {
  helloMessage,
  errorMessage,
  parseControlMessage,
  VIEWER_SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
  type HelloMessage,
  type ErrorMessage,
  type ControlMessage,
} from './control.ts';
export * from './registry-keys.ts';
export * from './registry-api.ts';
export * from './viewer-options.ts';
export * from './variants.ts';
export * from './publish.ts';
export * from './jpeg.ts';
