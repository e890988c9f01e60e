import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from '@tokios/shared/log';
import type { Store } from '@tokios/shared/store';
import type { StatusQuery, TerminatorStatus } from '@tokios/shared/control';
import type { TerminatorOptions } from './config.js';
import { TunnelRegistry } from './registry.js';
import type { Tunnel } from './tunnel.js';
import { Presence } from './presence.js';
import { RequestIntake } from './intake.js';
import { TunnelServer } from './tunnel-server.js';
import { isTunnelPath } from './upgrade.js';
import { subscribeControlPlane, type ControlTarget } from './control-plane.js';
import { FabricKey } from '@tokios/shared/fabric-auth';
import { Metrics, watchNatsMetrics } from '@tokios/shared/metrics';
import { LISTEN_BACKLOG, NatsState, Readiness, serveOps, type EarlyListener, type OpsEndpoints } from '@tokios/shared/ops';
import { TerminatorMetrics } from './metrics.js';

/** Operations endpoints of a terminator: its metrics registry and readiness (shared with the rest of `tokios dev`). */
export interface TerminatorOps {
  metrics?: Metrics;
  readiness?: Readiness;
  metricsToken?: string | undefined;
}

export { TUNNEL_PATHS } from './upgrade.js';

/** A terminator's answer to a plain HTTP request while it is bound but has not joined NATS yet. */
export function terminatorStartingAnswer(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(JSON.stringify({ error: 'terminator starting: it has not joined NATS yet' }));
}

/**
 * How long streams survive this terminator's NATS outage: about as long as an ingress holds a call across its own
 * reconnect (its Ack timeout, 1 s by default); beyond it the ingress has failed the call, so the model is stopped.
 */
export const NATS_OUTAGE_GRACE_MS = 1_000;

/**
 * Holds connectors' WebSockets and serves the requests NATS routes to the deployments they carry: the composition of
 * the NATS side (RequestIntake: subscribes `tokios.req.<deployment>` while a routable tunnel for it is here), the
 * WebSocket side (TunnelServer), presence among terminators and the control plane, joined by the TunnelRegistry.
 */
export class Terminator implements ControlTarget {
  readonly id = `trm_${randomBytes(6).toString('hex')}`;
  private readonly registry: TunnelRegistry<Tunnel>;
  private readonly intake: RequestIntake;
  private readonly tunnels: TunnelServer;
  private readonly presence: Presence;
  /** Signs presence, checks presence and control events (TOKIOS_FABRIC_SECRET). */
  private readonly key: FabricKey;
  private planeSubs: Subscription[] = [];
  private server: Server | undefined;
  private drainingSince: number | undefined;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  private readonly ops: OpsEndpoints;

  constructor(
    private readonly opts: TerminatorOptions,
    private readonly nc: NatsConnection,
    store: Store,
    private readonly log: Logger,
    ops: TerminatorOps = {},
  ) {
    this.metrics = ops.metrics ?? new Metrics();
    this.metrics.announce('terminator', this.id);
    watchNatsMetrics(this.metrics, nc, 'terminator');
    const nats = new NatsState(nc);
    this.readiness = (ops.readiness ?? new Readiness()).add('nats_terminator', () => nats.up);
    this.ops = {
      metrics: this.metrics,
      readiness: this.readiness,
      metricsToken: ops.metricsToken,
      health: () => ({ id: this.id, tunnels: this.registry.size, streams: this.intake.size, draining: this.draining }),
    };
    this.registry = new TunnelRegistry(
      (dep, routable) => this.intake.setRoutable(dep, routable),
      (dep, connectorId, routable) => this.intake.setConnectorRoutable(dep, connectorId, routable),
    );
    const observer = new TerminatorMetrics(this.metrics, { registry: this.registry, streams: () => this.intake.size, deployments: () => this.intake.deployments });
    this.intake = new RequestIntake(this.id, nc, this.registry, log, { heartbeatMs: opts.heartbeatMs, observer });
    this.key = new FabricKey(opts.fabricSecret);
    this.presence = new Presence(nc, this.key, this.id, opts.publicUrl, log, () => this.tunnels.announcePeers());
    this.tunnels = new TunnelServer(this.id, opts, store, this.registry, () => this.presence.livePeers(), log, observer, this.key);
  }

