/**
 * WebSocket close codes of the tunnel. The terminator sends them; the connector decides by them whether to
 * reconnect (4004 is fatal: the token is gone, reconnecting would only be refused).
 */
export const CloseCode = {
  /** Orderly close: connector stopping, moving to another terminator, or answering a GoAway. */
  Normal: 1000,
  /** Terminator shutting down (after a GoAway frame). */
  GoingAway: 1001,
  /** A frame over the receiver's limit (sent by `ws` itself when `maxPayload` is exceeded). */
  MessageTooBig: 1009,
  /** Undecodable frame, bad metadata, text frame, or a first frame other than Hello. */
  ProtocolError: 4003,
  /** The tunnel token was revoked. */
  TokenRevoked: 4004,
  /** No frame from the peer for `TUNNEL_SILENT_PINGS` ping intervals. */
  PingTimeout: 4008,
  /** The connector stopped reading and its send buffer passed the limit. */
  SlowConsumer: 4009,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
