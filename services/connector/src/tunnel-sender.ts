import type { WebSocket } from 'ws';
import { TurnCork, socketOf } from '@tokios/shared/net';

/**
 * Writes tunnel frames as WebSocket messages. Frames sent during one event-loop turn (Head, Data and End of a short
 * answer; Data of many streams) leave in one socket write instead of one write each (TurnCork).
 */
export class TunnelSender {
  private readonly turn = new TurnCork();

  /** Sends `frame` as one binary message on `ws`, which must be open. */
  send(ws: WebSocket, frame: Buffer): void {
    this.turn.cork(socketOf(ws));
    ws.send(frame, { binary: true, compress: false });
  }
}
