import type { Logger } from '@tokios/shared/log';
import { Metrics } from '@tokios/shared/metrics';
import { Readiness } from '@tokios/shared/ops';
import { forDeployment, type ConnectorConfig } from './config.js';
import { Connector, type ConnectorHooks } from './connector.js';
import { ModelServer } from './model-server.js';

export interface ConnectorGroupHooks {
  /** Printed once per deployment, when its first tunnel is up. */
  onEstablished?(info: { terminatorId: string; deployment: string }): void;
  /** One deployment's token was refused (it stopped); `remaining` deployments still run. */
  onFatal?(reason: string, remaining: number): void;
}

/**
 * Everything one `tokios connector` process runs: one model server (probed once, one health loop) and one Connector
 * per configured deployment, each with its own token, tunnels and caps. A deployment whose token is refused stops
 * alone; the others keep serving.
 */
export class ConnectorGroup {
  readonly server: ModelServer;
  readonly connectors: Connector[];
  /** Ready when every deployment is (a tunnel up, the model server healthy), until draining. */
  readonly readiness = new Readiness();
  /** One registry for every deployment (their metrics carry a `deployment` label): what /metrics serves. */
  readonly metrics = new Metrics();
  /** Deployments whose token was refused (each tunnel of one may report it). */
  private readonly refused = new Set<Connector>();

  constructor(
    readonly config: ConnectorConfig,
    private readonly log: Logger,
    hooks: ConnectorGroupHooks = {},
  ) {
    this.server = new ModelServer({ upstreamBase: config.upstreamBase, upstreamKind: config.upstream_kind, healthIntervalMs: config.health_interval_ms }, log);
    this.connectors = config.deployments.map((d, index) => {
      const one = config.deployments.length > 1 ? log.child({ deployment: index }) : log;
      const connectorHooks: ConnectorHooks = {
        ...(hooks.onEstablished ? { onEstablished: hooks.onEstablished } : {}),
        onFatal: (reason) => {
          if (this.refused.has(connector)) return;
          this.refused.add(connector);
          void connector.stop();
          hooks.onFatal?.(reason, this.connectors.length - this.refused.size);
        },
      };
      const connector: Connector = new Connector(forDeployment(config, d), one, connectorHooks, this.metrics, this.server, String(index));
      return connector;
    });
    this.connectors.forEach((c, i) => this.readiness.add(this.connectors.length > 1 ? `deployment_${i}` : 'connector', async () => (await c.readiness.report()).ready));
  }

  /** The first deployment's connector id (the one in the single-deployment form). */
  get id(): string {
    return this.connectors[0]!.id;
  }

  get inFlight(): number {
    return this.connectors.reduce((n, c) => n + c.inFlight, 0);
  }

  async start(): Promise<void> {
    await this.server.start();
    this.warnUnlistedModels();
    await Promise.all(this.connectors.map((c) => c.start()));
  }

  /** A configured model the model server does not list is most likely a typo or a model not pulled yet. */
  private warnUnlistedModels(): void {
    if (this.server.models.length === 0) return;
    this.config.deployments.forEach((d, index) => {
      if (d.model === undefined || this.server.serves(d.model)) return;
      this.log.warn({ deployment: index, model: d.model, models: this.server.models.slice(0, 20) }, `configured model "${d.model}" is not in the model server's list`);
    });
  }

  /** Drains every deployment at once; resolves with the requests that had to be abandoned. */
  async drain(): Promise<number> {
    this.readiness.startDraining();
    const abandoned = await Promise.all(this.connectors.map((c) => c.drain()));
    this.server.stop();
    return abandoned.reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.connectors.map((c) => c.stop()));
    this.server.stop();
  }
}
