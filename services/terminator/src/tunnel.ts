import type { WebSocket } from 'ws';
import type { Logger } from '@tokios/shared/log';
import { TurnCork, socketOf } from '@tokios/shared/net';
import {
  CloseCode, DEFAULT_TUNNEL_FRAME_BYTES, FEATURE_PAUSE, FrameKind, encodeFrame, type EndMeta, type HelloMeta, type MetaOf, type RejectMeta, type WelcomeMeta,
} from '@tokios/shared/protocol';
import type { Placeable } from './registry.js';

/** How every frame goes on the socket (one object for all sends). */
const SEND_OPTIONS = { binary: true, compress: false } as const;

/** What a tunnel delivers a stream's frames from the connector to (a RelayStream); the tunnel knows nothing more of it. */
export interface TunnelStream {
  /** The encoded Head frame, relayed as is. */
  onHead(frame: Buffer): void;
  /** The encoded Data frame (its header checked), relayed in place. */
  onData(frame: Buffer): void;
  /** The End's metadata (validated) and its encoded frame. */
  onEnd(end: EndMeta, frame: Buffer): void;
  onError(code: string, message: string, param?: string | null): void;
  onReject(meta: RejectMeta): void;
  /** Ends the stream with an error towards the caller (and a Cancel to the connector): it broke the protocol. */
  fail(code: 'protocol_error', message: string): void;
  /** The tunnel is gone (connector disconnected, token revoked) while the stream was on it. */
  tunnelLost(reason: string): void;
}

/** One connector WebSocket, after a valid Hello: its streams, routability flags and a bounded send path. */
export class Tunnel implements Placeable {
  private readonly streams = new Map<number, TunnelStream>();
  healthy: boolean;
  draining: boolean;
  /** The connector announced Pause/Unpause (older ones would close the tunnel on a frame kind they do not know). */
  readonly pausable: boolean;
  lastSeen = Date.now();
  readonly connectedAt = new Date().toISOString();
  closed = false;
  /** The Welcome this tunnel got; sent again with a fresh peer list when a terminator joins, or a fresh ticket. */
  welcome: WelcomeMeta | undefined;
  /** When the Welcome's ticket was issued (0: none). */
  ticketIssuedAt = 0;
  private nextSid = 1;
  private readonly turn = new TurnCork();

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    readonly deploymentId: string,
    readonly tokenId: string,
    /** Assigned by the terminator (connectorIdentity), never the id the connector announced. */
    readonly connectorId: string,
    readonly hello: HelloMeta,
    private readonly maxBuffered: number,
    readonly log: Logger,
  ) {
    this.healthy = hello.healthy;
    this.draining = hello.draining;
    this.pausable = hello.features?.includes(FEATURE_PAUSE) ?? false;
  }

  get maxConcurrency(): number {
    return this.hello.maxConcurrency;
  }

  /** Largest frame the connector accepts (announced in its Hello): request bodies are split to fit. */
  get maxFrameBytes(): number {
    return this.hello.maxFrameBytes ?? DEFAULT_TUNNEL_FRAME_BYTES;
  }

  get routable(): boolean {
    return !this.closed && this.healthy && !this.draining;
  }

  /** Streams on this tunnel now. */
  get inFlight(): number {
    return this.streams.size;
  }

  /** Gives `stream` a stream id on this tunnel; frames the connector sends with that id go to it. */
  open(stream: TunnelStream): number {
    const sid = this.nextSid;
    this.nextSid = this.nextSid >= 0xfffffff0 ? 1 : this.nextSid + 1;
    this.streams.set(sid, stream);
    return sid;
  }

  release(sid: number): void {
    this.streams.delete(sid);
  }

  stream(sid: number): TunnelStream | undefined {
    return this.streams.get(sid);
  }

  /** Tells every stream on this tunnel that it is gone. */
  loseStreams(reason: string): void {
    for (const s of [...this.streams.values()]) s.tunnelLost(reason);
  }

  /**
   * Sends a frame; a connector that stops reading is cut off once its buffer passes the limit, so a stuck peer
   * can never grow this process's memory without bound.
   */
  send(frame: Buffer): boolean {
    if (this.closed) return false;
    if (this.ws.bufferedAmount > this.maxBuffered) {
      this.log.warn({ tunnel: this.id, buffered: this.ws.bufferedAmount }, 'connector is not reading; closing tunnel');
      this.terminate(CloseCode.SlowConsumer, 'slow consumer');
      return false;
    }
    // Frames sent in one event-loop turn (requests relayed from one NATS read) share one socket write.
    this.turn.cork(socketOf(this.ws));
    this.ws.send(frame, SEND_OPTIONS);
    return true;
  }

  sendControl<K extends FrameKind>(kind: K, sid: number, meta?: MetaOf<K>): boolean {
    return this.send(encodeFrame(kind, sid, meta));
  }

  close(code: CloseCode, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }

  terminate(code: CloseCode, reason: string): void {
    this.log.info({ tunnel: this.id, code, reason }, 'terminating tunnel');
    try {
      this.ws.close(code, reason);
    } catch {
      /* ignore */
    }
    this.ws.terminate();
  }
}
