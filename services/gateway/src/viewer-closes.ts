import { CloseCode } from '@framecast/protocol';

/**
 * Close codes the closed-viewers metric names one by one: the gateway's own (the close table), the
 * ones the `ws` library sends when it fails a connection, and the usual ones a client sends or a
 * cut connection yields. Any other code a client puts in its close frame is counted as `other`, so
 * clients cannot grow the label set.
 */
const LABELLED = new Set<number>([...Object.values(CloseCode), 1002, 1003, 1005, 1006, 1007, 1008, 1011]);

/** Every value the `code` label can take (the metric declares each at 0, so rates exist before the first close). */
export const CLOSE_CODE_LABELS: readonly string[] = [...[...LABELLED].sort((a, b) => a - b).map(String), 'other'];

/** The `code` label of `framecast_gateway_viewers_closed_total` for a close code. */
export function closeCodeLabel(code: number): string {
  return LABELLED.has(code) ? String(code) : 'other';
}

/**
 * The close code `ws` sent when it failed a viewer's connection itself (an oversized message, a
 * malformed frame), from the error it emits just before: its `code` names the broken rule. 0 for
 * anything else. The socket's own `close` event cannot say: it carries the code the client echoed,
 * or 1006 when the client just went away.
 */
export function libraryCloseCode(err: Error & { code?: unknown }): number {
  const code = typeof err.code === 'string' ? err.code : '';
  if (!code.startsWith('WS_ERR_')) return 0;
  switch (code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return 1009;
    case 'WS_ERR_INVALID_UTF8':
      return 1007;
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return 1008;
    default:
      return 1002; // opcodes, RSV bits, masking, FIN, control frame lengths, close codes
  }
}
