import { randomBytes } from 'node:crypto';
import type { Logger } from '@tokios/shared/log';
import { TOKIOS_VERSION } from '@tokios/shared';
import { FrameKind, encodeFrame, type HelloMeta, type WelcomeMeta } from '@tokios/shared/protocol';
import type { ConnectorConfig } from './config.js';
import { PeerBook } from './peer-book.js';
import { TunnelClient } from './tunnel-client.js';
import { RequestTable } from './request-table.js';
import { chooseUpstreamModel } from '@tokios/shared/translate';
import { Metrics } from '@tokios/shared/metrics';
import { Readiness } from '@tokios/shared/ops';
import { ConnectorMetrics } from './metrics.js';
import { ModelServer } from './model-server.js';

export interface ConnectorHooks {
  /** Printed once, when the first tunnel is up. */
  onEstablished?(info: { terminatorId: string; deployment: string }): void;
  /** Unrecoverable (e.g. token rejected). */
  onFatal?(reason: string): void;
}

/**
 * Runs next to the model server: holds `tunnels` WebSockets to distinct terminators when it can,
 * serves requests from any of them, and drains on SIGTERM.
 */
export class Connector {
  readonly id = `con_${randomBytes(6).toString('hex')}`;
  private readonly tunnels: TunnelClient[] = [];
  /** Tunnels to a draining terminator (GoAway), replaced already: closed once their streams are done. */
  private readonly retiring = new Set<TunnelClient>();
  /** The requests in flight, by tunnel and stream. */
  private readonly requests: RequestTable;
  /** The model server, shared with the other deployments of this process (or this connector's own). */
  private readonly server: ModelServer;
  private readonly ownsServer: boolean;
  private unlistenHealth: (() => void) | undefined;
  private draining = false;
  private announced = false;
  private drainWaiters: (() => void)[] = [];
  /** Tunnels being moved to another terminator: drained first, switched once idle. */
  private readonly moving = new Map<TunnelClient, { id: string; url: string; quiet: boolean }>();
  /** Terminators known from Welcomes, the freshest ticket, and peers that failed lately. */
  private readonly peers: PeerBook;
  readonly metrics: Metrics;
  /** Ready: a tunnel is up, the model server is healthy, not draining (served with the metrics, when enabled). */
  readonly readiness: Readiness;
  private readonly observer: ConnectorMetrics;

  constructor(
    readonly config: ConnectorConfig,
    private readonly log: Logger,
    private readonly hooks: ConnectorHooks = {},
    metrics: Metrics = new Metrics(),
    server?: ModelServer,
    /** This deployment's `deployment` metrics label (its position in tokios.json; several share one registry). */
    deploymentLabel = '0',
  ) {
    this.peers = new PeerBook(config.gatewayUrl, log);
    this.ownsServer = server === undefined;
    this.server = server ?? new ModelServer({ upstreamBase: config.upstreamBase, upstreamKind: config.upstream_kind, healthIntervalMs: config.health_interval_ms }, log);
    this.metrics = metrics;
    metrics.announce('connector', this.id);
    this.observer = new ConnectorMetrics(metrics, {
      inFlight: () => this.requests.size,
      tunnelsUp: () => this.tunnelsUp,
      tunnels: config.tunnels,
      healthy: () => this.healthy,
      draining: () => this.draining,
    }, deploymentLabel);
    this.requests = new RequestTable({
      log,
      observer: this.observer,
      refusal: (tc, inFlight) =>
        this.draining || this.moving.has(tc) || this.retiring.has(tc) ? 'draining' : !this.healthy ? 'unhealthy' : inFlight >= config.max_concurrency ? 'busy' : undefined,
      context: {
        upstreamBase: config.upstreamBase,
        log,
        upstream: (name) => ({ kind: this.server.kind, model: chooseUpstreamModel(config.model, name, this.server.models), infill: this.server.infill }),
        upstreamDown: () => this.server.setHealth(false),
        observer: this.observer,
      },
      ended: (tc) => this.requestDone(tc),
    });
    this.readiness = new Readiness().add('tunnel', () => this.tunnelsUp > 0).add('upstream', () => this.healthy);
  }

  private get healthy(): boolean {
    return this.server.healthy;
  }

