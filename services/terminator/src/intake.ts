import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { subjects, tailToken, wildcard } from '@tokios/shared/subjects';
import { FrameKind, ProtocolError, decodeFrame, encodeFrame, fastRequest, frameKindName, type RequestMeta, type ResumeMeta } from '@tokios/shared/protocol';
import type { TunnelRegistry } from './registry.js';
import type { Tunnel } from './tunnel.js';
import { AckBatcher } from './ack-batcher.js';
import { AckFrames } from './ack-frames.js';
import { RelayStream, type RelayContext } from './relay.js';
import { EndedArchive } from './ended-archive.js';
import type { TerminatorObserver } from './metrics.js';
import { REPLAY_KEEP_MS } from './replay.js';
import { PairHeartbeats } from './pair-heartbeats.js';
import { TurnFlush } from './turn-flush.js';
import { RequestSubjects } from './request-subjects.js';

/**
 * A stream whose ingress does not take what we publish (no responders) is cancelled after this: long enough for an
 * ingress that reconnects to NATS to come back and ask for a replay, short enough that the model stops within 1 s
 * of a dead ingress.
 */
export const INGRESS_AWAY_MS = 750;

export interface IntakeOptions {
  /**
   * A stream silent this long gets a Heartbeat towards the ingress; an ingress that reads pair heartbeats gets one
   * PairHeartbeat per this period listing its streams silent for half of it.
   */
  heartbeatMs: number;
  /** How long an Ack may wait for the first answer frame (AckBatcher; default ACK_DEFER_MS). */
  ackDeferMs?: number;
  /** Told how each stream ended (metrics). */
  observer?: Pick<TerminatorObserver, 'streamDone'>;
}

/**
 * The NATS side of a terminator: takes Requests from its request subjects (RequestSubjects), turns each into a
 * RelayStream, and routes body parts, cancels and no-responders notices (`tokios.term.<id>.<rid>`) to their stream;
 * keeps ended streams for a Resume, and ticks the heartbeats.
 */
