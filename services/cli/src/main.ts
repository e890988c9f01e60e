#!/usr/bin/env node
import { ConfigError } from '@tokios/shared/config';
import { ADMIN_USAGE, runAdmin } from './admin.js';
import { runConnectorCommand } from './connector-cmd.js';
import { runNatsConfigCommand } from './nats-config-cmd.js';
import { runControl, runDev, runIngress, runTerminator, type Running } from './runners.js';
import { TOKIOS_VERSION } from '@tokios/shared';

const USAGE = `tokios <command>

  dev          the whole stack on one machine (its own nats-server with per-role users, or NATS_URL; data in TOKIOS_DATA_DIR)
  ingress      the public API tier (configured by environment)
  terminator   the tunnel tier (configured by environment)
  control      the control plane: admin API (/admin/v1) and dashboard (/dashboard); needs TOKIOS_ADMIN_TOKEN
  connector    run next to your model server: tokios connector [--config tokios.json]
  admin        tenants, API keys, deployments, tunnel tokens, console secrets, sharing, usage
  nats-config  write a nats-server config with one user per role and its permissions, plus each role's credentials

${ADMIN_USAGE.split('\n')[0]}
See README.md for every environment variable.`;

/**
 * Runs a long-lived service until SIGTERM/SIGINT, then closes it gracefully (a second signal exits at once). A
 * service that cannot go on (NATS closed its connection for good) exits with code 1.
 */
async function serve(start: () => Promise<Running>): Promise<number> {
  const running = await start();
  return new Promise((resolve) => {
    void running.fatal.then((err) => {
      process.stderr.write(`error: ${err.message}\n`);
      void running.close('fatal').finally(() => resolve(1));
    });
    let signals = 0;
    const stop = (signal: NodeJS.Signals): void => {
      if (++signals > 1) process.exit(130);
      void running.close(signal).then(() => resolve(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/** What each long-running service says to --help (its settings are environment variables: README). */
const SERVICE_HELP: Record<string, string> = {
  dev: 'tokios dev\n\nThe whole stack on one port (TOKIOS_PORT, default 8080): its own nats-server with per-role users, or NATS_URL; data in TOKIOS_DATA_DIR.',
  ingress: 'tokios ingress\n\nThe public API tier (TOKIOS_INGRESS_PORT, default 8080), configured by environment.',
  terminator: 'tokios terminator\n\nThe tunnel tier (TOKIOS_TERMINATOR_PORT, default 8081), configured by environment.',
  control: 'tokios control\n\nThe control plane (TOKIOS_CONTROL_PORT, default 8082): admin API and dashboard; needs TOKIOS_ADMIN_TOKEN.',
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-v' || rest.includes('--version')) {
    process.stdout.write(`tokios ${TOKIOS_VERSION}\n`);
    return 0;
  }
  // Answered before anything starts: no store, no NATS, no port.
  const help = cmd !== undefined ? SERVICE_HELP[cmd] : undefined;
  if (help && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${help}\nEvery setting is an environment variable: see README.md ("Services: environment").\n`);
    return 0;
  }
  if (help && rest.length > 0) {
    process.stderr.write(`tokios ${cmd} takes no arguments (got ${rest[0]!.slice(0, 40)}); its settings are environment variables\n`);
    return 2;
  }
  try {
    switch (cmd) {
      case 'dev':
        return await serve(async () => {
          const h = await runDev();
          process.stdout.write(
            `Tokios dev stack on http://127.0.0.1:${h.port}\n  API:       http://127.0.0.1:${h.port}/v1  (OpenAI / Anthropic compatible)\n  Tunnel:    ws://127.0.0.1:${h.port}/v1/tunnel\n  Admin API: http://127.0.0.1:${h.port}/admin/v1\n  Dashboard: http://127.0.0.1:${h.port}/dashboard\n  NATS:      ${h.natsUrl}${h.natsDir ? `  (own nats-server; per-role users and credentials in ${h.natsDir})` : ''}\n` +
              (h.adminTokenFile ? `  Operator token (TOKIOS_ADMIN_TOKEN) generated in ${h.adminTokenFile}\n` : '  Operator token: TOKIOS_ADMIN_TOKEN\n'),
          );
          return h;
        });
      case 'ingress':
        return await serve(() => runIngress());
      case 'terminator':
        return await serve(() => runTerminator());
      case 'control':
        return await serve(() => runControl());
      case 'connector':
        return await runConnectorCommand(rest);
      case 'admin':
        return await runAdmin(rest);
      case 'nats-config':
        return await runNatsConfigCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return cmd === undefined ? 2 : 0;
      default:
        process.stderr.write(`unknown command "${cmd}"\n\n${USAGE}\n`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
