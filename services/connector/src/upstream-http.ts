import type { Dispatcher } from 'undici';
import { freshClient, onReusedSocket, poolFor } from './upstream-pool.js';

export { UPSTREAM_IDLE_MS } from './upstream-pool.js';

export interface UpstreamCallOptions {
  method: 'GET' | 'POST';
  path: string;
  body?: string | Buffer | undefined;
  /** Frozen sets (the translation plans' constants) are merged with the connector's headers once and kept. */
  headers?: Readonly<Record<string, string>>;
  /** A new connection instead of a pooled keep-alive socket (the retry after a reused socket failed). */
  fresh?: boolean;
}

/** Where one exchange goes: what `new URL(base + path)` names, split for the pool (parsed once per base and path). */
interface Target {
  origin: string;
  path: string;
  /** Basic credentials from the base URL's user part, as http.request sent them. */
  authorization?: string;
  /** The headers sent for a frozen header set, with a body and without (built once: headersFor). */
  merged: WeakMap<object, Record<string, string>>;
  mergedWithBody: WeakMap<object, Record<string, string>>;
}

/** By base URL, then path: no string built per request to find them. */
const targets = new Map<string, Map<string, Target>>();
let targetCount = 0;

function targetOf(base: string, path: string): Target {
  let byPath = targets.get(base);
  if (byPath === undefined) targets.set(base, (byPath = new Map()));
  let target = byPath.get(path);
  if (target === undefined) {
    const url = new URL(base + path);
    target = { origin: url.origin, path: url.pathname + url.search, merged: new WeakMap(), mergedWithBody: new WeakMap() };
    if (url.username !== '' || url.password !== '') {
      target.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    }
    // A connector has one model server and a handful of paths; the bound only guards a misuse.
    if (++targetCount > 256) {
      targets.clear();
      targetCount = 1;
      targets.set(base, (byPath = new Map()));
    }
    byPath.set(path, target);
  }
  return target;
}

/** No headers from the caller of upstreamCall: merged like any frozen set. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** What goes to the model server: `accept`, the plan's headers, the base URL's credentials, a JSON content type for a body. */
function headersFor(target: Target, given: Readonly<Record<string, string>> | undefined, withBody: boolean): Record<string, string> {
  const set = given ?? NO_HEADERS;
  const frozen = Object.isFrozen(set);
  const cache = withBody ? target.mergedWithBody : target.merged;
  const known = frozen ? cache.get(set) : undefined;
  if (known !== undefined) return known;
  const headers: Record<string, string> = { accept: '*/*', ...set };
  if (target.authorization !== undefined) headers['authorization'] ??= target.authorization;
  if (withBody) headers['content-type'] ??= 'application/json';
  // Kept frozen too: undici only reads it, and nothing else may change what every request sends.
  if (frozen) cache.set(set, Object.freeze(headers));
  return headers;
}

/** What the caller of upstreamCall hears of one exchange, in order: head, data…, then end or error (once). */
export interface UpstreamSink {
  head(status: number, contentType: string): void;
  data(chunk: Buffer): void;
  end(): void;
  /** The exchange failed, before the head or after it (the connection broke mid-answer). Not called after abort(). */
  error(err: Error): void;
}

const ABORTED = new Error('upstream request aborted');

const CONTENT_TYPE = Buffer.from('content-type');

/**
 * The response's content type from undici's raw header list (name, value, …; names as sent): the one value of a
 * `content-type` header of any case, or application/octet-stream for none or several (what undici's parsed header
 * object gave: an array for a repeated header).
 */
export function contentTypeOf(raw: readonly (Buffer | string)[]): string {
  let type: string | undefined;
  let seen = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== CONTENT_TYPE.length || !isContentType(name)) continue;
    const value = raw[i + 1]!;
    type = typeof value === 'string' ? value : value.toString('latin1');
    seen++;
  }
  return seen === 1 ? type! : 'application/octet-stream';
}

/** `name` is `content-type` in any letter case (a Buffer from the parser, or a string). */
function isContentType(name: Buffer | string): boolean {
  if (typeof name === 'string') return name.toLowerCase() === 'content-type';
  for (let j = 0; j < CONTENT_TYPE.length; j++) {
    const b = name[j]!;
    if ((b >= 0x41 && b <= 0x5a ? b + 0x20 : b) !== CONTENT_TYPE[j]) return false;
  }
  return true;
}

