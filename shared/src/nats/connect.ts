import { ErrorCode, connect, credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection, type NatsError, type Status } from 'nats';
import type { Logger } from 'pino';
import { ConfigError } from '../config/index.js';
import { LogThrottle } from '../log/throttle.js';
import { describeAuth, type NatsSettings } from './env.js';
import { inboxPrefix, type NatsRole } from './roles.js';
import { shuffled } from './servers.js';
import { spreadPool } from './spread.js';

/** NATS refused our credentials: not transient, so the service stops (exit code 2) instead of retrying. */
export class NatsAuthError extends ConfigError {
  override readonly name = 'NatsAuthError';
}

const AUTH_CODES: string[] = [ErrorCode.AuthorizationViolation, ErrorCode.AuthenticationExpired, ErrorCode.AccountExpired, ErrorCode.AuthenticationTimeout];
const isAuthError = (err: unknown): boolean => AUTH_CODES.includes((err as NatsError | undefined)?.code ?? '');

/** One log line per server (or status kind) per this interval at most; the rest are counted. */
const LOG_EVERY_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

function cause(err: unknown): string {
  const e = err as NatsError & { chainedError?: Error };
  const inner = e.chainedError?.message;
  return [e.code, e.message, inner].filter((x, i, a) => x && a.indexOf(x) === i).join(': ').slice(0, 300) || String(err);
}

/** Credentials, TLS, name and inbox prefix for nats.js (everything but the servers and the reconnect policy). */
export function clientOptions(settings: NatsSettings, name: string, role?: NatsRole): ConnectionOptions {
  const o: ConnectionOptions = { name, ...(role && { inboxPrefix: inboxPrefix(role) }) };
  const a = settings.auth;
  if (a.kind === 'creds') o.authenticator = credsAuthenticator(a.creds);
  else if (a.kind === 'nkey') o.authenticator = nkeyAuthenticator(a.seed);
  else if (a.kind === 'user') Object.assign(o, { user: a.user, pass: a.pass });
  else if (a.kind === 'token') o.token = a.token;
  if (settings.tls) o.tls = { ...settings.tls };
  return o;
}

function authFailure(server: string, settings: NatsSettings, err: unknown): NatsAuthError {
  return new NatsAuthError(
    `NATS at ${server} refused this service's credentials (${describeAuth(settings.auth)}): ${cause(err)}. ` +
      'Check NATS_CREDS / NATS_NKEY_SEED / NATS_USER and NATS_PASSWORD / NATS_TOKEN against the server\'s authorization (docs/SECURITY.md).',
  );
}

export interface NatsConnectOptions {
  settings: NatsSettings;
  /** Connection name shown by the server (e.g. the service). */
  name: string;
  log: Logger;
  /** Sets the inbox prefix its permissions allow (shared/src/nats/roles.ts). */
  role?: NatsRole;
  /** The connection closed for good while running (credentials refused on a reconnect): the service must stop. */
  onFatal?: (err: Error) => void;
}

/**
 * Connects with fabric defaults: reconnect forever with a short wait, notice a dead server within ~10 s, and
 * keep trying the first connect so services may start before NATS does. Seeds are tried one at a time in a
 * per-process random order, each failure logged (rate-limited) with the server and the cause; refused
 * credentials throw NatsAuthError at once rather than retrying forever. The nodes learned from the cluster join the
 * pool, which is kept in a random order per process (`spreadPool`): reconnects spread over the cluster.
 */
export async function connectNats(o: NatsConnectOptions): Promise<NatsConnection> {
  const { settings, log } = o;
  const base = clientOptions(settings, o.name, o.role);
  const order = shuffled(settings.servers.map((s) => s.url));
  const throttle = new LogThrottle(LOG_EVERY_MS);
  let waitMs = RETRY_MIN_MS;
  for (;;) {
    for (const [i, server] of order.entries()) {
      const others = [...order.slice(i + 1), ...order.slice(0, i)];
      try {
        // A probe with this server alone tells why it fails; the real connection then lists every seed (for
        // reconnects), this one first.
        const probe = await connect({ ...base, servers: [server], reconnect: false, timeout: PROBE_TIMEOUT_MS });
        await probe.close();
        const nc = await connect({
          ...base,
          servers: [server, ...others],
          noRandomize: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          reconnectJitter: 100,
          pingInterval: 5_000,
          maxPingOut: 2,
          timeout: PROBE_TIMEOUT_MS,
          waitOnFirstConnect: false,
          noEcho: false,
        });
        log.info({ server: nc.getServer(), seeds: order.length, auth: describeAuth(settings.auth) }, 'nats connected');
        watch(nc, log, o.onFatal);
        return nc;
      } catch (err) {
        if (isAuthError(err)) {
          const e = authFailure(server, settings, err);
          log.error({ server, err: cause(err) }, 'nats refused the credentials');
          throw e;
        }
        const held = throttle.take(server);
        if (held !== undefined) {
          log.warn({ server, err: cause(err), attempts: held + 1, seeds: order.length }, order.length > 1 ? 'nats server unavailable; trying the others' : 'nats server unavailable; retrying');
        }
      }
    }
    await new Promise((r) => setTimeout(r, waitMs + Math.floor(Math.random() * 100)));
    waitMs = Math.min(RETRY_MAX_MS, waitMs * 2);
  }
}

