import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from '@tokios/shared/log';
import type { Store } from '@tokios/shared/store';
import { REQUEST_QUEUE, subjects, tailToken, wildcard } from '@tokios/shared/subjects';
import {
  FrameKind, ProtocolError, decodeFrame, encodeFrame, parseMeta, peekKind, type HelloMeta,
} from '@tokios/shared/protocol';
import type { TerminatorOptions } from './config.js';
import { TunnelRegistry } from './registry.js';
import { CloseCode, Tunnel } from './tunnel.js';
import { RelayStream } from './relay.js';
import { Presence } from './presence.js';

export const TUNNEL_PATHS = ['/v1/tunnel', '/tunnel'];
const HELLO_TIMEOUT_MS = 10_000;

/**
 * Holds connectors' WebSockets and serves the requests NATS routes to the deployments they carry.
 * Subscribes `tokios.req.<deployment>` (queue group) only while it has a routable tunnel for it.
 */
export class Terminator {
  readonly id = `trm_${randomBytes(6).toString('hex')}`;
  private readonly wss: WebSocketServer;
  private readonly registry: TunnelRegistry;
  private readonly subs = new Map<string, Subscription>();
  private readonly streams = new Map<string, RelayStream>();
  private controlSub: Subscription | undefined;
  private presence: Presence | undefined;
  private timers: NodeJS.Timeout[] = [];
  private server: Server | undefined;
  private closing = false;

