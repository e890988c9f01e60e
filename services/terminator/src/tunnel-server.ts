import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '@tokios/shared/log';
import type { Store } from '@tokios/shared/store';
import { CloseCode, FrameKind, TUNNEL_SILENT_PINGS, type PeerTerminator } from '@tokios/shared/protocol';
import type { StatusQuery, TerminatorStatus } from '@tokios/shared/control';
import type { TerminatorOptions } from './config.js';
import type { TunnelRegistry } from './registry.js';
import type { Tunnel } from './tunnel.js';
import { RevokedTokens } from './revoked-tokens.js';
import { TunnelSession, type SessionContext, type TunnelGrant } from './tunnel-session.js';
import { bearerToken, isTunnelPath, rejectUpgrade } from './upgrade.js';
import type { TerminatorObserver } from './metrics.js';
import { TUNNEL_TICKET_TTL_MS, issueTunnelTicket, isTunnelTicket, verifyTunnelTicket, type FabricKey } from '@tokios/shared/fabric-auth';
import { UpgradeLimits } from './upgrade-limits.js';

/** Live tunnels' tokens are re-checked against the store this often, in case a revocation event was lost. */
const TOKEN_SWEEP_MS = 15_000;
/** A revoked tunnel that has not finished its close handshake by then is cut. */
const REVOKE_CLOSE_GRACE_MS = 2_000;

/**
 * The WebSocket side of a terminator: authenticates tunnel upgrades against the store (before the handshake
 * completes), runs a TunnelSession per socket, pings the tunnels, re-sends Welcome when the peer list changes, and
 * closes tunnels whose token is revoked. Streams on the tunnels belong to the NATS side (RequestIntake).
 */
export class TunnelServer {
  private readonly wss: WebSocketServer;
  private readonly revoked = new RevokedTokens();
  private readonly sessions: SessionContext;
  private readonly limits: UpgradeLimits;
  private timers: NodeJS.Timeout[] = [];
  private closing = false;

