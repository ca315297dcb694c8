export {
  ViewerTokenSigner,
  ViewerTokenVerifier,
  grantsRoom,
  TOKEN_ISSUER,
  TOKEN_AUDIENCE,
  PUBLISH_TOKEN_AUDIENCE,
  TOKEN_SCOPES,
  TOKEN_ALGORITHM,
  MIN_SECRET_BYTES,
  CLOCK_TOLERANCE_S,
  type ViewerClaims,
  type TokenCheck,
  type TokenFailure,
  type IssueOptions,
  type TokenScope,
} from './tokens.ts';
export { tokenSecretEnvFields } from './token-secret.ts';
