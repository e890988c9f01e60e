import { createServer } from 'node:http';
import { join } from 'node:path';
import { createLogger, type Logger } from '@tokios/shared/log';
import { connectNats, natsSettingsFromEnv, type NatsConnection, type NatsRole, type NatsSettings } from '@tokios/shared/nats';
import { openStore, storeEnvSchema, type Store } from '@tokios/shared/store';
import { parseEnv } from '@tokios/shared/config';
import { FabricClient, buildIngressApp, closeGracefully, createIngressServer, ingressOptionsFromEnv, ingressStartingAnswer, type IngressOptions } from '@tokios/ingress';
import { Terminator, terminatorOptionsFromEnv, terminatorStartingAnswer, type TerminatorOptions } from '@tokios/terminator';
import { API_PREFIX, DASHBOARD_PREFIX, buildControlApp, controlEnvFromProcess, controlPlugin, controlStartingAnswer, controlTuningSchema, createControlServer } from '@tokios/control';
import { startLocalNats, type LocalNats } from './local-nats.js';
import { removeDevFile, writeDevFile } from './dev-file.js';
import { devAdminToken } from './admin-token.js';
import { fabricSecretFile } from './nats-credentials.js';
import { bindFirst } from './listen-error.js';
import { Metrics } from '@tokios/shared/metrics';
import { NatsState, Readiness, opsEnvSchema, type EarlyListener, type StartingAnswer } from '@tokios/shared/ops';

export interface Running {
  /** Port the HTTP server listens on. */
  port: number;
  /** Graceful stop; `reason` (the signal) goes into the shutdown log lines. */
  close(reason?: string): Promise<void>;
  /** Resolves when the service cannot go on (NATS closed its connection for good, e.g. credentials refused). */
  fatal: Promise<Error>;
}

export interface IngressHandle extends Running {
  fabric: FabricClient;
}

export interface TerminatorHandle extends Running {
  terminator: Terminator;
}

/** A service's close with its shutdown lines around it: what began it, and how long it took. */
function shutdownLogged(log: Logger, close: () => Promise<void>): (reason?: string) => Promise<void> {
  return async (reason) => {
    const started = Date.now();
    log.info({ reason: reason ?? 'requested' }, 'shutting down');
    await close();
    log.info({ ms: Date.now() - started }, 'stopped');
  };
}

/** A promise the NATS connections resolve when they close for good. */
function fatalSignal(): { fatal: Promise<Error>; onFatal: (err: Error) => void } {
  let onFatal!: (err: Error) => void;
  const fatal = new Promise<Error>((resolve) => (onFatal = resolve));
  return { fatal, onFatal };
}

/**
 * What every service does after binding its port: the store, then NATS (retried until a server answers, while the
 * bound port answers /readyz 503 `starting`). A failure releases the port again.
 */
async function common(
  service: string,
  role: NatsRole,
  settings: NatsSettings,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  early: EarlyListener,
): Promise<{ nc: NatsConnection; store: Store; fatal: Promise<Error> }> {
  warnIfUnsigned(settings, logger);
  let store: Store | undefined;
  try {
    store = await openStore(parseEnv(storeEnvSchema, env, 'store environment'), { log: logger });
    logger.info({ store: store.describe() }, 'store opened');
    const { fatal, onFatal } = fatalSignal();
    const nc = await connectNats({ settings, name: service, role, log: logger, onFatal });
    return { nc, store, fatal };
  } catch (err) {
    await store?.close();
    await early.close();
    throw err;
  }
}

function warnIfUnsigned(settings: NatsSettings, log: Logger): void {
  if (settings.fabricSecret !== undefined) return;
  log.warn(
    'TOKIOS_FABRIC_SECRET is not set: control events, presence and quota deltas are neither signed nor checked, so any ' +
      'client that can publish on this NATS can forge them. Set the same secret on every service (docs/SECURITY.md).',
  );
}

