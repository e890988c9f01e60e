import { WebSocket } from 'ws';
import { LogThrottle, type Logger } from '@tokios/shared/log';
import {
  CloseCode, DEFAULT_TUNNEL_FRAME_BYTES, FEATURE_BATCH, FEATURE_PAUSE, FrameKind, MAX_DATA_PAYLOAD, encodeFrame, payloadRoom,
  type Frame, type HelloMeta, type WelcomeMeta,
} from '@tokios/shared/protocol';
import { Backoff } from './backoff.js';
import { DialTarget } from './dial-target.js';
import { TunnelKeepalive } from './tunnel-keepalive.js';
import { TunnelSender, type StreamOutbox } from './tunnel-sender.js';
import type { StreamFrameOut } from './out-frame.js';
import { CONNECTOR_MAX_FRAME_BYTES, dialTunnel } from './tunnel-socket.js';

/** Frames a TunnelClient hands on: the tunnel session's own (Welcome, Ping, Pong, GoAway) it handles itself. */
export type StreamFrame = Extract<Frame, { kind: typeof FrameKind.Request | typeof FrameKind.Body | typeof FrameKind.Cancel | typeof FrameKind.Pause | typeof FrameKind.Unpause }>;

export interface TunnelEvents {
  hello(): HelloMeta;
  welcome(tunnel: TunnelClient, meta: WelcomeMeta): void;
  /** A repeated Welcome on a live tunnel: the terminator's peer list changed. */
  peers(tunnel: TunnelClient, meta: WelcomeMeta): void;
  frame(tunnel: TunnelClient, frame: StreamFrame): void;
  /** A Request whose metadata did not validate: answer stream `sid` with an error. */
  unreadableRequest(tunnel: TunnelClient, sid: number, message: string): void;
  /** The socket is gone (streams on it are lost). */
  down(tunnel: TunnelClient): void;
  /** The gateway refused the token: reconnecting will not help. */
  fatal(tunnel: TunnelClient, reason: string): void;
  /** A peer (from a Welcome) could not be reached; the tunnel went back to the gateway. */
  dialFailed(tunnel: TunnelClient, peerId: string): void;
  /** The terminator is draining: open a replacement elsewhere; this socket stays for the streams on it. */
  goAway(tunnel: TunnelClient, reason: string): void;
  /** The gateway failed again and again: a terminator known from earlier Welcomes to dial instead, if any. */
  fallbackPeer(tunnel: TunnelClient): { id: string; url: string; ticket: string } | undefined;
}

/** Failed dials of the gateway after which a known peer is tried instead (alternating: a failed peer is skipped 30 s). */
const GATEWAY_FAILURES_BEFORE_FALLBACK = 1;

let serials = 0;

/** A gateway that stays unreachable costs one warning line per this interval. */
const DIAL_LOG_EVERY_MS = 10_000;
/** Close codes of an orderly close (ours or the terminator's): logged at info; anything else is a warning. */
const ORDERLY_CLOSES: readonly number[] = [CloseCode.Normal, CloseCode.GoingAway];

/** One WebSocket to a terminator, reconnecting with backoff until stopped. */
export class TunnelClient {
  /** Unique per client in this process (a replacement tunnel keeps the index of the one it replaces). */
  readonly serial = ++serials;
  private ws: WebSocket | undefined;
  private readonly backoff = new Backoff();
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Pings, the silence check and barriers. */
  private readonly keepalive = new TunnelKeepalive(
    (frame) => this.sendFrame(frame),
    () => {
      this.log.warn({ tunnel: this.index }, 'terminator stopped answering; reconnecting');
      this.ws?.terminate();
    },
  );
  /** Failed dials of the gateway URL since the last established tunnel. */
  private gatewayFailures = 0;
  private stopped = false;
  /** Frames of one event-loop turn leave in one socket write. */
  private readonly sender = new TunnelSender();
  /** Why the current socket failed (e.g. "connect ECONNREFUSED 10.0.0.5:443"), for its close line. */
  private lastError: string | undefined;
  /** The URL of the socket being (or last) dialled, for its failure line. */
  private dialingUrl = '';
  /** Failed dials while the gateway is unreachable: one warning per interval, with how many were held back. */
  private readonly dialLog = new LogThrottle(DIAL_LOG_EVERY_MS);
  /** Where to dial next: a peer after a switch, the gateway again after any failure. */
  private readonly target: DialTarget;
  /** Peer id of the socket being (or last) dialled; undefined for the gateway. */
  private dialingPeer: string | undefined;
  welcome: WelcomeMeta | undefined;

