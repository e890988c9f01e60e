import { createHash, randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Logger } from '@tokios/shared/log';
import {
  CloseCode, FEATURE_BATCH, FrameKind, HELLO_TIMEOUT_MS, ProtocolError, dataFrameId, decodeFrame, frameKindName, peekKind, splitTunnelBatch, type Frame, type HelloMeta,
  type PeerTerminator,
} from '@tokios/shared/protocol';
import type { TunnelRegistry } from './registry.js';
import type { RevokedTokens } from './revoked-tokens.js';
import { Tunnel } from './tunnel.js';
import type { TerminatorObserver } from './metrics.js';

/** What the upgrade's authentication established for a socket. */
export interface TunnelGrant {
  deploymentId: string;
  deploymentName: string;
  tokenId: string;
}

/** What a session needs of the terminator around it. */
export interface SessionContext {
  terminatorId: string;
  /** Ping interval announced in Welcome. */
  pingIntervalMs: number;
  /** Largest frame accepted from the connector, announced in Welcome. */
  maxFrameBytes: number;
  maxTunnelBufferBytes: number;
  registry: TunnelRegistry<Tunnel>;
  revoked: RevokedTokens;
  /** Live peer terminators, for the Welcome. */
  peers(): PeerTerminator[];
  /** A ticket for this grant (what the connector presents to a peer), undefined without a fabric secret. */
  ticket?(grant: TunnelGrant): string | undefined;
  /** Operator allow-list of peer hosts, for the Welcome. */
  peerHosts?: string[];
  log: Logger;
  observer?: Pick<TerminatorObserver, 'tunnelOpened' | 'tunnelClosed'>;
}

/**
 * One connector WebSocket from upgrade to close: a Hello within HELLO_TIMEOUT_MS turns it into a registered Tunnel
 * (answered with Welcome); after that, the connector's frames go to their streams, Status to the registry, Pings
 * are answered. Any malformed frame closes the socket with 4003.
 */
export class TunnelSession {
  private tunnel: Tunnel | undefined;
  private readonly helloTimer: NodeJS.Timeout;
  /** Status changes a connector may make: a burst of STATUS_BURST, then one per STATUS_REFILL_MS. */
  private readonly statusChanges = new TokenBucket(STATUS_BURST, STATUS_REFILL_MS);
  /** Stream ids already answered with a Cancel because no stream here has them (bounded; one Cancel each). */
  private readonly cancelled = new Set<number>();

  constructor(
    private readonly ws: WebSocket,
    private readonly grant: TunnelGrant,
    private readonly ctx: SessionContext,
  ) {
    this.helloTimer = setTimeout(() => ws.terminate(), HELLO_TIMEOUT_MS);
    ws.on('error', (err) => ctx.log.debug({ err: err.message }, 'tunnel socket error'));
    ws.on('close', () => this.onClose());
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
  }

