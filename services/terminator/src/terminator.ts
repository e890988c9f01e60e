import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from '@tokios/shared/log';
import type { Store } from '@tokios/shared/store';
import { CloseCode, FrameKind, HELLO_TIMEOUT_MS, ProtocolError, TUNNEL_SILENT_PINGS, dataFrameId, decodeFrame, peekKind, type HelloMeta } from '@tokios/shared/protocol';
import type { StatusQuery, TerminatorStatus } from '@tokios/shared/control';
import type { TerminatorOptions } from './config.js';
import { TunnelRegistry } from './registry.js';
import { Tunnel } from './tunnel.js';
import { Presence } from './presence.js';
import { RequestIntake } from './intake.js';
import { RevokedTokens } from './revoked-tokens.js';
import { bearerToken, isTunnelPath, rejectUpgrade } from './upgrade.js';
import { subscribeControlPlane, type ControlTarget } from './control-plane.js';

export { TUNNEL_PATHS } from './upgrade.js';
/** Live tunnels' tokens are re-checked against the store this often, in case a revocation event was lost. */
const TOKEN_SWEEP_MS = 15_000;

/**
 * Holds connectors' WebSockets and serves the requests NATS routes to the deployments they carry.
 * Subscribes `tokios.req.<deployment>` (queue group) only while it has a routable tunnel for it.
 */
export class Terminator implements ControlTarget {
  readonly id = `trm_${randomBytes(6).toString('hex')}`;
  private readonly wss: WebSocketServer;
  private readonly registry: TunnelRegistry;
  private readonly intake: RequestIntake;
  private planeSubs: Subscription[] = [];
  private readonly revoked = new RevokedTokens();
  private presence: Presence | undefined;
  private timers: NodeJS.Timeout[] = [];
  private server: Server | undefined;
  private closing = false;

