import type { ServerResponse } from 'node:http';

/**
 * Bodies up to this many bytes are handed to Node as a latin1 string rather than a Buffer. Node's `end(buffer)` queues
 * the header text, the body and an empty end marker as three socket writes (one writev of three parts, mixed strings
 * and buffers); a string is joined to the header text first (OutgoingMessage._send), so it is two. latin1 maps each
 * byte to one character and back, so the bytes on the wire are the same. Larger bodies stay Buffers: copying them
 * into a string and out again would cost more than the write it saves.
 */
export const ONE_STRING_MAX_BYTES = 16 * 1024;

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
  if (body.length <= ONE_STRING_MAX_BYTES) res.end(body.toString('latin1'), 'latin1');
  else res.end(body);
}