  constructor(
    readonly index: number,
    gatewayUrl: string,
    token: string,
    private readonly events: TunnelEvents,
    private readonly log: Logger,
  ) {
    this.target = new DialTarget(gatewayUrl, token);
  }

  get established(): boolean {
    return this.welcome !== undefined && this.ws?.readyState === WebSocket.OPEN;
  }

  get terminatorId(): string | undefined {
    return this.established ? this.welcome?.terminatorId : undefined;
  }

  /** Largest Data payload to send on this tunnel: our gathering size, or less when the terminator accepts less. */
  get maxDataPayload(): number {
    return Math.min(MAX_DATA_PAYLOAD, payloadRoom(this.welcome?.maxFrameBytes ?? DEFAULT_TUNNEL_FRAME_BYTES));
  }

  /** Bytes sent and not yet written to the socket: what ws holds, and the frames of this turn not handed to it yet. */
  get bufferedAmount(): number {
    return (this.ws?.bufferedAmount ?? 0) + this.sender.pendingBytes;
  }

  /** Dials `url` (a peer's) first instead of the gateway, presenting `credential` (a ticket) there. */
  connectTo(url: string, peerId: string, credential: string): void {
    this.target.peer(url, peerId, credential);
    this.connect();
  }

  connect(): void {
    if (this.stopped) return;
    // The tunnel token goes to the gateway only; a peer gets the ticket it was chosen with.
    const { url, peer, credential } = this.target.take();
    let ws: WebSocket;
    try {
      ws = dialTunnel(url, credential, {
        refused: (status) => {
          // A peer refusing a ticket (expired, say) says nothing about the token: back to the gateway.
          if ((status === 401 || status === 403) && !peer) this.events.fatal(this, `the gateway rejected the tunnel token (HTTP ${status})`);
          else this.lastError = `the gateway refused the tunnel: HTTP ${status}`; // logged with the close (rate-limited)
        },
        open: () => {
          this.keepalive.seen();
          // What this code speaks: the largest frame it takes, and Pause/Unpause (flow control per stream).
          ws.send(encodeFrame(FrameKind.Hello, 0, { ...this.events.hello(), maxFrameBytes: CONNECTOR_MAX_FRAME_BYTES, features: [FEATURE_PAUSE] }), { binary: true });
        },
        heard: () => this.keepalive.seen(),
        frame: (frame) => this.onFrame(frame),
        unreadableRequest: (sid, message) => this.events.unreadableRequest(this, sid, message),
        badFrame: (message) => this.log.warn({ tunnel: this.index, err: message }, 'bad frame from terminator'),
        error: (err) => {
          // Told once, with the close that follows (the cause of a 1006).
          this.lastError ??= err.message.slice(0, 300);
          this.log.debug({ tunnel: this.index, err: err.message }, 'tunnel socket error');
        },
        close: (code, reason) => this.onClose(ws, code, reason),
      });
    } catch (err) {
      // A peer URL comes from the network: an unusable one must cost a retry, never the process.
      this.log.warn({ tunnel: this.index, url: url.slice(0, 200), err: (err as Error).message }, 'cannot dial tunnel URL');
      if (peer) this.events.dialFailed(this, peer);
      this.reconnectTimer = setTimeout(() => this.connect(), this.backoff.next());
      return;
    }
    this.dialingPeer = peer;
    this.ws = ws;
    this.lastError = undefined;
    this.dialingUrl = url;
  }

  private onFrame(frame: Frame): void {
    switch (frame.kind) {
      case FrameKind.Welcome:
        return this.onWelcome(frame.meta);
      case FrameKind.Ping:
        this.sendFrame(encodeFrame(FrameKind.Pong, frame.id));
        return;
      case FrameKind.Pong:
        this.keepalive.pong(frame.id);
        return;
      case FrameKind.GoAway:
        this.events.goAway(this, frame.meta.reason);
        return;
      case FrameKind.Request:
      case FrameKind.Body:
      case FrameKind.Cancel:
      case FrameKind.Pause:
      case FrameKind.Unpause:
        this.events.frame(this, frame);
        return;
      default:
        this.log.debug({ tunnel: this.index, kind: frame.kind }, 'ignoring unexpected frame');
    }
  }

