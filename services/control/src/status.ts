import type { NatsConnection } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { subjects } from '@tokios/shared/subjects';
import { terminatorStatusSchema, type StatusQuery, type TunnelStatus } from '@tokios/shared/control';

/** One connector as the dashboard shows it, merged over its tunnels (possibly on several terminators). */
export interface ConnectorStatus {
  connectorId: string;
  version: string;
  upstreamKind: string;
  models: string[];
  healthy: boolean;
  draining: boolean;
  inFlight: number;
  maxConcurrency: number;
  /** Earliest connectedAt of its tunnels. */
  connectedSince: string;
  tunnels: number;
  terminators: string[];
}

export interface DeploymentStatus {
  /** False when no answer could be gathered (no NATS): online/connectors are then unknown. */
  known: boolean;
  /** At least one healthy, non-draining connector. */
  online: boolean;
  connectors: ConnectorStatus[];
}

const UNKNOWN: DeploymentStatus = { known: false, online: false, connectors: [] };

/**
 * Live status by scatter-gather: asks every terminator on `tokios.status.query` and merges what arrives within
 * `waitMs`. Nothing is written anywhere per heartbeat; the terminators' memory is the truth.
 */
export class StatusService {
  constructor(
    private readonly nc: NatsConnection | undefined,
    private readonly waitMs: number,
    private readonly log: Logger,
  ) {}

  /** Status of each of these deployments (all of them offline when no terminator answers). */
  async forDeployments(deploymentIds: string[]): Promise<Map<string, DeploymentStatus>> {
    const out = new Map<string, DeploymentStatus>();
    if (deploymentIds.length === 0) return out;
    const gathered = await this.gather({ deploymentIds });
    const grouped = gathered ? groupByDeployment(gathered) : undefined;
    for (const id of deploymentIds) out.set(id, grouped ? mergeDeployment(grouped.get(id) ?? []) : UNKNOWN);
    return out;
  }

  /** Every tunnel every terminator reports (undefined when NATS is not available). */
  async gather(query: StatusQuery = {}): Promise<{ terminatorId: string; tunnel: TunnelStatus }[] | undefined> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return undefined;
    const out: { terminatorId: string; tunnel: TunnelStatus }[] = [];
    try {
      const replies = await nc.requestMany(subjects.statusQuery, JSON.stringify(query), { maxWait: this.waitMs });
      for await (const msg of replies) {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.from(msg.data).toString('utf8'));
        } catch {
          continue;
        }
        const parsed = terminatorStatusSchema.safeParse(json);
        if (!parsed.success) {
          this.log.warn('malformed status answer from a terminator; ignored');
          continue;
        }
        for (const tunnel of parsed.data.tunnels) out.push({ terminatorId: parsed.data.terminatorId, tunnel });
      }
    } catch (err) {
      // No terminator subscribed answers "no responders": nothing is online.
      if (!/no responders|503/i.test((err as Error).message)) {
        this.log.warn({ err: (err as Error).message }, 'status query failed');
        return undefined;
      }
    }
    return out;
  }
}

/** Gathered tunnels by deployment, in one pass (a filter per deployment would be O(deployments × tunnels)). */
export function groupByDeployment(tunnels: { terminatorId: string; tunnel: TunnelStatus }[]): Map<string, { terminatorId: string; tunnel: TunnelStatus }[]> {
  const out = new Map<string, { terminatorId: string; tunnel: TunnelStatus }[]>();
  for (const t of tunnels) {
    const list = out.get(t.tunnel.deploymentId);
    if (list) list.push(t);
    else out.set(t.tunnel.deploymentId, [t]);
  }
  return out;
}

/** Merges one deployment's tunnels into connectors. */
export function mergeDeployment(tunnels: { terminatorId: string; tunnel: TunnelStatus }[]): DeploymentStatus {
  const byConnector = new Map<string, ConnectorStatus>();
  for (const { terminatorId, tunnel: t } of tunnels) {
    const c = byConnector.get(t.connectorId);
    if (!c) {
      byConnector.set(t.connectorId, {
        connectorId: t.connectorId,
        version: t.version,
        upstreamKind: t.upstreamKind,
        models: t.models,
        healthy: t.healthy,
        draining: t.draining,
        inFlight: t.inFlight,
        maxConcurrency: t.maxConcurrency,
        connectedSince: t.connectedAt,
        tunnels: 1,
        terminators: [terminatorId],
      });
      continue;
    }
    c.healthy &&= t.healthy;
    c.draining ||= t.draining;
    c.inFlight += t.inFlight;
    c.tunnels++;
    if (t.connectedAt < c.connectedSince) c.connectedSince = t.connectedAt;
    if (!c.terminators.includes(terminatorId)) c.terminators.push(terminatorId);
  }
  const connectors = [...byConnector.values()].sort((a, b) => a.connectedSince.localeCompare(b.connectedSince));
  return { known: true, online: connectors.some((c) => c.healthy && !c.draining), connectors };
}