/**
 * One request to the model server and its answer, as an undici dispatch handler: no stream objects, the chunks go to
 * the sink as they are parsed. pause()/resume() stop and restart reading the answer (the socket's, so TCP
 * backpressure reaches the model server); abort() closes the connection (the model server sees the caller leave).
 *
 * It implements undici's own handler interface (onConnect, onHeaders, onData, onComplete, onError: what its
 * clients call), which its types mark deprecated: a handler of the newer interface (onRequestStart, …) is wrapped
 * per request in an adapter that also builds a controller and a parsed header object for the head and the trailers
 * (undici's UnwrapHandler), which is what this saves. The semantics are the adapter's: returning false from onHeaders
 * or onData pauses the parser, the `resume` given with the head restarts it.
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  private abortDispatch: ((err?: Error) => void) | undefined;
  private resumeDispatch: (() => void) | undefined;
  private aborted = false;
  private paused = false;

  constructor(
    private readonly sink: UpstreamSink,
    /** Called once the exchange is over, however it ended (closes a connection of its own). */
    private readonly over?: (failed: boolean) => void,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.abortDispatch = abort;
    if (this.aborted) abort(ABORTED);
  }

  onHeaders(status: number, headers: Buffer[], resume: () => void): boolean {
    this.resumeDispatch = resume;
    if (!this.aborted) this.sink.head(status, contentTypeOf(headers));
    return !this.paused;
  }

  onData(chunk: Buffer): boolean {
    if (!this.aborted) this.sink.data(chunk);
    return !this.paused;
  }

  onComplete(): void {
    this.over?.(false);
    if (!this.aborted) this.sink.end();
  }

  onError(err: Error): void {
    this.over?.(true);
    if (!this.aborted) this.sink.error(err);
  }

  /** Stop reading the answer (the parser stops after the chunk being handed over, if any). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeDispatch?.();
  }

  /** Ends the exchange at once; the sink hears nothing more. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortDispatch?.(ABORTED);
  }
}

/** Starts a request to the model server; its answer goes to `sink`. */
export function upstreamCall(base: string, opts: UpstreamCallOptions, sink: UpstreamSink): UpstreamCall {
  const target = targetOf(base, opts.path);
  const headers = headersFor(target, opts.headers, opts.body !== undefined);
  const options: Dispatcher.DispatchOptions = { method: opts.method, path: target.path, headers, body: opts.body ?? null };
  if (!opts.fresh) {
    const call = new UpstreamCall(sink);
    poolFor(target.origin).dispatch(options, call);
    return call;
  }
  const client = freshClient(target.origin);
  const call = new UpstreamCall(sink, (failed) => void (failed ? client.destroy() : client.close()).catch(() => undefined));
  // The one exchange of this connection: no keep-alive to hold it open afterwards.
  client.dispatch({ ...options, reset: true }, call);
  return call;
}

/** Small GET for probes and health checks: status and (bounded) body text, or an error (also after `timeoutMs`). */
export function upstreamGet(base: string, path: string, timeoutMs: number, maxBytes = 256 * 1024, fresh = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let status = 0;
    let n = 0;
    const timer = setTimeout(() => {
      call.abort();
      reject(new Error('upstream timeout'));
    }, timeoutMs);
    const call = upstreamCall(base, { method: 'GET', path, fresh }, {
      head: (s) => (status = s),
      data: (c) => {
        n += c.length;
        // Keep a copy: the chunk is a view of the socket's read buffer.
        if (n <= maxBytes) parts.push(Buffer.from(c));
      },
      end: () => {
        clearTimeout(timer);
        resolve({ status, text: Buffer.concat(parts).toString('utf8') });
      },
      error: (err) => {
        clearTimeout(timer);
        reject(err);
      },
    });
  });
}

/** Errors that prove the request never reached the model, so another connector may take it. */
export function isConnectError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENETUNREACH';
}

/**
 * A pooled keep-alive socket failed before any response: the server most likely closed it as we reused it (its idle
 * timeout raced our request), so the request never reached the model and one retry on a new connection is safe.
 * (undici's UND_ERR_SOCKET is the server closing the connection without a reset, http's "socket hang up".)
 */
export function isStaleSocketError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return onReusedSocket(err) && (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET');
}
