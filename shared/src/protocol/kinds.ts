/**
 * Frame kinds shared by both hops of the fabric:
 *  - the tunnel WebSocket (connector <-> terminator), and
 *  - NATS messages (ingress <-> terminator).
 * One codec serves both so a terminator can relay a connector's DATA frame to NATS by rewriting its id in place.
 */
export const FrameKind = {
  // tunnel session
  Hello: 1, // C->T: who I am, what I serve
  Welcome: 2, // T->C: tunnel accepted; sent again with an updated peer list when another terminator joins
  Ping: 3, // either way; answered by a Pong with the same id, in order (a connector uses it as a barrier)
  Pong: 4,
  Status: 5, // C->T: health / draining changed
  GoAway: 6, // T->C: terminator shutting down, reconnect elsewhere

  // request direction (ingress -> terminator -> connector)
  Request: 10,
  Body: 11,
  Cancel: 12,
  Resume: 13, // I->T only, after a NATS reconnect or a gap: re-send this stream's answer from here (terminator replay buffer)
  Pause: 14, // I->T->C: the caller stopped reading; stop reading the model's answer for up to `ms` (a lease the ingress renews)
  Unpause: 15, // I->T->C: the caller drained; read the model's answer again

  // response direction (connector -> terminator -> ingress)
  Ack: 20, // T->I only: a terminator took the request
  Reject: 21, // nothing was started; caller may retry elsewhere
  Head: 22,
  Data: 23,
  End: 24,
  Error: 25,
  Heartbeat: 26, // T->I only: stream still alive during a long silence; id = answer frames (Head + Data) published so far
  Batch: 27, // T->I only: several frames of one stream in one NATS message (batch.ts), to an ingress that reads them
  PairHeartbeat: 28, // T->I only: one per (terminator, ingress) pair per period, its silent streams' (rid, published) (pair-heartbeat.ts)
} as const;

export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const names = new Map<number, string>(Object.entries(FrameKind).map(([k, v]) => [v, k]));

export function frameKindName(kind: number): string {
  return names.get(kind) ?? `unknown(${kind})`;
}

export function isFrameKind(kind: number): kind is FrameKind {
  return names.has(kind);
}
