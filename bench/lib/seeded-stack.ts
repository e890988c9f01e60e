import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from 'tokios';

/** What a same-run comparison needs to start one Tokios stack of a built checkout: seeded store, env, connector config. */
export interface SeededStack {
  /** The checkout's `tokios` entry point. */
  main: string;
  /** Environment of its ingress, terminator and connector (LOG_LEVEL warn, as the floor bench runs it). */
  env: NodeJS.ProcessEnv;
  ingressPort: number;
  terminatorPort: number;
  /** An API key of the seeded tenant, for deployment `m`. */
  apiKey: string;
  /** The connector's tokios.json (OpenAI-compatible upstream, one tunnel). */
  connectorConfig: string;
}

/**
 * A fresh SQLite store for `checkout` with one tenant, key, deployment `m` and tunnel token, made with the checkout's
 * own `tokios admin`, on free ports of 127.0.0.1, all on `natsUrl` with the fabric secret on.
 */
export async function seededStack(checkout: string, label: string, natsUrl: string, upstream: string, fabricSecret: string): Promise<SeededStack> {
  const main = join(checkout, 'services/cli/dist/src/main.js');
  if (!existsSync(main)) throw new Error(`${checkout} is not built (no ${main})`);
  const [ingressPort, terminatorPort] = [await freePort(), await freePort()];
  const data = mkdtempSync(join(tmpdir(), `tokios-${label}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env, LOG_LEVEL: 'warn', NATS_URL: natsUrl, TOKIOS_FABRIC_SECRET: fabricSecret, TOKIOS_DATA_DIR: data, TOKIOS_ADMIN_TOKEN: randomBytes(24).toString('hex'),
    TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_INGRESS_PORT: String(ingressPort), TOKIOS_TERMINATOR_HOST: '127.0.0.1', TOKIOS_TERMINATOR_PORT: String(terminatorPort),
    TOKIOS_PUBLIC_TUNNEL_URL: `ws://127.0.0.1:${terminatorPort}/v1/tunnel`,
  };
  const admin = (...a: string[]): { id: string; secret: string } =>
    JSON.parse(execFileSync(process.execPath, [main, 'admin', ...a, '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] }).toString()) as { id: string; secret: string };
  const tenant = admin('tenant', 'create', '--name', label);
  const apiKey = admin('key', 'create', '--tenant', tenant.id).secret;
  const dep = admin('deployment', 'create', '--tenant', tenant.id, '--name', 'm');
  const token = admin('token', 'create', '--deployment', dep.id).secret;
  const connectorConfig = join(data, 'tokios.json');
  const gateway = `ws://127.0.0.1:${terminatorPort}/v1/tunnel`;
  writeFileSync(connectorConfig, JSON.stringify({ tunnel_token: token, upstream, gateway, upstream_kind: 'openai', max_concurrency: 256, tunnels: 1 }));
  return { main, env, ingressPort, terminatorPort, apiKey, connectorConfig };
}