/** A stateless ingress replica. */
export async function runIngress(env: NodeJS.ProcessEnv = process.env, log?: Logger): Promise<IngressHandle> {
  const o = ingressOptionsFromEnv(env);
  const opsEnv = parseEnv(opsEnvSchema, env);
  const logger = log ?? createLogger('ingress', env);
  const early = await bindFirst(createIngressServer(o), o.host, o.port, 'TOKIOS_INGRESS_PORT', ingressStartingAnswer, logger);
  const { nc, store, fatal } = await common('ingress', 'ingress', o.nats, env, logger, early);
  const fabric = new FabricClient(nc, o, logger);
  fabric.start();
  const app = await buildIngressApp({ fabric, store, log: logger, options: o, metricsToken: opsEnv.TOKIOS_METRICS_TOKEN, serverFactory: early.fastifyServer });
  await app.listen({ port: early.port, host: o.host }).catch(async (err: unknown) => {
    await Promise.allSettled([app.close(), nc.drain(), store.close(), early.close()]);
    throw err;
  });
  const port = early.port;
  logger.info({ port, ingressId: fabric.id }, 'ingress listening');
  return {
    port,
    fabric,
    fatal,
    close: shutdownLogged(logger, async () => {
      await closeGracefully(app, fabric, o.shutdownGraceMs, { delayMs: o.shutdownDelayMs });
      await nc.drain().catch(() => undefined);
      await store.close();
    }),
  };
}

/** A tunnel terminator. */
export async function runTerminator(env: NodeJS.ProcessEnv = process.env, log?: Logger): Promise<TerminatorHandle> {
  const o = terminatorOptionsFromEnv(env);
  const opsEnv = parseEnv(opsEnvSchema, env);
  const logger = log ?? createLogger('terminator', env);
  const early = await bindFirst(createServer(), o.host, o.port, 'TOKIOS_TERMINATOR_PORT', terminatorStartingAnswer, logger);
  const { nc, store, fatal } = await common('terminator', 'terminator', o.nats, env, logger, early);
  const terminator = new Terminator(o, nc, store, logger, { metricsToken: opsEnv.TOKIOS_METRICS_TOKEN });
  terminator.start();
  const port = terminator.serveOn(early);
  logger.info({ port, terminatorId: terminator.id }, 'terminator listening');
  return {
    port,
    terminator,
    fatal,
    close: shutdownLogged(logger, async () => {
      await terminator.close();
      await nc.drain().catch(() => undefined);
      await store.close();
    }),
  };
}

/** The control plane alone: admin API and dashboard (`tokios control`). */
export async function runControl(env: NodeJS.ProcessEnv = process.env, log?: Logger): Promise<Running> {
  const e = controlEnvFromProcess(env);
  const opsEnv = parseEnv(opsEnvSchema, env);
  const logger = log ?? createLogger('control', env);
  const early = await bindFirst(createControlServer(), e.TOKIOS_CONTROL_HOST, e.TOKIOS_CONTROL_PORT, 'TOKIOS_CONTROL_PORT', controlStartingAnswer, logger);
  const { nc, store, fatal } = await common('control', 'control', e.nats, env, logger, early);
  const app = await buildControlApp({
    store, nc, log: logger, adminToken: e.TOKIOS_ADMIN_TOKEN, fabricSecret: e.nats.fabricSecret, statusWaitMs: e.TOKIOS_STATUS_WAIT_MS, sessionTtlSeconds: e.TOKIOS_SESSION_TTL_S,
    metricsToken: opsEnv.TOKIOS_METRICS_TOKEN, serverFactory: early.fastifyServer,
  });
  await app.listen({ port: early.port, host: e.TOKIOS_CONTROL_HOST }).catch(async (err: unknown) => {
    await Promise.allSettled([app.close(), nc.drain(), store.close(), early.close()]);
    throw err;
  });
  const port = early.port;
  logger.info({ port }, 'control listening');
  return {
    port,
    fatal,
    close: shutdownLogged(logger, async () => {
      app.tokiosReadiness.startDraining();
      await new Promise((r) => setTimeout(r, e.TOKIOS_SHUTDOWN_DELAY_MS));
      await app.close();
      await nc.drain().catch(() => undefined);
      await store.close();
    }),
  };
}