  constructor(
    terminatorId: string,
    private readonly opts: TerminatorOptions,
    private readonly store: Store,
    private readonly registry: TunnelRegistry<Tunnel>,
    private readonly peers: () => PeerTerminator[],
    private readonly log: Logger,
    private readonly observer?: TerminatorObserver,
    /** Issues and checks tunnel tickets (TOKIOS_FABRIC_SECRET). */
    private readonly key?: FabricKey,
  ) {
    this.limits = new UpgradeLimits(opts.maxTunnelsPerToken ?? 32, opts.tunnelUpgradesPerMin ?? 120, registry);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes, perMessageDeflate: false });
    this.sessions = {
      terminatorId,
      pingIntervalMs: opts.pingIntervalMs,
      maxFrameBytes: opts.maxFrameBytes,
      maxTunnelBufferBytes: opts.maxTunnelBufferBytes,
      registry,
      revoked: this.revoked,
      peers,
      ticket: (grant) => (this.key ? issueTunnelTicket(this.key, grant.deploymentId, grant.tokenId) : undefined),
      peerHosts: opts.peerHosts ?? [],
      log,
      ...(observer && { observer }),
    };
  }

  start(): void {
    const sweep = setInterval(() => void this.sweepTokens(), TOKEN_SWEEP_MS);
    const ping = setInterval(() => this.pingTunnels(), this.opts.pingIntervalMs);
    sweep.unref();
    ping.unref();
    this.timers.push(sweep, ping);
  }

  /** Authenticates the tunnel token before completing the WebSocket handshake. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    if (!isTunnelPath(req.url) || this.closing) {
      this.observer?.upgradeRefused(this.closing ? 'shutting_down' : 'not_found');
      rejectUpgrade(socket, this.closing ? 503 : 404, this.closing ? 'terminator shutting down' : 'not a tunnel path');
      return;
    }
    const secret = bearerToken(req);
    if (!secret) {
      this.observer?.upgradeRefused('unauthorized');
      rejectUpgrade(socket, 401, 'missing tunnel token');
      return;
    }
    this.authenticate(secret).then(
      (grant) => {
        if (typeof grant === 'string') {
          this.observer?.upgradeRefused('unauthorized');
          return rejectUpgrade(socket, 401, grant);
        }
        const limited = this.limits.refusal(grant);
        if (limited) {
          this.observer?.upgradeRefused('rate_limited');
          this.limits.logRefusal(this.log, grant, limited);
          return rejectUpgrade(socket, 429, limited);
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => new TunnelSession(ws, grant, this.sessions));
      },
      (err: unknown) => {
        this.observer?.upgradeRefused('store_unavailable');
        this.log.error({ err: (err as Error).message }, 'store lookup failed during tunnel upgrade');
        rejectUpgrade(socket, 503, 'control store unavailable');
      },
    );
  }

  /** The grant for a tunnel token (or a peer terminator's ticket for one), or why it is refused. */
  private async authenticate(secret: string): Promise<TunnelGrant | string> {
    if (isTunnelTicket(secret)) return this.authenticateTicket(secret);
    const token = await this.store.findTunnelTokenBySecret(secret);
    if (!token || token.revokedAt || this.revoked.has(token.id)) return 'invalid or revoked tunnel token';
    const dep = await this.store.getDeployment(token.deploymentId);
    if (!dep) return 'the deployment of this token no longer exists';
    return { deploymentId: dep.id, deploymentName: dep.name, tokenId: token.id };
  }

  /** A ticket is only as good as its token: the token must still be live in the store, as for the token itself. */
  private async authenticateTicket(ticket: string): Promise<TunnelGrant | string> {
    if (!this.key) return 'tickets are not accepted here';
    const claims = verifyTunnelTicket(this.key, ticket);
    if (typeof claims === 'string') return claims;
    if (this.revoked.has(claims.tokenId)) return 'invalid or revoked tunnel token';
    const [dep, tokens] = await Promise.all([this.store.getDeployment(claims.deploymentId), this.store.listTunnelTokens(claims.deploymentId)]);
    const token = tokens.find((t) => t.id === claims.tokenId);
    if (!token || token.revokedAt) return 'invalid or revoked tunnel token';
    if (!dep) return 'the deployment of this token no longer exists';
    return { deploymentId: dep.id, deploymentName: dep.name, tokenId: token.id };
  }

  /**
   * A terminator joined: tell every connector here (a repeated Welcome carries the new peer list), so one whose
   * tunnels all landed on this terminator while it was alone can move one of them over.
   */
  announcePeers(): void {
    const peers = this.peers();
    for (const t of this.registry.tunnels()) {
      if (!t.welcome) continue;
      t.welcome = { ...t.welcome, peers };
      t.sendControl(FrameKind.Welcome, 0, t.welcome);
    }
  }

  private pingTunnels(): void {
    const now = Date.now();
    for (const t of this.registry.tunnels()) {
      if (now - t.lastSeen > this.opts.pingIntervalMs * TUNNEL_SILENT_PINGS) t.terminate(CloseCode.PingTimeout, 'ping timeout');
      else {
        t.sendControl(FrameKind.Ping, 0);
        this.refreshTicket(t, now);
      }
    }
  }

  /** A connector always holds a ticket with at least half its lifetime left: a repeated Welcome carries a fresh one. */
  private refreshTicket(t: Tunnel, now: number): void {
    if (!t.welcome?.ticket || now - t.ticketIssuedAt < TUNNEL_TICKET_TTL_MS / 2 || !this.key) return;
    const ticket = issueTunnelTicket(this.key, t.deploymentId, t.tokenId, now);
    if (!ticket) return;
    t.ticketIssuedAt = now;
    t.welcome = { ...t.welcome, ticket };
    t.sendControl(FrameKind.Welcome, 0, t.welcome);
  }

  /** Live tunnels in the shape of `tokios.status.query` answers. */
  status(query: StatusQuery): TerminatorStatus['tunnels'] {
    // A filtered query costs the tunnels of those deployments, not all of this terminator's.
    const tunnels = query.deploymentIds ? [...new Set(query.deploymentIds)].flatMap((id) => this.registry.tunnels(id)) : this.registry.tunnels();
    return tunnels
      .filter((t) => !t.closed)
      .map((t) => ({
        tunnelId: t.id,
        deploymentId: t.deploymentId,
        connectorId: t.connectorId,
        version: t.hello.version,
        upstreamKind: t.hello.upstreamKind,
        models: t.hello.models,
        healthy: t.healthy,
        draining: t.draining,
        inFlight: t.inFlight,
        maxConcurrency: t.maxConcurrency,
        connectedAt: t.connectedAt,
      }));
  }

  /** Closes every tunnel opened with this token (close code 4004) and refuses the token from memory from now on. */
  revokeToken(tokenId: string, reason: string): number {
    this.revoked.add(tokenId);
    let closed = 0;
    for (const t of this.registry.tunnels()) {
      if (t.tokenId !== tokenId || t.closed) continue;
      closed++;
      // Stop routing at once; the close handshake may take a moment.
      this.registry.update(t, () => {
        t.closed = true;
      });
      t.loseStreams(reason);
      t.close(CloseCode.TokenRevoked, reason);
      setTimeout(() => t.ws.terminate(), REVOKE_CLOSE_GRACE_MS).unref();
    }
    return closed;
  }

  /** Closes tunnels whose token (or deployment) is gone from the store: a lost event delays revocation only. */
  private async sweepTokens(): Promise<void> {
    for (const deploymentId of this.registry.deployments()) {
      try {
        const [dep, tokens] = await Promise.all([this.store.getDeployment(deploymentId), this.store.listTunnelTokens(deploymentId)]);
        const live = new Set(dep ? tokens.filter((t) => !t.revokedAt).map((t) => t.id) : []);
        for (const t of this.registry.tunnels(deploymentId)) {
          if (!live.has(t.tokenId)) this.revokeToken(t.tokenId, 'tunnel token revoked');
        }
      } catch (err) {
        this.log.warn({ deploymentId, err: (err as Error).message }, 'token sweep failed');
      }
    }
  }

  /**
   * Drain: refuses new tunnels and tells every connector to move (GoAway). The tunnels stay open for the streams in
   * flight on them; a connector opens its replacement elsewhere first and closes this one once it is idle.
   */
  goAway(reason: string): void {
    this.closing = true;
    for (const t of this.registry.tunnels()) t.sendControl(FrameKind.GoAway, 0, { reason });
  }

  /** Refuses new tunnels and tells every connector to go (GoAway, then close 1001). */
  close(reason: string): void {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    for (const t of this.registry.tunnels()) {
      t.sendControl(FrameKind.GoAway, 0, { reason });
      t.close(CloseCode.GoingAway, reason);
    }
    this.wss.close();
  }
}
