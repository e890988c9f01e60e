import type { ServerResponse } from 'node:http';

/**
 * Writes a whole (non-streamed) answer in one writeHead and one end, with the header list the caller built: what
 * Fastify's Reply.send would have produced for a Buffer payload (its header, content-type and onSend passes cost
 * every request, and this app registers no hook that needs them). Fastify's rules are kept: an empty content type is
 * sent as application/octet-stream, and a 204 carries neither content headers nor a body. Throws as writeHead does
 * (a status or header value it refuses) before anything is written, so the caller can still answer with an error.
 */
export function writeBufferedAnswer(res: ServerResponse, status: number, contentType: string, body: Buffer, headers: string[]): void {
  if (status === 204) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  headers.push('content-type', contentType === '' ? 'application/octet-stream' : contentType, 'content-length', String(body.length));
  res.writeHead(status, headers);
  res.end(body);
}
