import { FrameKind, encodeFrame } from '@tokios/shared/protocol';

/** Connectors whose Ack is kept encoded; past that the cache starts over (connector ids churn with tunnels). */
const MAX_CONNECTORS = 1024;

/**
 * The encoded Ack per connector: every request gets one, and its bytes depend only on this terminator and the
 * connector that serves it, so each is encoded once instead of per request. The buffers are shared: nothing writes
 * into an Ack after encoding (only Data frames get their id rewritten).
 */
export class AckFrames {
  private readonly byConnector = new Map<string, Buffer>();

  constructor(private readonly terminatorId: string) {}

  get(connectorId: string): Buffer {
    let frame = this.byConnector.get(connectorId);
    if (frame === undefined) {
      if (this.byConnector.size >= MAX_CONNECTORS) this.byConnector.clear();
      frame = encodeFrame(FrameKind.Ack, 0, { terminatorId: this.terminatorId, connectorId });
      this.byConnector.set(connectorId, frame);
    }
    return frame;
  }
}