  constructor(
    private readonly opts: TerminatorOptions,
    private readonly nc: NatsConnection,
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes, perMessageDeflate: false });
    this.registry = new TunnelRegistry((dep, routable) => this.onRoutableChange(dep, routable));
  }

  start(): void {
    const prefix = subjects.terminatorPrefix(this.id);
    this.controlSub = this.nc.subscribe(wildcard(prefix), { callback: (_e, msg) => this.onControl(msg, prefix) });
    this.presence = new Presence(this.nc, this.id, this.opts.publicUrl, this.log);
    this.presence.start();
    const hb = setInterval(() => this.sweepStreams(), this.opts.heartbeatMs);
    const ping = setInterval(() => this.pingTunnels(), this.opts.pingIntervalMs);
    hb.unref();
    ping.unref();
    this.timers.push(hb, ping);
    void this.watchNats();
    this.log.info({ terminatorId: this.id, publicUrl: this.opts.publicUrl }, 'terminator started');
  }

  /** Standalone HTTP server that only accepts tunnel upgrades (and answers /healthz). */
  listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, id: this.id }));
        return;
      }
      res.writeHead(426, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'tunnel endpoint: upgrade to WebSocket' }));
    });
    server.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  isTunnelPath(url: string | undefined): boolean {
    const path = (url ?? '').split('?')[0] ?? '';
    return TUNNEL_PATHS.includes(path);
  }

  /** Authenticates the tunnel token before completing the WebSocket handshake. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    if (!this.isTunnelPath(req.url) || this.closing) {
      rejectUpgrade(socket, this.closing ? 503 : 404, this.closing ? 'terminator shutting down' : 'not a tunnel path');
      return;
    }
    const auth = req.headers.authorization ?? '';
    const secret = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (!secret || secret.length > 256) {
      rejectUpgrade(socket, 401, 'missing tunnel token');
      return;
    }
    this.store.findTunnelTokenBySecret(secret).then(
      async (token) => {
        if (!token || token.revokedAt) {
          rejectUpgrade(socket, 401, 'invalid or revoked tunnel token');
          return;
        }
        const dep = await this.store.getDeployment(token.deploymentId);
        if (!dep) {
          rejectUpgrade(socket, 401, 'the deployment of this token no longer exists');
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, dep.id, dep.name, token.id));
      },
      (err: unknown) => {
        this.log.error({ err: (err as Error).message }, 'store lookup failed during tunnel upgrade');
        rejectUpgrade(socket, 503, 'control store unavailable');
      },
    );
  }

  private accept(ws: WebSocket, deploymentId: string, deploymentName: string, tokenId: string): void {
    let tunnel: Tunnel | undefined;
    const helloTimer = setTimeout(() => ws.terminate(), HELLO_TIMEOUT_MS);
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'tunnel socket error'));
    ws.on('close', () => {
      clearTimeout(helloTimer);
      if (tunnel) this.onTunnelClosed(tunnel);
    });
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer;
      if (!isBinary) {
        ws.close(CloseCode.ProtocolError, 'binary frames only');
        return;
      }
      try {
        if (!tunnel) {
          const frame = decodeFrame(buf);
          if (frame.kind !== FrameKind.Hello) throw new ProtocolError('first frame must be Hello');
          const hello = parseMeta(frame as typeof frame & { kind: typeof FrameKind.Hello });
          clearTimeout(helloTimer);
          tunnel = this.register(ws, deploymentId, deploymentName, tokenId, hello);
          return;
        }
        tunnel.lastSeen = Date.now();
        this.onTunnelFrame(tunnel, buf);
      } catch (err) {
        this.log.warn({ tunnel: tunnel?.id, err: (err as Error).message }, 'bad frame from connector; closing tunnel');
        ws.close(CloseCode.ProtocolError, truncate((err as Error).message, 120));
      }
    });
  }

  private register(ws: WebSocket, deploymentId: string, deploymentName: string, tokenId: string, hello: HelloMeta): Tunnel {
    const id = `tun_${randomBytes(6).toString('hex')}`;
    const t = new Tunnel(id, ws, deploymentId, tokenId, hello, this.opts.maxTunnelBufferBytes, this.log);
    t.sendControl(FrameKind.Welcome, 0, {
      terminatorId: this.id,
      deploymentId,
      deploymentName,
      pingIntervalMs: this.opts.pingIntervalMs,
      peers: this.presence?.livePeers() ?? [],
    });
    this.registry.add(t);
    this.log.info(
      { tunnel: id, deploymentId, connectorId: hello.connectorId, version: hello.version, upstreamKind: hello.upstreamKind, maxConcurrency: hello.maxConcurrency },
      'tunnel established',
    );
    return t;
  }

  private onTunnelFrame(t: Tunnel, buf: Buffer): void {
    const kind = peekKind(buf);
    if (kind === FrameKind.Data) {
      // hot path: no metadata to parse
      if (buf.length < 9) throw new ProtocolError('short Data frame');
      t.streams.get(buf.readUInt32BE(1))?.onData(buf);
      return;
    }
    const frame = decodeFrame(buf);
    switch (frame.kind) {
      case FrameKind.Ping:
        t.sendControl(FrameKind.Pong, frame.id);
        return;
      case FrameKind.Pong:
        return;
      case FrameKind.Status: {
        const s = parseMeta(frame as typeof frame & { kind: typeof FrameKind.Status });
        this.registry.update(t, () => {
          t.healthy = s.healthy;
          t.draining = s.draining;
        });
        this.log.info({ tunnel: t.id, connectorId: t.connectorId, ...s }, 'connector status');
        return;
      }
      case FrameKind.Head:
        parseMeta(frame as typeof frame & { kind: typeof FrameKind.Head });
        t.streams.get(frame.id)?.onHead(buf);
        return;
      case FrameKind.End: {
        const m = parseMeta(frame as typeof frame & { kind: typeof FrameKind.End });
        t.streams.get(frame.id)?.onEnd(m.usage);
        return;
      }
      case FrameKind.Error: {
        const m = parseMeta(frame as typeof frame & { kind: typeof FrameKind.Error });
        t.streams.get(frame.id)?.onError(m.code, m.message, m.param);
        return;
      }
      case FrameKind.Reject: {
        const m = parseMeta(frame as typeof frame & { kind: typeof FrameKind.Reject });
        t.streams.get(frame.id)?.onReject(m);
        return;
      }
      default:
        throw new ProtocolError(`unexpected frame kind ${frame.kind} from connector`);
    }
  }

  private onTunnelClosed(t: Tunnel): void {
    t.closed = true;
    this.registry.remove(t);
    for (const s of [...t.streams.values()]) s.fail('tunnel_lost', 'the connector disconnected mid-request');
    this.log.info({ tunnel: t.id, connectorId: t.connectorId, deploymentId: t.deploymentId }, 'tunnel closed');
  }

  private onRoutableChange(deploymentId: string, routable: boolean): void {
    if (routable && !this.subs.has(deploymentId)) {
      const sub = this.nc.subscribe(subjects.request(deploymentId), {
        queue: REQUEST_QUEUE,
        callback: (_e, msg) => this.onRequest(msg, deploymentId),
      });
      this.subs.set(deploymentId, sub);
      this.log.debug({ deploymentId }, 'serving deployment');
    } else if (!routable) {
      this.subs.get(deploymentId)?.unsubscribe();
      this.subs.delete(deploymentId);
      this.log.debug({ deploymentId }, 'no longer serving deployment');
    }
  }

  private onRequest(msg: Msg, deploymentId: string): void {
    const reply = msg.reply;
    if (!reply || !reply.startsWith('tokios.in.')) {
      this.log.warn({ deploymentId }, 'request without a valid reply subject; dropped');
      return;
    }
    let meta;
    let payload: Buffer;
    try {
      const frame = decodeFrame(msg.data);
      if (frame.kind !== FrameKind.Request) throw new ProtocolError(`expected Request, got kind ${frame.kind}`);
      meta = parseMeta(frame as typeof frame & { kind: typeof FrameKind.Request });
      payload = frame.payload;
      if (payload.length > meta.bodyLength) throw new ProtocolError('inline body longer than announced');
    } catch (err) {
      this.log.warn({ deploymentId, err: (err as Error).message }, 'malformed request message');
      this.safePublish(reply, encodeFrame(FrameKind.Error, 0, { code: 'protocol_error', message: 'malformed request envelope' }));
      return;
    }
    if (this.streams.has(meta.rid)) return; // duplicate delivery
    const control = subjects.terminator(this.id, meta.rid);
    const stream = new RelayStream(
      { terminatorId: this.id, nc: this.nc, registry: this.registry, log: this.log, onDone: (s) => this.streams.delete(s.rid) },
      meta, deploymentId, reply, control, Buffer.from(payload),
    );
    this.streams.set(meta.rid, stream);
    stream.place();
  }

  /** Body parts and cancels from the ingress, and no-responders notices when the ingress is gone. */
  private onControl(msg: Msg, prefix: string): void {
    const rid = tailToken(msg.subject, prefix);
    const stream = rid ? this.streams.get(rid) : undefined;
    if (!stream) return;
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      this.log.info({ rid }, 'ingress is gone; cancelling');
      stream.cancel('ingress gone');
      return;
    }
    try {
      const frame = decodeFrame(msg.data);
      if (frame.kind === FrameKind.Body) stream.onBody(Buffer.from(frame.payload));
      else if (frame.kind === FrameKind.Cancel) stream.cancel('cancelled by caller');
      else throw new ProtocolError(`unexpected kind ${frame.kind} on control subject`);
    } catch (err) {
      this.log.warn({ rid, err: (err as Error).message }, 'malformed control message');
    }
  }

  private sweepStreams(): void {
    const now = Date.now();
    for (const s of this.streams.values()) if (now - s.lastSent >= this.opts.heartbeatMs) s.heartbeat(now);
  }

  private pingTunnels(): void {
    const now = Date.now();
    for (const t of this.registry.tunnels()) {
      if (now - t.lastSeen > this.opts.pingIntervalMs * 3) t.terminate(CloseCode.PingTimeout, 'ping timeout');
      else t.sendControl(FrameKind.Ping, 0);
    }
  }

  /** A NATS outage drops publishes silently, so streams in flight cannot be trusted: end them. */
  private async watchNats(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        for (const stream of [...this.streams.values()]) stream.cancel('nats disconnected');
      }
    }
  }

  /** Live tunnels, for status pages and tests. */
  snapshot(): { id: string; tunnels: { id: string; deploymentId: string; connectorId: string; healthy: boolean; draining: boolean; inFlight: number }[] } {
    return {
      id: this.id,
      tunnels: this.registry.tunnels().map((t) => ({
        id: t.id, deploymentId: t.deploymentId, connectorId: t.connectorId, healthy: t.healthy, draining: t.draining, inFlight: t.streams.size,
      })),
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    this.presence?.stop();
    for (const sub of this.subs.values()) sub.unsubscribe();
    this.subs.clear();
    this.controlSub?.unsubscribe();
    for (const s of [...this.streams.values()]) s.fail('tunnel_lost', 'terminator shutting down');
    for (const t of this.registry.tunnels()) {
      t.sendControl(FrameKind.GoAway, 0, { reason: 'terminator shutting down' });
      t.close(CloseCode.GoingAway, 'terminator shutting down');
    }
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.wss.close();
  }

  private safePublish(subject: string, data: Uint8Array): void {
    try {
      this.nc.publish(subject, data);
    } catch {
      /* subject or connection unusable */
    }
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  const reason = status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Service Unavailable';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
