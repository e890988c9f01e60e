import http from 'node:http';
import https from 'node:https';

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 1024 });

export interface UpstreamCallOptions {
  method: 'GET' | 'POST';
  path: string;
  body?: string | Buffer | undefined;
  headers?: Record<string, string>;
  timeoutMs?: number;
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
    agent: isHttps ? httpsAgent : httpAgent,
    timeout: opts.timeoutMs,
  });
  if (opts.timeoutMs) req.on('timeout', () => req.destroy(new Error('upstream timeout')));
  req.end(opts.body);
  return req;
}

/** Small GET for probes and health checks: status and (bounded) body text, or an error. */
export function upstreamGet(base: string, path: string, timeoutMs: number, maxBytes = 256 * 1024): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = upstreamRequest(base, { method: 'GET', path, timeoutMs });
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
