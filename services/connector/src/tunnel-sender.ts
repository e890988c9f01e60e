import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * Writes tunnel frames as WebSocket messages. Frames sent during one event-loop turn (Head, Data and End of a short
 * answer; Data of many streams) leave in one socket write instead of one write each: the socket is corked at the
 * first frame and uncorked in the same turn's check phase (setImmediate), so a lone frame is not held back.
 */
export class TunnelSender {
  private corked = false;

  /** Sends `frame` as one binary message on `ws`, which must be open. */
  send(ws: WebSocket, frame: Buffer): void {
    this.corkForThisTurn(ws);
    ws.send(frame, { binary: true, compress: false });
  }

  private corkForThisTurn(ws: WebSocket): void {
    if (this.corked) return;
    const socket = (ws as unknown as { _socket?: Socket })._socket;
    if (!socket || socket.destroyed) return;
    this.corked = true;
    socket.cork();
    setImmediate(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}
