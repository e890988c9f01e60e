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
  /** The socket corked for this turn (undefined: none). */
  private corked: Socket | undefined;

  cork(socket: Socket | undefined): void {
    if (this.corked || !socket || socket.destroyed) return;
    this.corked = socket;
    socket.cork();
    setImmediate(this.uncork);
  }

  /** One function per cork, not a closure per turn. */
  private readonly uncork = (): void => {
    const socket = this.corked;
    this.corked = undefined;
    socket?.uncork();
  };
}
