import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@tokios/shared/log';
import { connectNats, type NatsConnection } from '@tokios/shared/nats';
import { openStore, storeEnvSchema, type Store } from '@tokios/shared/store';
import { parseEnv } from '@tokios/shared/config';
import { FabricClient, buildIngressApp, closeGracefully, ingressOptionsFromEnv, type IngressOptions } from '@tokios/ingress';
import { Terminator, terminatorOptionsFromEnv, type TerminatorOptions } from '@tokios/terminator';
import { buildControlApp, controlEnvFromProcess, controlPlugin, controlTuningSchema } from '@tokios/control';
import { ensureNats } from './local-nats.js';
import { removeDevFile, writeDevFile } from './dev-file.js';
import { devAdminToken } from './admin-token.js';

export interface Running {
  /** Port the HTTP server listens on. */
  port: number;
  close(): Promise<void>;
}

export interface IngressHandle extends Running {
  fabric: FabricClient;
}

export interface TerminatorHandle extends Running {
  terminator: Terminator;
}

async function common(service: string, natsUrl: string, env: NodeJS.ProcessEnv, log?: Logger): Promise<{ log: Logger; nc: NatsConnection; store: Store }> {
  const logger = log ?? createLogger(service, env.LOG_LEVEL);
  const store = await openStore(parseEnv(storeEnvSchema, env, 'store environment'), { log: logger });
  logger.info({ store: store.describe() }, 'store opened');
  const nc = await connectNats({ url: natsUrl, name: service, log: logger });
  return { log: logger, nc, store };
}

/** A stateless ingress replica. */
export async function runIngress(env: NodeJS.ProcessEnv = process.env, log?: Logger): Promise<IngressHandle> {
  const o = ingressOptionsFromEnv(env);
  const { log: logger, nc, store } = await common('ingress', o.natsUrl, env, log);
  const fabric = new FabricClient(nc, o, logger);
  fabric.start();
  const app = await buildIngressApp({ fabric, store, log: logger, options: o });
  await app.listen({ port: o.port, host: o.host });
  const port = (app.server.address() as AddressInfo).port;
  logger.info({ port, ingressId: fabric.id }, 'ingress listening');
  return {
    port,
    fabric,
    async close() {
      await closeGracefully(app, fabric, o.shutdownGraceMs);
      await nc.drain().catch(() => undefined);
      await store.close();
    },
  };
}

/** A tunnel terminator. */
export async function runTerminator(env: NodeJS.ProcessEnv = process.env, log?: Logger): Promise<TerminatorHandle> {
  const o = terminatorOptionsFromEnv(env);
  const { log: logger, nc, store } = await common('terminator', o.natsUrl, env, log);
  const terminator = new Terminator(o, nc, store, logger);
  terminator.start();
  const port = await terminator.listen(o.port, o.host);
  logger.info({ port, terminatorId: terminator.id }, 'terminator listening');
  return {
    port,
    terminator,
    async close() {
      await terminator.close();
      await nc.drain().catch(() => undefined);
      await store.close();
    },
  };
}

/** The control plane alone: admin API and dashboard (`tokios control`). */
export async function runControl(env: NodeJS.ProcessEnv = process.env, log?: Logger): Promise<Running> {
  const e = controlEnvFromProcess(env);
  const { log: logger, nc, store } = await common('control', e.NATS_URL, env, log);
  const app = await buildControlApp({
    store, nc, log: logger, adminToken: e.TOKIOS_ADMIN_TOKEN, statusWaitMs: e.TOKIOS_STATUS_WAIT_MS, sessionTtlSeconds: e.TOKIOS_SESSION_TTL_S,
  });
  await app.listen({ port: e.TOKIOS_CONTROL_PORT, host: e.TOKIOS_CONTROL_HOST });
  const port = (app.server.address() as AddressInfo).port;
  logger.info({ port }, 'control listening');
  return {
    port,
    async close() {
      await app.close();
      await nc.drain().catch(() => undefined);
      await store.close();
    },
  };
}

export interface DevHandle extends IngressHandle {
  terminator: Terminator;
  natsUrl: string;
  store: Store;
  /** The operator token of the admin API, and the file it was generated into (when not from the environment). */
  adminToken: string;
  adminTokenFile: string | undefined;
}

/**
 * The whole stack in one process: ingress and terminator share one port (API paths and the tunnel path),
 * on the NATS at NATS_URL or a local nats-server started for the purpose.
 */
export async function runDev(env: NodeJS.ProcessEnv = process.env, log?: Logger): Promise<DevHandle> {
  const logger = log ?? createLogger('tokios-dev', env.LOG_LEVEL);
  const nats = await ensureNats(env.NATS_URL ?? 'nats://127.0.0.1:4222', logger);
  const io = ingressOptionsFromEnv({ ...env, NATS_URL: nats.url, TOKIOS_INGRESS_PORT: env.TOKIOS_PORT ?? env.PORT ?? env.TOKIOS_INGRESS_PORT });
  const to = terminatorOptionsFromEnv({ ...env, NATS_URL: nats.url });
  const storeEnv = parseEnv(storeEnvSchema, env, 'store environment');
  const store = await openStore(storeEnv, { log: logger });
  logger.info({ store: store.describe() }, 'store opened');
  const nc = await connectNats({ url: nats.url, name: 'tokios-dev', log: logger });
  const fabric = new FabricClient(nc, io, logger);
  fabric.start();
  const app = await buildIngressApp({ fabric, store, log: logger, options: io });
  const dataDir = storeEnv.TOKIOS_DATA_DIR;
  const admin = await devAdminToken(env, dataDir);
  const tuning = parseEnv(controlTuningSchema, env, 'control environment');
  await app.register(controlPlugin, {
    store, nc, log: logger, adminToken: admin.token, statusWaitMs: tuning.TOKIOS_STATUS_WAIT_MS, sessionTtlSeconds: tuning.TOKIOS_SESSION_TTL_S,
  });
  let terminator: Terminator | undefined;
  app.server.on('upgrade', (req, socket, head) => {
    if (terminator) terminator.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await app.listen({ port: io.port, host: io.host });
  const port = (app.server.address() as AddressInfo).port;
  const publicUrl = to.publicUrl ?? `ws://127.0.0.1:${port}/v1/tunnel`;
  terminator = new Terminator({ ...to, publicUrl } satisfies TerminatorOptions, nc, store, logger);
  terminator.start();
  await writeDevFile(dataDir, { natsUrl: nats.url, port, pid: process.pid });
  logger.info({ port, nats: nats.url, dataDir, tunnel: publicUrl }, 'tokios dev stack running');
  return {
    port,
    fabric,
    terminator,
    natsUrl: nats.url,
    store,
    adminToken: admin.token,
    adminTokenFile: admin.file,
    async close() {
      await removeDevFile(dataDir);
      await terminator?.close();
      await closeGracefully(app, fabric, io.shutdownGraceMs);
      await nc.drain().catch(() => undefined);
      await store.close();
      await nats.stop();
    },
  };
}

export type { IngressOptions };
