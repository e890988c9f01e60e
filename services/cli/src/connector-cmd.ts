import { parseArgs } from 'node:util';
import { createLogger } from '@tokios/shared/log';
import { ConfigError } from '@tokios/shared/config';
import { ConnectorGroup, connectorEnvFromProcess, listenOps, loadConnectorConfig } from '@tokios/connector';
import { listenError } from './listen-error.js';

export const CONNECTOR_USAGE = `tokios connector [--config tokios.json]

Dials out to the gateway over WebSocket and serves requests with the model server named in the config
(one deployment, or several with "deployments": [...], each with its own tunnel token).
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
  let cenv;
  try {
    cenv = connectorEnvFromProcess(env);
    config = await loadConnectorConfig(configPath);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = createLogger('connector', env);
  let ops: Awaited<ReturnType<typeof listenOps>> | undefined;
  const code = await new Promise<number>((resolve) => {
    const connector = new ConnectorGroup(config, log, {
      onEstablished: ({ deployment }) => process.stdout.write(`Tunnel established (deployment "${deployment}", upstream ${config.upstreamBase})\n`),
      onFatal: (reason, remaining) => {
        process.stderr.write(`error: ${reason}\n`);
        // A refused token stops its deployment; the process ends when none is left.
        if (remaining === 0) void connector.stop().then(() => resolve(1));
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
    const start = async (): Promise<void> => {
      if (cenv.TOKIOS_METRICS_PORT !== undefined) {
        ops = await listenOps(connector, cenv.TOKIOS_METRICS_HOST, cenv.TOKIOS_METRICS_PORT, cenv.TOKIOS_METRICS_TOKEN).catch((e: unknown) => {
          throw listenError(e, cenv.TOKIOS_METRICS_HOST, cenv.TOKIOS_METRICS_PORT!, 'TOKIOS_METRICS_PORT');
        });
        log.info({ port: ops.port, host: cenv.TOKIOS_METRICS_HOST }, 'metrics listening');
      }
      await connector.start();
    };
    start().catch((e: unknown) => {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      resolve(e instanceof ConfigError ? 2 : 1);
    });
  });
  ops?.server.close();
  return code;
}