export interface DevHandle extends IngressHandle {
  terminator: Terminator;
  natsUrl: string;
  /** The own nats-server's config and role credentials (`<role>.env`); undefined when NATS_URL was given. */
  natsDir: string | undefined;
  store: Store;
  /** The operator token of the admin API, and the file it was generated into (when not from the environment). */
  adminToken: string;
  adminTokenFile: string | undefined;
}

/** NATS client settings a user may have in the environment; dropped when the dev stack runs its own server. */
const NATS_CLIENT_VARS = ['NATS_URL', 'NATS_CREDS', 'NATS_NKEY_SEED', 'NATS_USER', 'NATS_PASSWORD', 'NATS_TOKEN', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY'];
const withoutNatsClientVars = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(env).filter(([k]) => !NATS_CLIENT_VARS.includes(k)));

/** While the dev stack starts, admin API and dashboard paths answer like the control plane, the rest like the API. */
const devStartingAnswer: StartingAnswer = (req, res) => {
  const url = req.url ?? '';
  if (url.startsWith(API_PREFIX) || url.startsWith(DASHBOARD_PREFIX)) controlStartingAnswer(req, res);
  else ingressStartingAnswer(req, res);
};

/**
 * The whole stack in one process: ingress and terminator share one port (API paths and the tunnel path). By
 * default on its own nats-server with per-role users and permissions, each tier connecting as its role; on the
 * NATS at NATS_URL (with the credentials in the environment) when that is given. Fabric messages are signed with
 * TOKIOS_FABRIC_SECRET, else a secret generated once into `<TOKIOS_DATA_DIR>/fabric-secret`.
 */