  start(): void {
    this.intake.start();
    this.presence.start();
    this.tunnels.start();
    this.planeSubs = subscribeControlPlane(this.nc, this.key, this, this.log);
    void this.watchNats();
    this.log.info({ terminatorId: this.id, publicUrl: this.opts.publicUrl }, 'terminator started');
  }

  /** A standalone terminator's HTTP answers: the operations paths (/healthz, /readyz, /metrics), else "upgrade". */
  private readonly httpHandler: RequestListener = (req, res) => {
    if (serveOps(this.ops, req, res)) return;
    res.writeHead(426, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'tunnel endpoint: upgrade to WebSocket' }));
  };

  /** Serves tunnel upgrades and the operations paths on a server bound before NATS was joined; returns its port. */
  serveOn(early: EarlyListener): number {
    early.serve(this.httpHandler, (req, socket, head) => this.handleUpgrade(req, socket, head));
    this.server = early.server;
    return early.port;
  }

  /** Standalone HTTP server that accepts tunnel upgrades and answers the operations paths. */
  listen(port: number, host: string): Promise<number> {
    const server = createServer(this.httpHandler);
    server.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
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
    this.tunnels.handleUpgrade(req, socket, head);
  }

  /**
   * A NATS outage drops what is published meanwhile. Streams go on (their answers are kept for replay) while the
   * connection comes back within NATS_OUTAGE_GRACE_MS, and then say where they are so an ingress that missed frames
   * asks for them; a longer outage cancels them, so no model generates for a caller that has been failed meanwhile.
   */
  private async watchNats(): Promise<void> {
    let outage: NodeJS.Timeout | undefined;
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect' && !outage) {
        outage = setTimeout(() => this.intake.cancelAll('nats disconnected'), NATS_OUTAGE_GRACE_MS);
      } else if (s.type === 'reconnect') {
        clearTimeout(outage);
        outage = undefined;
        this.intake.reconnected();
      }
    }
  }

  /** Live tunnels in the shape of `tokios.status.query` answers. */
  status(query: StatusQuery): TerminatorStatus {
    return { terminatorId: this.id, url: this.opts.publicUrl ?? null, tunnels: this.tunnels.status(query) };
  }

  revokeToken(tokenId: string, reason: string): number {
    return this.tunnels.revokeToken(tokenId, reason);
  }

  /** True from the start of a drain (SIGTERM) on: readiness fails. */
  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /**
   * Graceful stop, first half: fail readiness, leave presence (peers stop offering this terminator to connectors),
   * give up the request subjects (Requests already on the way are answered Reject draining and placed elsewhere),
   * tell every connector to move (GoAway: it opens its replacement tunnel first), then wait up to `drainMs` for the
   * streams in flight to finish. `close` does the rest.
   */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.drainingSince = Date.now();
    this.readiness.startDraining();
    const drainMs = this.opts.drainMs ?? 30_000;
    this.log.info({ streams: this.intake.size, tunnels: this.registry.size, drainMs }, 'terminator draining');
    this.presence.stop();
    await this.intake.stopTaking();
    this.tunnels.goAway('terminator draining');
    await this.intake.whenIdle(drainMs);
    this.log.info({ streams: this.intake.size, ms: Date.now() - this.drainingSince }, this.intake.size === 0 ? 'terminator drained' : 'drain timeout; cutting the streams left');
  }

  async close(): Promise<void> {
    await this.drain();
    for (const s of this.planeSubs) s.unsubscribe();
    this.presence.stop();
    this.intake.close('terminator shutting down');
    this.tunnels.close('terminator shutting down');
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
  }
}
