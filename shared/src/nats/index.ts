import { connect, type NatsConnection } from 'nats';
import type { Logger } from 'pino';

export interface NatsOptions {
  url: string;
  name: string;
  log: Logger;
}

/**
 * Connects with fabric defaults: reconnect forever with a short wait, notice a dead server within ~10 s,
 * and keep trying the first connect so services may start before NATS does.
 */
export async function connectNats({ url, name, log }: NatsOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    pingInterval: 5_000,
    maxPingOut: 2,
    waitOnFirstConnect: true,
    noEcho: false,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'pingTimer') continue;
      const lvl = s.type === 'disconnect' || s.type === 'error' ? 'warn' : 'info';
      log[lvl]({ nats: s.type, data: typeof s.data === 'string' ? s.data : undefined }, `nats ${s.type}`);
    }
  })();
  return nc;
}

export type { NatsConnection, Msg, Subscription } from 'nats';