export class RequestIntake {
  private readonly requestSubs: RequestSubjects;
  private readonly streams = new Map<string, RelayStream>();
  /** Streams that ended in the last REPLAY_KEEP_MS, oldest first: a Resume may still ask for their last frames. */
  private readonly ended: EndedArchive;
  private readonly acks: AckBatcher;
  private readonly turn = new TurnFlush();
  /** What every RelayStream of this intake shares (one object, not one per request). */
  private readonly relayContext: RelayContext;
  private controlSub: Subscription | undefined;
  private idleWaiters: (() => void)[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pairTimer: NodeJS.Timeout | undefined;
  private readonly pairs: PairHeartbeats;
  private readonly prefix: string;

  constructor(
    private readonly terminatorId: string,
    private readonly nc: NatsConnection,
    private readonly registry: TunnelRegistry<Tunnel>,
    private readonly log: Logger,
    private readonly opts: IntakeOptions,
  ) {
    this.prefix = subjects.terminatorPrefix(terminatorId);
    this.ended = new EndedArchive(this.prefix);
    this.acks = new AckBatcher(opts.ackDeferMs);
    this.relayContext = {
      nc, registry, log, acks: this.acks, ackFrames: new AckFrames(terminatorId), turn: this.turn,
      onDone: (s, result) => {
        this.streamDone(s);
        this.opts.observer?.streamDone(result);
        // One line per request, ids and outcome only (never a body); not even built when info is off.
        if (this.log.isLevelEnabled('info')) this.log.info(
          { reqId: s.meta.requestId, rid: s.rid, deploymentId: s.deploymentId, connectorId: s.connectorId, protocol: s.meta.protocol, result, ms: Date.now() - s.startedAt },
          'request done',
        );
      },
    };
    this.pairs = new PairHeartbeats(terminatorId, nc, log);
    this.requestSubs = new RequestSubjects(nc, log, (msg, deploymentId, connectorId) => this.onRequest(msg, deploymentId, connectorId));
  }

  start(): void {
    this.controlSub = this.nc.subscribe(wildcard(this.prefix), { callback: (_e, msg) => this.onControl(msg) });
    // Ticks at half the period, so a silent stream's heartbeats are at most 1.5 periods apart: the ingress's stall
    // timeout (900 ms) sees three of them, and a dead terminator is the only thing that goes silent that long.
    this.heartbeatTimer = setInterval(() => this.heartbeats(this.opts.heartbeatMs), Math.max(10, Math.floor(this.opts.heartbeatMs / 2)));
    this.heartbeatTimer.unref();
    // Once a period per ingress, listing what was silent for half of it: a stream is listed at most 1.5 periods
    // after its last frame and every period after that, as far apart as its own Heartbeats would be.
    this.pairTimer = setInterval(() => this.pairHeartbeats(Math.floor(this.opts.heartbeatMs / 2)), this.opts.heartbeatMs);
    this.pairTimer.unref();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Deployments whose request subject this terminator subscribes now. */
  get deployments(): number {
    return this.requestSubs.deployments;
  }

  /** Called by the registry when a deployment gains its first or loses its last routable tunnel here. */
  setRoutable(deploymentId: string, routable: boolean): void {
    this.requestSubs.setRoutable(deploymentId, routable);
  }

  /** Called by the registry when a connector gains its first or loses its last routable tunnel here. */
  setConnectorRoutable(deploymentId: string, connectorId: string, routable: boolean): void {
    this.requestSubs.setConnectorRoutable(deploymentId, connectorId, routable);
  }

  /** Heartbeats for streams that have been silent for `idleMs`. */
  heartbeats(idleMs: number): void {
    const now = Date.now();
    for (const s of [...this.streams.values()]) {
      if (s.awayFor(now) > INGRESS_AWAY_MS) {
        this.log.info({ reqId: s.meta.requestId, rid: s.rid }, 'ingress is gone; cancelling');
        s.cancel('ingress gone');
      } else if (s.beatIngress === undefined) s.heartbeat(now, idleMs);
    }
    this.ended.prune(now - REPLAY_KEEP_MS);
  }

  /** One PairHeartbeat (in as many messages as it takes) per ingress, listing its streams silent for `idleMs`. */
  pairHeartbeats(idleMs: number): number {
    return this.pairs.publish(this.streams.values(), Date.now(), idleMs);
  }

  /** This terminator's NATS connection is back: every stream (and those that ended meanwhile) says where it is. */
  reconnected(): void {
    for (const s of this.streams.values()) s.reconnected();
    for (const e of this.ended.all()) e.reconnected(this.publishTo);
  }

  /** Cancels every stream (their frames could be lost, e.g. during a NATS reconnect). */
  cancelAll(reason: string): void {
    for (const s of [...this.streams.values()]) s.cancel(reason);
  }

  /** Stops taking requests (terminator drain); Requests NATS already delivered are answered Reject draining. */
  stopTaking(timeoutMs = 2_000): Promise<void> {
    return this.requestSubs.stopTaking(timeoutMs);
  }

  /** Resolves once no stream is in flight, or after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<void> {
    if (this.streams.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }

  private streamDone(s: RelayStream): void {
    this.streams.delete(s.rid);
    s.archive(this.ended, Date.now());
    if (this.streams.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  close(reason: string): void {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.pairTimer);
    this.requestSubs.close();
    this.controlSub?.unsubscribe();
    for (const s of [...this.streams.values()]) s.fail('tunnel_lost', reason);
    this.acks.close();
    this.turn.flush();
  }

  /** `connectorId`: the request came on that connector's own subject and may be placed only there. */
  private onRequest(msg: Msg, deploymentId: string, connectorId?: string): void {
    const reply = msg.reply;
    if (!reply || !reply.startsWith('tokios.in.')) {
      this.log.warn({ deploymentId }, 'request without a valid reply subject; dropped');
      return;
    }
    let meta: RequestMeta;
    let payload: Buffer;
    let tunnelMeta: Buffer | undefined;
    try {
      // The ingress's own form is read from its bytes (request-fast.ts); anything else is decoded and validated as usual.
      const fast = fastRequest(msg.data);
      tunnelMeta = fast?.tunnelMeta;
      const frame = fast?.frame ?? decodeFrame(msg.data);
      if (frame.kind !== FrameKind.Request) throw new ProtocolError(`expected Request, got ${frameKindName(frame.kind)}`);
      meta = frame.meta;
      payload = frame.payload;
      if (payload.length > meta.bodyLength) throw new ProtocolError('inline body longer than announced');
    } catch (err) {
      this.log.warn({ deploymentId, err: (err as Error).message }, 'malformed request message');
      this.safePublish(reply, encodeFrame(FrameKind.Error, 0, { code: 'protocol_error', message: 'malformed request envelope' }));
      return;
    }
    if (this.streams.has(meta.rid)) return; // duplicate delivery
    if (this.requestSubs.refusing) {
      this.safePublish(reply, encodeFrame(FrameKind.Reject, 0, { reason: 'draining', message: 'terminator draining' }));
      return;
    }
    const stream = new RelayStream(
      this.relayContext,
      // The rid passed the Request's metadata check (an id: a subject token), and the prefix is ours.
      meta, deploymentId, reply, this.prefix + meta.rid, Buffer.from(payload), tunnelMeta, connectorId,
    );
    this.streams.set(meta.rid, stream);
    stream.place();
  }

  /** Body parts, cancels, resumes and flow control (Pause/Unpause) from the ingress, and no-responders notices when the ingress is gone. */
  private onControl(msg: Msg): void {
    const rid = tailToken(msg.subject, this.prefix);
    if (!rid) return this.onPairReply(msg);
    const stream = this.streams.get(rid);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      // Nobody took what we published: the ingress died, or it is reconnecting to NATS (then it asks for a replay
      // within INGRESS_AWAY_MS). heartbeats() cancels the stream once it stays away longer.
      stream?.ingressAway(Date.now());
      return;
    }
    stream?.ingressBack();
    try {
      const frame = decodeFrame(msg.data);
      if (frame.kind === FrameKind.Resume) return this.onResume(rid, frame.meta, stream, msg.reply);
      if (!stream) return;
      if (frame.kind === FrameKind.Body) stream.onBody(Buffer.from(frame.payload));
      else if (frame.kind === FrameKind.Cancel) stream.cancel('cancelled by caller');
      else if (frame.kind === FrameKind.Pause) stream.pause(frame.meta.ms);
      else if (frame.kind === FrameKind.Unpause) stream.unpause();
      else throw new ProtocolError(`unexpected ${frameKindName(frame.kind)} on control subject`);
    } catch (err) {
      this.log.warn({ rid, err: (err as Error).message }, 'malformed control message');
    }
  }

  /**
   * A no-responders notice for a PairHeartbeat: that ingress is gone (or reconnecting to NATS), for every stream the
   * heartbeat listed as for one of its own frames. heartbeats() cancels them once it stays away INGRESS_AWAY_MS.
   */
  private onPairReply(msg: Msg): void {
    if (msg.data.length !== 0 || msg.headers?.code !== 503) return;
    const ingress = this.pairs.ingressOfReply(msg.subject);
    if (ingress === undefined) return;
    const now = Date.now();
    for (const s of this.streams.values()) if (s.beatIngress === ingress) s.ingressAway(now);
  }

  /** An ingress lost part of an answer: replay it, or say the stream is unknown here so it fails at once. */
  private onResume(rid: string, have: ResumeMeta, live: RelayStream | undefined, reply: string | undefined): void {
    if (live) return live.resume(have);
    const ended = this.ended.get(rid);
    if (ended) return ended.resume(have, this.publishTo, this.log);
    if (reply?.startsWith('tokios.in.')) {
      this.safePublish(reply, encodeFrame(FrameKind.Error, 0, { code: 'tunnel_lost', message: 'the terminator no longer has this stream' }));
    }
  }

  /** How an ended stream publishes what it sends again. */
  private readonly publishTo = (reply: string, control: string, frame: Uint8Array): void => {
    // The stream's last frames may still wait for the end of the turn: they go first.
    this.turn.flush();
    try {
      this.nc.publish(reply, frame, { reply: control });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'publish to ingress failed');
    }
  };

  private safePublish(subject: string, data: Uint8Array): void {
    try {
      this.nc.publish(subject, data);
    } catch {
      /* subject or connection unusable */
    }
  }
}
