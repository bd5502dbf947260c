import type WebSocket from 'ws';

/** The text of a websocket message (ws hands over one Buffer, fragments or an ArrayBuffer). */
export function rawDataToText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The bytes of a binary websocket message, without a copy when it arrived in one piece. */
export function rawDataToBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export function rawDataSize(data: WebSocket.RawData): number {
  return Array.isArray(data) ? data.reduce((sum, piece) => sum + piece.length, 0) : data.byteLength;
}

/**
 * The protocolVersion of a message that looks like a hello but does not fit our schema: a
 * hub of another protocol version may shape its hello differently, and then the mismatch,
 * not the shape, is the thing to report.
 */
export function hubProtocolVersionOf(text: string): number | undefined {
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json !== 'object' || json === null) return undefined;
    const record = json as Record<string, unknown>;
    return record.type === 'hello' && typeof record.protocolVersion === 'number' ? record.protocolVersion : undefined;
  } catch {
    return undefined;
  }
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