export async function runDev(env: NodeJS.ProcessEnv = process.env, log?: Logger): Promise<DevHandle> {
  const logger = log ?? createLogger('tokios-dev', env);
  const storeEnv = parseEnv(storeEnvSchema, env, 'store environment');
  const dataDir = storeEnv.TOKIOS_DATA_DIR;
  const opsEnv = parseEnv(opsEnvSchema, env);
  const undo: (() => Promise<unknown>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const fn of undo.reverse()) await fn().catch(() => undefined);
  };
  try {
    // The port first: a port in use is reported before a nats-server, the store or NATS are started.
    const portVar = env.TOKIOS_PORT ? 'TOKIOS_PORT' : 'TOKIOS_PORT (or TOKIOS_INGRESS_PORT)';
    const listenEnv = { ...(env.NATS_URL ? env : withoutNatsClientVars(env)), TOKIOS_INGRESS_PORT: env.TOKIOS_PORT ?? env.PORT ?? env.TOKIOS_INGRESS_PORT };
    const lo = ingressOptionsFromEnv(listenEnv);
    const early = await bindFirst(createIngressServer(lo), lo.host, lo.port, portVar, devStartingAnswer, logger);
    undo.push(() => early.close());
    const port = early.port;
    const fabricSecret = env.TOKIOS_FABRIC_SECRET || (await fabricSecretFile(dataDir)).value;
    let local: LocalNats | undefined;
    if (!env.NATS_URL) {
      local = await startLocalNats(join(dataDir, 'nats'), fabricSecret, logger);
      undo.push(local.stop);
    }
    const envFor = (role: NatsRole): NodeJS.ProcessEnv => {
      if (!local) return { ...env, TOKIOS_FABRIC_SECRET: fabricSecret };
      return { ...withoutNatsClientVars(env), NATS_URL: local.url, ...local.roles[role], TOKIOS_FABRIC_SECRET: fabricSecret };
    };
    const io = ingressOptionsFromEnv({ ...envFor('ingress'), TOKIOS_INGRESS_PORT: String(port) });
    const to = terminatorOptionsFromEnv(envFor('terminator'));
    const controlNats = natsSettingsFromEnv(envFor('control'));
    const tuning = parseEnv(controlTuningSchema, env, 'control environment');
    const store = await openStore(storeEnv, { log: logger });
    logger.info({ store: store.describe() }, 'store opened');
    undo.push(() => store.close());
    const { fatal, onFatal } = fatalSignal();
    const connect = async (role: NatsRole, settings: NatsSettings): Promise<NatsConnection> => {
      const nc = await connectNats({ settings, name: `tokios-dev-${role}`, role, log: logger.child({ nats: role }), onFatal });
      undo.push(() => nc.drain());
      return nc;
    };
    const [ingressNc, terminatorNc, controlNc] = [await connect('ingress', io.nats), await connect('terminator', to.nats), await connect('control', controlNats)];
    // One registry and one readiness for the three tiers of this process, served by the ingress's routes.
    const metrics = new Metrics();
    const controlNatsState = new NatsState(controlNc);
    const readiness = new Readiness().add('store', () => store.ping().then(() => true)).add('nats_control', () => controlNatsState.up);
    const fabric = new FabricClient(ingressNc, io, logger);
    fabric.start();
    const app = await buildIngressApp({ fabric, store, log: logger, options: io, metrics, readiness, metricsToken: opsEnv.TOKIOS_METRICS_TOKEN, serverFactory: early.fastifyServer });
    undo.push(() => app.close());
    const admin = await devAdminToken(env, dataDir);
    await app.register(controlPlugin, {
      store, nc: controlNc, log: logger, adminToken: admin.token, fabricSecret, statusWaitMs: tuning.TOKIOS_STATUS_WAIT_MS, sessionTtlSeconds: tuning.TOKIOS_SESSION_TTL_S, metrics,
    });
    await app.listen({ port, host: io.host });
    const publicUrl = to.publicUrl ?? `ws://127.0.0.1:${port}/v1/tunnel`;
    const terminator = new Terminator({ ...to, publicUrl } satisfies TerminatorOptions, terminatorNc, store, logger, { metrics, readiness });
    terminator.start();
    // Until here tunnel upgrades were answered 503 (the connector retries).
    early.onUpgrade((req, socket, head) => terminator.handleUpgrade(req, socket, head));
    const natsUrl = local?.url ?? (env.NATS_URL as string);
    const natsDir = local ? join(dataDir, 'nats') : undefined;
    await writeDevFile(dataDir, { natsUrl, ...(natsDir && { natsDir }), port, pid: process.pid });
    logger.info({ port, nats: natsUrl, ownNats: local !== undefined, dataDir, tunnel: publicUrl }, 'tokios dev stack running');
    return {
      port,
      fabric,
      terminator,
      natsUrl,
      natsDir,
      store,
      fatal,
      adminToken: admin.token,
      adminTokenFile: admin.file,
      close: shutdownLogged(logger, async () => {
        await removeDevFile(dataDir);
        // Ingress first: its requests in flight finish through the terminator, which drains last (and closes the
        // tunnels upgraded on the shared HTTP server, which would otherwise hold the server's close). One process on
        // a laptop has no load balancer to warn: no readiness delay unless asked for.
        await closeGracefully(app, fabric, io.shutdownGraceMs, {
          delayMs: env.TOKIOS_SHUTDOWN_DELAY_MS ? io.shutdownDelayMs : 0,
          beforeServerClose: async () => terminator.close(),
        });
        for (const nc of [ingressNc, terminatorNc, controlNc]) await nc.drain().catch(() => undefined);
        await store.close();
        await local?.stop();
      }),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

export type { IngressOptions };