  private get tunnelsUp(): number {
    return this.tunnels.filter((t) => t.established).length;
  }

  get inFlight(): number {
    return this.requests.size;
  }

  async start(): Promise<void> {
    await this.server.start();
    this.unlistenHealth = this.server.onHealth(() => this.broadcastStatus());
    for (let i = 0; i < this.config.tunnels; i++) {
      const t = this.newTunnel(i);
      this.tunnels.push(t);
      t.connect();
    }
  }

  private newTunnel(index: number): TunnelClient {
    return new TunnelClient(index, this.config.gatewayUrl, this.config.tunnel_token, {
      hello: () => this.hello(),
      welcome: (tc, w) => this.onWelcome(tc, w),
      peers: (_tc, w) => {
        this.peers.learn(w);
        this.spread();
      },
      frame: (tc, f) => this.requests.onFrame(tc, f),
      unreadableRequest: (tc, sid, message) => tc.sendFrame(encodeFrame(FrameKind.Error, sid, { code: 'protocol_error', message: message.slice(0, 200) })),
      down: (tc) => this.onTunnelDown(tc),
      fatal: (_tc, reason) => this.onFatal(reason),
      dialFailed: (_tc, peerId) => this.peers.failed(peerId),
      goAway: (tc, reason) => this.onGoAway(tc, reason),
      fallbackPeer: (tc) => this.peers.fallback(new Set(this.tunnels.filter((o) => o !== tc).map((o) => o.terminatorId))),
    }, this.log);
  }

  /**
   * The terminator of `tc` drains: a replacement tunnel is dialled at once (to a peer no other tunnel uses, when the
   * Welcome named one, else the gateway) while `tc` keeps serving the streams on it, and closes when they are done.
   */
  private onGoAway(tc: TunnelClient, reason: string): void {
    const i = this.tunnels.indexOf(tc);
    if (i < 0) return;
    const leaving = tc.welcome?.terminatorId;
    const used = new Set(this.tunnels.filter((o) => o !== tc).map((o) => o.terminatorId));
    const now = Date.now();
    const ticket = tc.welcome?.ticket;
    const usable = (tc.welcome ? this.peers.allowed(tc.welcome) : []).filter((p) => p.id !== leaving && !this.peers.isBad(p.id, now));
    const target = ticket ? (usable.find((p) => !used.has(p.id)) ?? usable[0]) : undefined;
    this.log.info({ tunnel: tc.index, terminatorId: leaving, reason, target: target?.url ?? 'gateway', inFlight: this.requests.on(tc) }, 'terminator going away; opening a replacement tunnel');
    this.moving.delete(tc);
    tc.retire();
    this.retiring.add(tc);
    const next = this.newTunnel(tc.index);
    this.tunnels[i] = next;
    if (target && ticket) next.connectTo(target.url, target.id, ticket);
    else next.connect();
    this.maybeRetire(tc);
  }

  private maybeRetire(tc: TunnelClient): void {
    if (!this.retiring.has(tc) || this.requests.on(tc) > 0) return;
    this.retiring.delete(tc);
    this.log.info({ tunnel: tc.index, terminatorId: tc.welcome?.terminatorId }, 'retired tunnel idle; closing it');
    void tc.stop();
  }

  private hello(): HelloMeta {
    return {
      connectorId: this.id,
      version: TOKIOS_VERSION,
      upstreamKind: this.server.kind,
      models: this.server.models.slice(0, 256),
      maxConcurrency: this.config.max_concurrency,
      healthy: this.healthy,
      draining: this.draining,
    };
  }

  private onWelcome(tc: TunnelClient, w: WelcomeMeta): void {
    this.log.info({ tunnel: tc.index, terminatorId: w.terminatorId, deployment: w.deploymentName, peers: w.peers.length }, 'tunnel up');
    this.observer.welcomed(w.deploymentId);
    if (!this.announced) {
      this.announced = true;
      this.hooks.onEstablished?.({ terminatorId: w.terminatorId, deployment: w.deploymentName });
    }
    this.peers.learn(w);
    // The way in works again: tunnels waiting out a grown backoff retry now.
    for (const o of this.tunnels) if (o !== tc) o.kick();
    // Spread tunnels: if another tunnel already reaches this terminator, move to a peer nobody uses.
    this.spread();
  }

