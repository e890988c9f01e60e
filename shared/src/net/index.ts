import type { Socket } from 'node:net';

/** The TCP socket under a `ws` WebSocket (its `_socket`; ws exposes no public accessor), once it has one. */
export function socketOf(ws: object): Socket | undefined {
  return (ws as { _socket?: Socket })._socket;
}

/**
 * Corks a socket for the rest of the event-loop turn: what is written meanwhile (several frames of one answer, or of
 * many streams read in one turn) leaves in one socket write instead of one each. Uncorked in the same turn's check
 * phase (setImmediate), so a lone frame is not held back. One per socket.
 */
export class TurnCork {
  private corked = false;

  cork(socket: Socket | undefined): void {
    if (this.corked || !socket || socket.destroyed) return;
    this.corked = true;
    socket.cork();
    setImmediate(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}
