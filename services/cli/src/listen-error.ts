import type { Server } from 'node:http';
import { ConfigError } from '@tokios/shared/config';
import type { Logger } from '@tokios/shared/log';
import { EarlyListener, type StartingAnswer } from '@tokios/shared/ops';

/**
 * A listen() failure as one line that says what to change: "port 8080 in use; set TOKIOS_PORT". Thrown as a
 * ConfigError, so the CLI prints it without a stack and exits with code 2.
 */
export function listenError(err: unknown, host: string, port: number, variable: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new ConfigError(`port ${port} in use; set ${variable}`);
  if (code === 'EACCES') return new ConfigError(`no permission to listen on port ${port}; set ${variable} (ports below 1024 need privileges)`);
  if (code === 'EADDRNOTAVAIL') return new ConfigError(`cannot listen on ${host}:${port}: no such local address; check the host setting next to ${variable}`);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Binds a service's port before anything else starts (store, NATS, quota sharing): a port in use is the one-line
 * error above and nothing has joined the fabric. While the service then joins NATS, the port answers /readyz 503
 * `starting` and the API its own 503 (EarlyListener).
 */
export async function bindFirst(server: Server, host: string, port: number, variable: string, starting: StartingAnswer, log: Logger): Promise<EarlyListener> {
  const early = await EarlyListener.bind(server, port, host, starting).catch((err: unknown) => {
    throw listenError(err, host, port, variable);
  });
  log.info({ port: early.port }, 'port bound; joining NATS');
  return early;
}