/**
 * NATS at the given servers if one answers at once, else undefined (for short-lived commands that work without
 * it). Refused credentials throw NatsAuthError: silently carrying on would hide a misconfiguration.
 */
export async function tryConnectNats(settings: NatsSettings, name: string, role: NatsRole, timeoutMs = 2_000): Promise<NatsConnection | undefined> {
  try {
    return await connect({ ...clientOptions(settings, name, role), servers: settings.servers.map((s) => s.url), timeout: timeoutMs, reconnect: false });
  } catch (err) {
    if (isAuthError(err)) throw authFailure(settings.servers.map((s) => s.url).join(','), settings, err);
    return undefined;
  }
}

/** Status changes as log lines: connection changes always, repeated ones (reconnect attempts, errors) rate-limited. */
function watch(nc: NatsConnection, log: Logger, onFatal: ((err: Error) => void) | undefined): void {
  const throttle = new LogThrottle(LOG_EVERY_MS);
  // The nodes learned at connect are in the pool already (the first INFO came before this watch started).
  if (!spreadPool(nc)) log.warn('nats client pool not recognised: reconnects go in the order nats.js keeps (processes may herd onto one node)');
  const limited = (key: string, fn: (held: number) => void): void => {
    const held = throttle.take(key);
    if (held !== undefined) fn(held);
  };
  void (async () => {
    for await (const s of nc.status() as AsyncIterable<Status>) {
      const data = typeof s.data === 'string' ? s.data : undefined;
      switch (s.type) {
        case 'pingTimer':
          break;
        case 'disconnect':
          log.warn({ nats: s.type, server: data }, 'nats disconnect');
          break;
        case 'reconnect':
          spreadPool(nc);
          log.info({ nats: s.type, server: data }, 'nats reconnect');
          break;
        case 'update':
          // Nodes joined or left the cluster (INFO connect_urls): the next reconnect goes to a random one of them.
          spreadPool(nc);
          limited('update', (held) => log.info({ nats: s.type, data: s.data, more: held }, 'nats cluster nodes changed'));
          break;
        case 'ldm':
          // The server is in lame-duck mode (a rolling restart): move to another node now, while it still routes,
          // rather than when it closes us. Services hold and resume their work across the reconnect.
          log.info({ nats: s.type, server: data }, 'nats server entering lame-duck mode; reconnecting to another node');
          nc.reconnect().catch((err: unknown) => log.warn({ err: cause(err) }, 'nats reconnect after lame-duck notice failed'));
          break;
        case 'reconnecting':
          limited('reconnecting', (held) => log.info({ nats: s.type, server: data, attempts: held + 1 }, 'nats reconnecting'));
          break;
        case 'error':
          if (s.permissionContext) {
            const { operation, subject } = s.permissionContext;
            limited(`perm:${operation}`, (held) => log.error({ nats: s.type, operation, subject, more: held }, 'nats refused this (permissions): the role may not do it'));
          } else limited(`error:${data}`, (held) => log.warn({ nats: s.type, code: data, more: held }, 'nats error'));
          break;
        default:
          limited(s.type, (held) => log.info({ nats: s.type, data: data ?? s.data, more: held }, `nats ${s.type}`));
      }
    }
  })();
  void nc.closed().then((err) => {
    if (!err) return;
    log.error({ err: cause(err) }, isAuthError(err) ? 'nats refused the credentials on reconnect; connection closed for good' : 'nats connection closed for good');
    onFatal?.(err);
  });
}