  private onWelcome(welcome: WelcomeMeta): void {
    const again = this.welcome !== undefined;
    this.welcome = welcome;
    // A terminator that reads tunnel Batch messages gets a stream's frames of one turn as one message; others plain frames.
    this.sender.configure(welcome.features?.includes(FEATURE_BATCH) ?? false, welcome.maxFrameBytes ?? DEFAULT_TUNNEL_FRAME_BYTES);
    if (again) {
      this.events.peers(this, this.welcome);
      return;
    }
    this.keepalive.start(this.welcome.pingIntervalMs);
    // A tunnel that got as far as Welcome proves the way works: the next failure starts over from the base delay.
    this.backoff.reset();
    this.gatewayFailures = 0;
    this.events.welcome(this, this.welcome);
  }

  /** Resolves once the terminator has handled every frame sent before this call (tunnel-keepalive.ts), or at once when down. */
  barrier(timeoutMs = 2_000): Promise<void> {
    return this.established ? this.keepalive.barrier(timeoutMs) : Promise.resolve();
  }

  /** No reconnecting any more: the socket serves the streams on it until `stop` (a replacement took its place). */
  retire(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
  }

  /** Reconnects to another terminator (used to spread tunnels over distinct terminators), with a ticket for it. */
  switchTo(url: string, peerId: string, credential: string): void {
    this.target.peer(url, peerId, credential);
    this.backoff.reset();
    this.sender.flush();
    this.ws?.close(CloseCode.Normal, 'moving to another terminator');
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    const wasUp = this.welcome !== undefined;
    this.welcome = undefined;
    // Frames of this turn for the closed socket are dropped (its streams are lost); the next one starts plain until its Welcome.
    this.sender.configure(false, 0);
    this.keepalive.closed();
    if (wasUp) this.events.down(this);
    else if (this.dialingPeer) this.events.dialFailed(this, this.dialingPeer);
    else this.gatewayFailures++;
    if (this.stopped) return;
    if (code === CloseCode.TokenRevoked) {
      // The gateway revoked the token: reconnecting would only be refused (HTTP 401).
      this.events.fatal(this, 'the tunnel token was revoked (close code 4004); create a new token and restart the connector');
      return;
    }
    const switching = this.target.switching;
    const delay = switching ? 0 : this.backoff.next();
    if (!switching && this.gatewayFailures >= GATEWAY_FAILURES_BEFORE_FALLBACK) {
      // The gateway URL may name a single dead terminator: try one we know from a Welcome (alternating with the
      // gateway, since a peer that fails is skipped for a while).
      const peer = this.events.fallbackPeer(this);
      if (peer) {
        this.target.peer(peer.url, peer.id, peer.ticket);
        this.gatewayFailures = 0;
        this.log.info({ tunnel: this.index, peer: peer.id, url: peer.url.slice(0, 200) }, 'gateway unreachable; trying a known terminator');
      }
    }
    const cause = this.lastError ?? (reason || undefined);
    if (wasUp) {
      const orderly = ORDERLY_CLOSES.includes(code);
      this.log[orderly ? 'info' : 'warn']({ tunnel: this.index, code, reason, cause, retryInMs: delay }, 'tunnel closed');
    } else {
      // Every failed dial at debug (its backoff is what an operator tuning reconnects wants); at warn, rate-limited.
      this.log.debug({ tunnel: this.index, code, retryInMs: delay }, 'tunnel dial failed');
      const held = this.dialLog.take();
      if (held !== undefined) this.log.warn({ tunnel: this.index, url: this.dialingUrl.slice(0, 200), code, cause, retryInMs: delay, failedSinceLast: held + 1 }, 'cannot open the tunnel; retrying');
    }
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /**
   * Another tunnel of this connector just got through: if this one is waiting out a grown backoff, it dials again
   * within the base delay instead.
   */
  kick(): void {
    if (this.stopped || !this.reconnectTimer || this.ws?.readyState === WebSocket.OPEN || this.ws?.readyState === WebSocket.CONNECTING) return;
    clearTimeout(this.reconnectTimer);
    this.backoff.reset();
    this.reconnectTimer = setTimeout(() => this.connect(), this.backoff.next());
  }

  sendFrame(frame: Buffer): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    this.sender.send(ws, frame);
    return true;
  }

  /** Sends a frame of the stream whose outbox is `out`: with its other frames of this turn, as one message when it can. */
  sendStreamFrame(out: StreamOutbox, frame: StreamFrameOut): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    this.sender.sendStream(ws, out, frame);
    return true;
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.keepalive.stop();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.sender.flush();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2_000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(CloseCode.Normal, 'connector stopping');
    });
  }
}