  constructor(
    private readonly opts: TerminatorOptions,
    private readonly nc: NatsConnection,
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes, perMessageDeflate: false });
    this.registry = new TunnelRegistry((dep, routable) => this.intake.setRoutable(dep, routable));
    this.intake = new RequestIntake(this.id, nc, this.registry, log);
  }

  start(): void {
    this.intake.start();
    this.presence = new Presence(this.nc, this.id, this.opts.publicUrl, this.log, () => this.onPeerJoined());
    this.presence.start();
    this.planeSubs = subscribeControlPlane(this.nc, this, this.log);
    const sweep = setInterval(() => void this.sweepTokens(), TOKEN_SWEEP_MS);
    sweep.unref();
    this.timers.push(sweep);
    const hb = setInterval(() => this.intake.heartbeats(this.opts.heartbeatMs), this.opts.heartbeatMs);
    const ping = setInterval(() => this.pingTunnels(), this.opts.pingIntervalMs);
    hb.unref();
    ping.unref();
    this.timers.push(hb, ping);
    void this.watchNats();
    this.log.info({ terminatorId: this.id, publicUrl: this.opts.publicUrl }, 'terminator started');
  }

  /** Standalone HTTP server that only accepts tunnel upgrades (and answers /healthz). */
  listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ok: true, id: this.id, tunnels: this.registry.tunnels().length, streams: this.intake.size }));
        return;
      }
      res.writeHead(426, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'tunnel endpoint: upgrade to WebSocket' }));
    });
    server.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  isTunnelPath(url: string | undefined): boolean {
    return isTunnelPath(url);
  }

  /** Authenticates the tunnel token before completing the WebSocket handshake. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    if (!isTunnelPath(req.url) || this.closing) {
      rejectUpgrade(socket, this.closing ? 503 : 404, this.closing ? 'terminator shutting down' : 'not a tunnel path');
      return;
    }
    const secret = bearerToken(req);
    if (!secret) {
      rejectUpgrade(socket, 401, 'missing tunnel token');
      return;
    }
    this.store.findTunnelTokenBySecret(secret).then(
      async (token) => {
        if (!token || token.revokedAt || this.revoked.has(token.id)) {
          rejectUpgrade(socket, 401, 'invalid or revoked tunnel token');
          return;
        }
        const dep = await this.store.getDeployment(token.deploymentId);
        if (!dep) {
          rejectUpgrade(socket, 401, 'the deployment of this token no longer exists');
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, dep.id, dep.name, token.id));
      },
      (err: unknown) => {
        this.log.error({ err: (err as Error).message }, 'store lookup failed during tunnel upgrade');
        rejectUpgrade(socket, 503, 'control store unavailable');
      },
    );
  }

  private accept(ws: WebSocket, deploymentId: string, deploymentName: string, tokenId: string): void {
    let tunnel: Tunnel | undefined;
    const helloTimer = setTimeout(() => ws.terminate(), HELLO_TIMEOUT_MS);
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'tunnel socket error'));
    ws.on('close', () => {
      clearTimeout(helloTimer);
      if (tunnel) this.onTunnelClosed(tunnel);
    });
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer;
      if (!isBinary) {
        ws.close(CloseCode.ProtocolError, 'binary frames only');
        return;
      }
      try {
        if (!tunnel) {
          const frame = decodeFrame(buf);
          if (frame.kind !== FrameKind.Hello) throw new ProtocolError('first frame must be Hello');
          const hello = frame.meta;
          clearTimeout(helloTimer);
          if (this.revoked.has(tokenId)) {
            ws.close(CloseCode.TokenRevoked, 'tunnel token revoked');
            return;
          }
          tunnel = this.register(ws, deploymentId, deploymentName, tokenId, hello);
          return;
        }
        tunnel.lastSeen = Date.now();
        this.onTunnelFrame(tunnel, buf);
      } catch (err) {
        this.log.warn({ tunnel: tunnel?.id, err: (err as Error).message }, 'bad frame from connector; closing tunnel');
        ws.close(CloseCode.ProtocolError, truncate((err as Error).message, 120));
      }
    });
  }

  private register(ws: WebSocket, deploymentId: string, deploymentName: string, tokenId: string, hello: HelloMeta): Tunnel {
    const id = `tun_${randomBytes(6).toString('hex')}`;
    const t = new Tunnel(id, ws, deploymentId, tokenId, hello, this.opts.maxTunnelBufferBytes, this.log);
    t.welcome = {
      terminatorId: this.id,
      deploymentId,
      deploymentName,
      pingIntervalMs: this.opts.pingIntervalMs,
      peers: this.presence?.livePeers() ?? [],
      maxFrameBytes: this.opts.maxFrameBytes,
    };
    t.sendControl(FrameKind.Welcome, 0, t.welcome);
    this.registry.add(t);
    this.log.info(
      { tunnel: id, deploymentId, connectorId: hello.connectorId, version: hello.version, upstreamKind: hello.upstreamKind, maxConcurrency: hello.maxConcurrency },
      'tunnel established',
    );
    return t;
  }

  /**
   * A terminator joined: tell every connector here (a repeated Welcome carries the new peer list), so one whose
   * tunnels all landed on this terminator while it was alone can move one of them over.
   */
  private onPeerJoined(): void {
    const peers = this.presence?.livePeers() ?? [];
    for (const t of this.registry.tunnels()) {
      if (!t.welcome) continue;
      t.welcome = { ...t.welcome, peers };
      t.sendControl(FrameKind.Welcome, 0, t.welcome);
    }
  }

  private onTunnelFrame(t: Tunnel, buf: Buffer): void {
    const kind = peekKind(buf);
    if (kind === FrameKind.Data) {
      // hot path: no metadata to parse
      t.streams.get(dataFrameId(buf))?.onData(buf);
      return;
    }
    const frame = decodeFrame(buf);
    switch (frame.kind) {
      case FrameKind.Ping:
        t.sendControl(FrameKind.Pong, frame.id);
        return;
      case FrameKind.Pong:
        return;
      case FrameKind.Status: {
        const s = frame.meta;
        this.registry.update(t, () => {
          t.healthy = s.healthy;
          t.draining = s.draining;
        });
        this.log.info({ tunnel: t.id, connectorId: t.connectorId, ...s }, 'connector status');
        return;
      }
      case FrameKind.Head:
        t.streams.get(frame.id)?.onHead(buf);
        return;
      case FrameKind.End:
        t.streams.get(frame.id)?.onEnd(frame.meta.usage);
        return;
      case FrameKind.Error:
        t.streams.get(frame.id)?.onError(frame.meta.code, frame.meta.message, frame.meta.param);
        return;
      case FrameKind.Reject:
        t.streams.get(frame.id)?.onReject(frame.meta);
        return;
      default:
        throw new ProtocolError(`unexpected frame kind ${frame.kind} from connector`);
    }
  }

  private onTunnelClosed(t: Tunnel): void {
    // Remove before marking closed: the registry compares routability before and after the removal, and a tunnel
    // already marked closed would make the last one's removal look like no change (the subscription would stay).
    this.registry.remove(t);
    t.closed = true;
    for (const s of [...t.streams.values()]) s.fail('tunnel_lost', 'the connector disconnected mid-request');
    this.log.info({ tunnel: t.id, connectorId: t.connectorId, deploymentId: t.deploymentId }, 'tunnel closed');
  }

  private pingTunnels(): void {
    const now = Date.now();
    for (const t of this.registry.tunnels()) {
      if (now - t.lastSeen > this.opts.pingIntervalMs * TUNNEL_SILENT_PINGS) t.terminate(CloseCode.PingTimeout, 'ping timeout');
      else t.sendControl(FrameKind.Ping, 0);
    }
  }

  /** A NATS outage drops publishes silently, so streams in flight cannot be trusted: end them. */
  private async watchNats(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        this.intake.cancelAll('nats disconnected');
      }
    }
  }

  /** Live tunnels in the shape of `tokios.status.query` answers. */
  status(query: StatusQuery): TerminatorStatus {
    const only = query.deploymentIds ? new Set(query.deploymentIds) : undefined;
    return {
      terminatorId: this.id,
      url: this.opts.publicUrl ?? null,
      tunnels: this.registry
        .tunnels()
        .filter((t) => !t.closed && (!only || only.has(t.deploymentId)))
        .map((t) => ({
          tunnelId: t.id,
          deploymentId: t.deploymentId,
          connectorId: t.connectorId,
          version: t.hello.version,
          upstreamKind: t.hello.upstreamKind,
          models: t.hello.models,
          healthy: t.healthy,
          draining: t.draining,
          inFlight: t.streams.size,
          maxConcurrency: t.hello.maxConcurrency,
          connectedAt: t.connectedAt,
        })),
    };
  }

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
      for (const s of [...t.streams.values()]) s.fail('tunnel_lost', reason);
      t.close(CloseCode.TokenRevoked, reason);
      setTimeout(() => t.ws.terminate(), 2_000).unref();
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

  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.planeSubs) s.unsubscribe();
    for (const t of this.timers) clearInterval(t);
    this.presence?.stop();
    this.intake.close('terminator shutting down');
    for (const t of this.registry.tunnels()) {
      t.sendControl(FrameKind.GoAway, 0, { reason: 'terminator shutting down' });
      t.close(CloseCode.GoingAway, 'terminator shutting down');
    }
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.wss.close();
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
