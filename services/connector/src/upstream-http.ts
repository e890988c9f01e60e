import http from 'node:http';
import https from 'node:https';

/**
 * Idle keep-alive sockets are closed after this, below the keep-alive timeout of common model servers (uvicorn
 * behind vLLM and SGLang, Node: 5 s), so we rarely reuse a socket the server is closing at that very moment. (Node
 * also honours a shorter `Keep-Alive: timeout=` hint.) The race cannot be ruled out, hence the one retry below.
 */
export const UPSTREAM_IDLE_MS = 4_000;

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 1024, timeout: UPSTREAM_IDLE_MS });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 1024, timeout: UPSTREAM_IDLE_MS });

export interface UpstreamCallOptions {
  method: 'GET' | 'POST';
  path: string;
  body?: string | Buffer | undefined;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** A new connection instead of a pooled keep-alive socket (the retry after a reused socket failed). */
  fresh?: boolean;
}

/** Starts an HTTP request to the model server; the caller handles the response stream and aborts. */
export function upstreamRequest(base: string, opts: UpstreamCallOptions): http.ClientRequest {
  const url = new URL(base + opts.path);
  const isHttps = url.protocol === 'https:';
  const headers: Record<string, string | number> = { accept: '*/*', ...opts.headers };
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = Buffer.byteLength(opts.body);
  }
  const req = (isHttps ? https : http).request(url, {
    method: opts.method,
    headers,
    agent: opts.fresh ? false : isHttps ? httpsAgent : httpAgent,
    timeout: opts.timeoutMs,
  });
  if (opts.timeoutMs) req.on('timeout', () => req.destroy(new Error('upstream timeout')));
  req.end(opts.body);
  return req;
}

/** Small GET for probes and health checks: status and (bounded) body text, or an error. */
export function upstreamGet(base: string, path: string, timeoutMs: number, maxBytes = 256 * 1024, fresh = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = upstreamRequest(base, { method: 'GET', path, timeoutMs, fresh });
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n <= maxBytes) parts.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
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
 */
export function isStaleSocketError(req: http.ClientRequest, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE');
}