  private onMessage(buf: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      this.ws.close(CloseCode.ProtocolError, 'binary frames only');
      return;
    }
    const t = this.tunnel;
    if (!t) return this.guarded(undefined, buf);
    t.lastSeen = Date.now();
    if (peekKind(buf) !== FrameKind.Batch) return this.guarded(t, buf);
    // A Batch (a connector whose Welcome said FEATURE_BATCH): its envelope is checked whole first (a frame of
    // another stream, a nested batch, a length running past the end refuse it all), then each frame goes through
    // exactly what it would have met alone; a frame that closes the tunnel stops the rest.
    let frames: Buffer[];
    try {
      frames = splitTunnelBatch(buf);
    } catch (err) {
      return this.badFrame(t, err as Error);
    }
    for (const f of frames) {
      this.guarded(t, f);
      if (t.closed || this.ws.readyState !== this.ws.OPEN) return;
    }
  }

  /** One frame from the connector (alone or out of a Batch): Hello first, then the tunnel's frames; a bad one closes it. */
  private guarded(t: Tunnel | undefined, buf: Buffer): void {
    try {
      if (!t) return this.onHello(buf);
      // Hot path: a Data frame is routed by its header and relayed in place, never decoded.
      if (peekKind(buf) === FrameKind.Data) {
        const sid = dataFrameId(buf);
        const s = t.stream(sid);
        if (s) s.onData(buf);
        else this.unknownStream(t, sid);
      } else this.onFrame(t, decodeFrame(buf), buf);
    } catch (err) {
      const bad = err instanceof ProtocolError ? err.frame : undefined;
      // A Head whose metadata does not validate (a status outside 200-599, say) fails its own stream with a 502;
      // the rest of the tunnel is left alone.
      if (t && bad?.kind === FrameKind.Head) {
        this.ctx.log.warn({ tunnel: t.id, err: (err as Error).message }, 'invalid Head from connector; failing its stream');
        t.stream(bad.id)?.fail('protocol_error', 'The connector sent an invalid response head.');
        return;
      }
      this.badFrame(t, err as Error);
    }
  }

  private badFrame(t: Tunnel | undefined, err: Error): void {
    this.ctx.log.warn({ tunnel: t?.id, err: err.message }, 'bad frame from connector; closing tunnel');
    this.ws.close(CloseCode.ProtocolError, truncate(err.message, 120));
  }

  private onHello(buf: Buffer): void {
    const frame = decodeFrame(buf);
    if (frame.kind !== FrameKind.Hello) throw new ProtocolError('first frame must be Hello');
    clearTimeout(this.helloTimer);
    if (this.ctx.revoked.has(this.grant.tokenId)) {
      this.ws.close(CloseCode.TokenRevoked, 'tunnel token revoked');
      return;
    }
    this.tunnel = this.register(frame.meta);
  }

  private register(hello: HelloMeta): Tunnel {
    const { ctx, grant } = this;
    const t = new Tunnel(`tun_${randomBytes(6).toString('hex')}`, this.ws, grant.deploymentId, grant.tokenId, connectorIdentity(grant.tokenId, hello.connectorId), hello, ctx.maxTunnelBufferBytes, ctx.log);
    t.welcome = {
      terminatorId: ctx.terminatorId,
      deploymentId: grant.deploymentId,
      deploymentName: grant.deploymentName,
      pingIntervalMs: ctx.pingIntervalMs,
      peers: ctx.peers(),
      maxFrameBytes: ctx.maxFrameBytes,
      // What this terminator reads beyond the base protocol: a connector that knows it sends a quick answer as one message.
      features: [...TERMINATOR_FEATURES],
    };
    const ticket = ctx.ticket?.(grant);
    if (ticket) {
      t.welcome.ticket = ticket;
      t.ticketIssuedAt = Date.now();
    }
    if (ctx.peerHosts?.length) t.welcome.peerHosts = ctx.peerHosts;
    t.sendControl(FrameKind.Welcome, 0, t.welcome);
    ctx.registry.add(t);
    ctx.observer?.tunnelOpened();
    ctx.log.info(
      { tunnel: t.id, deploymentId: grant.deploymentId, connectorId: t.connectorId, version: hello.version, upstreamKind: hello.upstreamKind, maxConcurrency: hello.maxConcurrency },
      'tunnel established',
    );
    return t;
  }

  /** A decoded frame from the connector; `buf` is its encoding (a Head is relayed as is). */
  private onFrame(t: Tunnel, frame: Frame, buf: Buffer): void {
    switch (frame.kind) {
      case FrameKind.Ping:
        t.sendControl(FrameKind.Pong, frame.id);
        return;
      case FrameKind.Pong:
        return;
      case FrameKind.Status: {
        const { healthy, draining } = frame.meta;
        // A repeated status changes nothing and logs nothing; a connector flipping its status faster than any real
        // health change would (each flip may (un)subscribe a NATS subject) is cut off.
        if (healthy === t.healthy && draining === t.draining) return;
        if (!this.statusChanges.take()) {
          this.ctx.log.warn({ tunnel: t.id, connectorId: t.connectorId }, 'connector status flood; closing tunnel');
          this.ws.close(CloseCode.ProtocolError, 'status changes too often');
          return;
        }
        this.ctx.registry.update(t, () => {
          t.healthy = healthy;
          t.draining = draining;
        });
        this.ctx.log.info({ tunnel: t.id, connectorId: t.connectorId, healthy, draining }, 'connector status');
        return;
      }
      case FrameKind.Head: {
        const s = t.stream(frame.id);
        if (s) s.onHead(buf);
        else this.unknownStream(t, frame.id);
        return;
      }
      case FrameKind.End:
        t.stream(frame.id)?.onEnd(frame.meta, buf);
        return;
      case FrameKind.Error:
        t.stream(frame.id)?.onError(frame.meta.code, frame.meta.message, frame.meta.param);
        return;
      case FrameKind.Reject:
        t.stream(frame.id)?.onReject(frame.meta);
        return;
      default:
        throw new ProtocolError(`unexpected ${frameKindName(frame.kind)} frame from connector`);
    }
  }

  /**
   * The connector answers a stream this terminator no longer has (it was cancelled or failed here, say while its
   * Cancel crossed these frames on the wire): tell it to stop, once per stream id, so nothing generates for nobody.
   */
  private unknownStream(t: Tunnel, sid: number): void {
    if (this.cancelled.has(sid)) return;
    if (this.cancelled.size >= 1024) this.cancelled.clear();
    this.cancelled.add(sid);
    t.sendControl(FrameKind.Cancel, sid, { reason: 'no such stream' });
  }

  private onClose(): void {
    clearTimeout(this.helloTimer);
    const t = this.tunnel;
    if (!t) return;
    // Remove before marking closed: the registry compares routability before and after the removal, and a tunnel
    // already marked closed would make the last one's removal look like no change (the subscription would stay).
    this.ctx.registry.remove(t);
    t.closed = true;
    t.loseStreams('the connector disconnected mid-request');
    this.ctx.observer?.tunnelClosed();
    this.ctx.log.info({ tunnel: t.id, connectorId: t.connectorId, deploymentId: t.deploymentId }, 'tunnel closed');
  }
}

/** Welcome `features`: the optional messages every terminator of this version reads. */
const TERMINATOR_FEATURES: readonly string[] = [FEATURE_BATCH];

/** Status changes allowed at once, and the pace after that (a drain or a health flap needs a handful). */
const STATUS_BURST = 20;
const STATUS_REFILL_MS = 1_000;

/** A token bucket: `take()` is false when `burst` were taken faster than one per `refillMs`. */
class TokenBucket {
  private tokens: number;
  private at = Date.now();

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.at) / this.refillMs);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * The connector id the gateway uses (load, Acks, usage, live status): derived from the token the tunnel
 * authenticated with and the id the connector announced, so one connector's tunnels share it on every terminator,
 * while no connector can take another's — whatever it announces, it cannot reach an id of another token.
 */
export function connectorIdentity(tokenId: string, announced: string): string {
  return `con_${createHash('sha256').update(`${tokenId}\n${announced}`).digest('hex').slice(0, 24)}`;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