  /**
   * Puts tunnels on distinct terminators when peers exist (checked on every Welcome, including the repeated ones a
   * terminator sends when a peer joins). Only a tunnel that shares a terminator with a lower-numbered one moves, and
   * only to a terminator no tunnel uses, so tunnels never chase each other.
   */
  private spread(): void {
    if (this.draining) return;
    for (const tc of this.tunnels) {
      const w = tc.welcome;
      // No ticket (the terminators share no fabric secret): moving would mean handing a peer the tunnel token.
      if (!tc.established || !w?.ticket || this.moving.has(tc)) continue;
      if (!this.tunnels.some((o) => o.index < tc.index && o.terminatorId === w.terminatorId)) continue;
      const used = new Set([...this.tunnels.map((o) => o.terminatorId), ...[...this.moving.values()].map((m) => m.id)]);
      const now = Date.now();
      const target = this.peers.allowed(w).find((p) => !used.has(p.id) && !this.peers.isBad(p.id, now));
      if (!target) continue;
      this.log.info({ tunnel: tc.index, target: target.url }, 'moving tunnel to another terminator');
      this.moveGracefully(tc, target);
      return;
    }
  }

  /**
   * A tunnel moves without losing a request: it reports itself draining (the terminator stops routing to it), waits
   * until the terminator has seen that (barrier) and its own requests are done, then reconnects to the target.
   */
  private moveGracefully(tc: TunnelClient, target: { id: string; url: string }): void {
    const m = { ...target, quiet: false };
    this.moving.set(tc, m);
    tc.sendFrame(this.statusFrame(tc));
    void tc.barrier().then(() => {
      m.quiet = true;
      this.maybeSwitch(tc);
    });
  }

  private maybeSwitch(tc: TunnelClient): void {
    const m = this.moving.get(tc);
    if (!m?.quiet) return;
    if (this.requests.on(tc) > 0) return;
    this.moving.delete(tc);
    const ticket = tc.welcome?.ticket;
    if (!ticket) {
      // The tunnel went down and came back without one meanwhile: stay, and serve again.
      tc.sendFrame(this.statusFrame(tc));
      return;
    }
    tc.switchTo(m.url, m.id, ticket);
  }

  private requestDone(tc: TunnelClient): void {
    this.maybeSwitch(tc);
    this.maybeRetire(tc);
    if (this.draining && this.requests.size === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  private onTunnelDown(tc: TunnelClient): void {
    this.observer.tunnelDisconnect();
    this.moving.delete(tc);
    this.retiring.delete(tc);
    this.requests.cancel('tunnel lost', tc);
  }

  private onFatal(reason: string): void {
    this.log.error({ reason }, 'tunnel token rejected');
    this.hooks.onFatal?.(reason);
  }

  private statusFrame(tc: TunnelClient): Buffer {
    return encodeFrame(FrameKind.Status, 0, { healthy: this.healthy, draining: this.draining || this.moving.has(tc) });
  }

  private broadcastStatus(): void {
    for (const t of this.tunnels) t.sendFrame(this.statusFrame(t));
  }

  /**
   * Stops taking requests, lets those in flight finish (up to drain_timeout_ms), then closes the tunnels.
   * Resolves with the number of requests that had to be abandoned.
   */
  async drain(): Promise<number> {
    if (!this.draining) {
      this.draining = true;
      this.readiness.startDraining();
      this.broadcastStatus();
      this.log.info({ inFlight: this.requests.size }, 'draining');
    }
    // A Request the terminator sent before it handled our Status may still be on the wire; once every tunnel has
    // passed a barrier, none is (and any that came was rejected as draining, so the terminator placed it elsewhere).
    await Promise.all(this.tunnels.map((t) => t.barrier()));
    if (this.requests.size > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.config.drain_timeout_ms);
        this.drainWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const abandoned = this.requests.size;
    await this.stop();
    return abandoned;
  }

  async stop(): Promise<void> {
    this.unlistenHealth?.();
    if (this.ownsServer) this.server.stop();
    this.requests.cancel('connector stopping');
    await Promise.all([...this.tunnels, ...this.retiring].map((t) => t.stop()));
  }
}
