/** Version of the hub <-> tentacle websocket protocol, checked at hello. */
export const PROTOCOL_VERSION = 1;
