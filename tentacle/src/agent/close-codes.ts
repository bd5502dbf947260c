import { CLOSE_CODES } from '@cuttle/shared';

const STANDARD: Record<number, string> = {
  1000: 'normal',
  1001: 'goingAway',
  1002: 'protocolError',
  1003: 'unsupportedData',
  1005: 'noStatus',
  1006: 'abnormal',
  1007: 'invalidPayload',
  1008: 'policyViolation',
  1009: 'messageTooBig',
  1011: 'internalError',
  1012: 'serviceRestart',
  1013: 'tryAgainLater',
};

const OURS = new Map<number, string>(Object.entries(CLOSE_CODES).map(([name, code]) => [code, name]));

/** The name of a websocket close code: ours from CLOSE_CODES (`revoked`, ...) or the standard one. */
export function closeCodeName(code: number): string {
  return OURS.get(code) ?? STANDARD[code] ?? `code-${code}`;
}

/** Close reasons are limited to 123 bytes of UTF-8 by the websocket protocol. */
export function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason, 'utf8') > 123) reason = reason.slice(0, -1);
  return reason;
}
