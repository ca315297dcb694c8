// Types of viewer-protocol.js, for the TypeScript side (its test); the browser reads the .js alone.
import type { CloseSpec, EnvelopeErrorCode, FrameHeader, FrameInit } from '../src/index.ts';

export declare const ENVELOPE_MAGIC: number;
export declare const ENVELOPE_VERSION: number;
export declare const ENVELOPE_HEADER_V1_BYTES: number;
export declare const ENVELOPE_MAX_BYTES: number;
export declare const CODEC_JPEG: number;
export declare const VIEWER_SUBPROTOCOL: string;
export declare const TOKEN_SUBPROTOCOL_PREFIX: string;
export declare const CloseCode: Readonly<Record<string, number>>;
export declare const CLOSES: Readonly<Record<string, Readonly<CloseSpec>>>;
export declare function shouldReconnect(code: number): boolean;
export declare class EnvelopeError extends Error {
  readonly code: EnvelopeErrorCode;
  constructor(code: EnvelopeErrorCode, message: string);
}
export declare function readHeader(buf: ArrayBuffer | ArrayBufferView, maxBytes?: number): FrameHeader | EnvelopeError;
export declare function decodeEnvelope(buf: ArrayBuffer | ArrayBufferView, maxBytes?: number): { header: FrameHeader; payload: Uint8Array };
export declare function encodeEnvelope(init: FrameInit, payload: ArrayBuffer | ArrayBufferView): Uint8Array;
