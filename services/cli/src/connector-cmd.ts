import { parseArgs } from 'node:util';
import { createLogger } from '@tokios/shared/log';
import { ConfigError } from '@tokios/shared/config';
import { Connector, loadConnectorConfig } from '@tokios/connector';

export const CONNECTOR_USAGE = `tokios connector [--config tokios.json]

Dials out to the gateway over WebSocket and serves requests with the model server named in the config.
SIGTERM/SIGINT drains (in-flight requests finish, no new ones arrive); a second signal exits at once.`;

/** Runs the connector until drained; returns the exit code. */
export async function runConnectorCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let configPath = env.TOKIOS_CONFIG ?? 'tokios.json';
  try {
    const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write(`${CONNECTOR_USAGE}\n`);
      return 0;
    }
    if (values.config) configPath = values.config;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${CONNECTOR_USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = await loadConnectorConfig(configPath);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = createLogger('connector', env.LOG_LEVEL);
  return new Promise<number>((resolve) => {
    const connector = new Connector(config, log, {
      onEstablished: ({ deployment }) => process.stdout.write(`Tunnel established (deployment "${deployment}", upstream ${config.upstreamBase})\n`),
      onFatal: (reason) => {
        process.stderr.write(`error: ${reason}\n`);
        void connector.stop().then(() => resolve(1));
      },
    });
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        log.warn({ sig }, 'second signal: exiting now');
        process.exit(130);
      }
      log.info({ sig, inFlight: connector.inFlight }, 'draining before exit');
      void connector.drain().then((abandoned) => {
        log.info({ abandoned }, 'drained');
        resolve(abandoned > 0 ? 1 : 0);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    connector.start().catch((e: unknown) => {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      resolve(1);
    });
  });
}
