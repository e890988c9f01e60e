import type { FastifyInstance } from 'fastify';
import type { FabricClient } from './fabric.js';

import type {} from './app.js'; // the tokiosReadiness decorator's type

/**
 * Graceful stop for rolling restarts: fail readiness for `delayMs` while still serving, then stop accepting (new
 * requests on open connections get 503), let requests in flight finish for up to `graceMs`, then cut the remaining
 * connections (idle keep-alive sockets would otherwise hold the close for the server's header timeout) and end
 * what is still pending.
 */
export async function closeGracefully(
  app: FastifyInstance,
  fabric: FabricClient,
  graceMs: number,
  o: { delayMs?: number | undefined; beforeServerClose?: () => Promise<void> } = {},
): Promise<void> {
  // Readiness goes first: /readyz says 503 draining while the listener still serves, so load balancers stop
  // sending before it closes.
  if (app.hasDecorator('tokiosReadiness')) app.tokiosReadiness.startDraining();
  if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
  const closing = app.close();
  const deadline = Date.now() + graceMs;
  while (fabric.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  app.server.closeAllConnections();
  await fabric.close();
  // Sockets upgraded on this server (tokios dev's tunnels) hold its close until their owner closes them.
  await o.beforeServerClose?.();
  await closing;
}
