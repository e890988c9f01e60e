import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { parseEnv } from '@tokios/shared/config';
import { opsEnvSchema, serveOps } from '@tokios/shared/ops';
import type { Connector } from './connector.js';

/** The connector's optional local operations port (README "Services: environment"). */
export const connectorEnvSchema = opsEnvSchema.extend({
  /** Unset: no listener at all (the connector needs no inbound port). */
  TOKIOS_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Loopback by default: the metrics of a box behind NAT are for a local Prometheus agent. */
  TOKIOS_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
});
export type ConnectorEnv = z.infer<typeof connectorEnvSchema>;

export function connectorEnvFromProcess(env: NodeJS.ProcessEnv = process.env): ConnectorEnv {
  return parseEnv(connectorEnvSchema, env, 'connector environment');
}

/**
 * /healthz, /readyz and /metrics of a connector on a local port. Bound before the connector dials out, so a port
 * in use fails the start at once (EADDRINUSE, for the caller to explain) instead of after tunnels are up.
 */
export async function listenOps(connector: Pick<Connector, 'id' | 'inFlight' | 'metrics' | 'readiness'>, host: string, port: number, metricsToken?: string): Promise<{ server: Server; port: number }> {
  const ops = {
    metrics: connector.metrics,
    readiness: connector.readiness,
    metricsToken,
    health: () => ({ connectorId: connector.id, inFlight: connector.inFlight }),
  };
  const server = createServer((req, res) => {
    if (!serveOps(ops, req, res)) res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
