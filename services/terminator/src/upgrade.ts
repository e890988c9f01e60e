import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export const TUNNEL_PATHS = ['/v1/tunnel', '/tunnel'];

export function isTunnelPath(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0] ?? '';
  return TUNNEL_PATHS.includes(path);
}

/** The tunnel token from `Authorization: Bearer …`, or undefined when missing or implausibly long. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization ?? '';
  const secret = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
  return secret && secret.length <= 512 ? secret : undefined;
}

const REASONS: Record<number, string> = { 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** Answers a refused WebSocket upgrade with a plain HTTP error and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: 401 | 404 | 429 | 503, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
