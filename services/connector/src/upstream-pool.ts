import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { Client, Pool, buildConnector, type Dispatcher } from 'undici';

/**
 * Idle keep-alive sockets are closed after this, below the keep-alive timeout of common model servers (uvicorn
 * behind vLLM and SGLang, Node: 5 s), so we rarely reuse a socket the server is closing at that very moment. (A
 * shorter `Keep-Alive: timeout=` hint from the server is honoured, less undici's 2 s margin.) The race cannot be
 * ruled out, hence the one retry on a new connection (isStaleSocketError).
 */
export const UPSTREAM_IDLE_MS = 4_000;

/** Most connections to one model server (what http.Agent's maxSockets was). */
const MAX_CONNECTIONS = 1024;

/**
 * The connections to the model server: undici (as the floor chain's connector), one request per connection at a
 * time. No headers or body timeout: a whole answer may take minutes to come; the request's deadline
 * (ActiveRequest) and the probes' own timers bound every exchange instead.
 */
const POOL_OPTIONS = {
  pipelining: 1,
  keepAliveTimeout: UPSTREAM_IDLE_MS,
  keepAliveMaxTimeout: UPSTREAM_IDLE_MS,
  headersTimeout: 0,
  bodyTimeout: 0,
} as const;

const SENT = Symbol('tokios.upstreamRequestsSent');
type CountedSocket = Socket & { [SENT]?: number };

/** Errors of a socket that had carried a request before the one it failed: a keep-alive socket reused. */
const reusedSocketErrors = new WeakSet<Error>();

// undici publishes this right before a request's first byte is written, with the socket it goes on: each of our
// sockets counts the requests it carried (sockets of other undici users, fetch's, have no counter and stay untouched).
subscribe('undici:client:sendHeaders', (message) => {
  const socket = (message as { socket?: CountedSocket }).socket;
  if (socket?.[SENT] !== undefined) socket[SENT]++;
});

/**
 * undici's connector (TCP or TLS, its defaults), with each new socket counting its requests and marking the errors
 * it fails with once it carried more than one: what http's `req.reusedSocket` told, which undici does not.
 */
function countingConnector(): buildConnector.connector {
  const connect = buildConnector({});
  return (options, callback) =>
    connect(options, (err, socket) => {
      if (socket) {
        const counted = socket as CountedSocket;
        counted[SENT] = 0;
        // Added before undici's own listeners, and the failed request hears of the error only at the socket's close.
        counted.on('error', (e: Error) => {
          if ((counted[SENT] ?? 0) > 1) reusedSocketErrors.add(e);
        });
      }
      if (err) callback(err, null);
      else callback(null, socket!);
    });
}

/** Whether `err` came from a socket that had served an earlier request (see countingConnector). */
export function onReusedSocket(err: Error): boolean {
  return reusedSocketErrors.has(err);
}

const pools = new Map<string, Pool>();

/** The keep-alive pool to `origin` (one per model server; a process has one, tests a few). */
export function poolFor(origin: string): Dispatcher {
  let pool = pools.get(origin);
  if (pool === undefined) {
    pool = new Pool(origin, { ...POOL_OPTIONS, connections: MAX_CONNECTIONS, connect: countingConnector() });
    pools.set(origin, pool);
  }
  return pool;
}

/** A connection of its own, for one exchange (the retry after a reused socket failed): closed when it is done. */
export function freshClient(origin: string): Client {
  return new Client(origin, { ...POOL_OPTIONS, connect: countingConnector() });
}
