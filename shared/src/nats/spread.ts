import type { NatsConnection } from 'nats';
// The connection class itself: its server pool is not part of the public types. The package has no exports map, so
// this is the same module instance `connect()` builds connections from.
import { NatsConnectionImpl } from 'nats/lib/nats-base-client/nats.js';
import { shuffled } from './servers.js';

/**
 * Keeps a connection's server pool in a fresh random order, the current server last, so that a reconnect (a node
 * stopped, or in lame-duck mode) goes to a random other node.
 *
 * Why: nats.js adds the nodes it learns from the cluster (INFO `connect_urls`) to the end of its pool in the order
 * the server lists them, never shuffled, and reconnects to the front of the pool. Processes given one seed URL all
 * have the same pool, so every reconnect of a rolling restart moves all of them to the same next node, and they end
 * up on one node. (nats.go shuffles its pool when it learns new URLs; this does the same.) Called on every pool
 * change and after every reconnect.
 *
 * Returns false when the connection is not the nats.js class this knows (the pool stays in nats.js's order).
 */
export function spreadPool(nc: NatsConnection): boolean {
  if (!(nc instanceof NatsConnectionImpl)) return false;
  const servers = nc.protocol.servers;
  // The live array: reordering it in place is what the next reconnect walks.
  const pool = servers.getServers();
  const current = servers.getCurrentServer();
  const others = shuffled(pool.filter((s) => s !== current));
  pool.splice(0, pool.length, ...others, ...(pool.includes(current) ? [current] : []));
  return true;
}

