import { ConfigError } from '@tokios/shared/config';

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
