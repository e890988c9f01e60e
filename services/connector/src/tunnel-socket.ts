import { WebSocket } from 'ws';
import { CloseCode, DEFAULT_TUNNEL_FRAME_BYTES, FrameKind, ProtocolError, decodeFrame, fastRequestFrame, type Frame } from '@tokios/shared/protocol';

/** Largest frame this connector accepts from a terminator (announced in Hello; the terminator splits bodies to fit). */
export const CONNECTOR_MAX_FRAME_BYTES = DEFAULT_TUNNEL_FRAME_BYTES;

/** What one tunnel socket tells the client that dialled it, its messages decoded to frames. */
export interface TunnelSocketEvents {
  /** The handshake got HTTP `status` instead of an upgrade; the socket is terminated after this. */
  refused(status: number): void;
  open(): void;
  /** A message came (any: a frame, or text this version ignores): the terminator is alive. */
  heard(): void;
  frame(frame: Frame): void;
  /** A Request whose metadata did not decode: that request fails, the tunnel stays. */
  unreadableRequest(sid: number, message: string): void;
  /** Any other frame that did not decode: the socket is closed (protocol error) after this. */
  badFrame(message: string): void;
  error(err: Error): void;
  close(code: number, reason: string): void;
}

/**
 * Dials one tunnel WebSocket, presenting `credential` (the tunnel token, or a peer's ticket), and reads its messages
 * as frames. Throws for a URL the WebSocket client cannot dial at all.
 */
export function dialTunnel(url: string, credential: string, events: TunnelSocketEvents): WebSocket {
  const ws = new WebSocket(url, {
    headers: { authorization: `Bearer ${credential}` },
    perMessageDeflate: false,
    maxPayload: CONNECTOR_MAX_FRAME_BYTES,
    handshakeTimeout: 10_000,
  });
  ws.on('unexpected-response', (_req, res) => {
    const status = res.statusCode ?? 0;
    res.resume();
    events.refused(status);
    ws.terminate();
  });
  ws.on('open', () => events.open());
  ws.on('message', (data, isBinary) => {
    events.heard();
    if (!isBinary) return;
    let frame: Frame;
    try {
      // A Request as the terminator writes it is read from its bytes (no JSON.parse); anything else, or a Request in
      // another form, is decoded and validated as usual.
      frame = fastRequestFrame(data as Buffer) ?? decodeFrame(data as Buffer);
    } catch (err) {
      const bad = err instanceof ProtocolError ? err.frame : undefined;
      // A Request this version cannot read (say, a caller protocol added later) fails that request only.
      if (bad?.kind === FrameKind.Request) return events.unreadableRequest(bad.id, (err as Error).message);
      events.badFrame((err as Error).message);
      ws.close(CloseCode.ProtocolError, 'protocol error');
      return;
    }
    events.frame(frame);
  });
  ws.on('error', (err) => events.error(err));
  ws.on('close', (code, reason) => events.close(code, reason.toString()));
  return ws;
}
