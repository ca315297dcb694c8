export * from './envelope.ts';
export * from './rooms.ts';
export * from './names.ts';
export * from './close-codes.ts';
export {
  helloMessage,
  errorMessage,
  parseControlMessage,
  type HelloMessage,
  type ErrorMessage,
  type ErrorName,
  type ControlMessage,
} from './control.ts';
export * from './registry-keys.ts';
export * from './registry-api.ts';
