import { loggableParam, type Logger } from '@tokios/shared/log';
import { FrameKind, chunkBytes, encodeFrame, endMetaJson, headMetaJson, metaBytes, type EndMeta, type HeadMeta, type RejectReason, type RequestMeta, type Usage } from '@tokios/shared/protocol';
import { TokiosError } from '@tokios/shared/errors';
import { MAX_JSON_DEPTH, jsonDeeperThan } from '@tokios/shared/codec';
import type { TunnelClient } from './tunnel-client.js';
import { StreamOutbox } from './tunnel-sender.js';
import { OutFrame, type StreamFrameOut } from './out-frame.js';
import { isConnectError, isStaleSocketError, upstreamCall, type UpstreamCall } from './upstream-http.js';
import { planTranslation, type AnswerTranslator, type UpstreamPlan, type UpstreamTarget } from '@tokios/shared/translate';
import type { RequestObserver } from './metrics.js';
import { ReadGate } from './read-gate.js';
import { DeadlineTimer } from './deadline-timer.js';

/** Pause reading the model's answer while the tunnel has this much unsent. */
const TUNNEL_HIGH_WATER = 4 * 1024 * 1024;

export interface RequestContext {
  upstreamBase: string;
  log: Logger;
  /** The model server, and the model name it is asked for when callers name this deployment. */
  upstream(deploymentName: string): UpstreamTarget;
  /** The model server refused a connection: stop taking traffic until a health check passes. */
  upstreamDown(): void;
  done(req: ActiveRequest): void;
  observer?: RequestObserver;
}

/**
 * One request from the tunnel to the local model server, streamed back frame by frame. Only I/O lives here: what
 * goes to the model server and what the caller gets back is the translation plan's business (shared/src/translate).
 */
export class ActiveRequest {
  private readonly body: Buffer[] = [];
  private received = 0;
  private upstream: UpstreamCall | undefined;
  /** The answer's translator, once the model server's head came. */
  private translator: AnswerTranslator | undefined;
  private upstreamStatus = 0;
  /** Request fields the plan ignored, for Head. */
  private ignored: readonly string[] | undefined;
  private frames = 0;
  /** Answer bytes waiting for the end of this event-loop turn, to leave as one Data frame. */
  private pending: Buffer[] = [];
  /**
   * Translated answer text after `pending`, not yet encoded: the translators give one small string per upstream
   * chunk, and one UTF-8 encoding of their concatenation per frame costs half of one Buffer.from per chunk.
   */
  private pendingText = '';
  /** Bytes in `pending` plus characters in `pendingText` (at most its byte length: flushData splits what is over). */
  private pendingBytes = 0;
  private flushQueued = false;
  private finished = false;
  private readonly deadline: DeadlineTimer;
  private readonly started = Date.now();
  /** The caller's status as sent in Head. */
  private status: number | undefined;
  /** How it ended: ok, an error registry code, rejected, cancelled (logs and metrics). */
  private outcome = 'ok';
  /** This stream's frames of the current turn, to leave as one tunnel message (TunnelSender). */
  private readonly outbox: StreamOutbox;
  /** Whether the model's answer is read now (tunnel buffer, caller's Pause). */
  private readonly gate = new ReadGate(() => this.ctx.log.info({ reqId: this.meta.requestId, rid: this.meta.rid }, 'pause lease expired; reading the model answer again'));

  constructor(
    private readonly ctx: RequestContext,
    readonly tunnel: TunnelClient,
    readonly sid: number,
    readonly meta: RequestMeta,
  ) {
    this.outbox = new StreamOutbox(sid);
    this.deadline = new DeadlineTimer(meta.deadline, () => {
      this.ctx.observer?.upstreamError('timeout');
      this.fail(new TokiosError('timeout'));
    });
  }

  onBody(part: Buffer): void {
    if (this.finished || this.upstream) return;
    // A copy: the frame is a view of the tunnel's read buffer.
    if (part.length > 0) this.body.push(Buffer.from(part));
    this.received += part.length;
    if (this.received > this.meta.bodyLength) return this.fail(new TokiosError('invalid_request', 'request body longer than announced'));
    if (this.received === this.meta.bodyLength) this.start();
  }

  cancel(reason: string): void {
    if (this.finished) return;
    this.outcome = 'cancelled';
    this.ctx.log.info({ reqId: this.meta.requestId, rid: this.meta.rid, reason }, 'request cancelled; aborting upstream');
    this.finish();
  }

  /** The caller stopped reading (Pause): stop reading the model's answer for `ms`, unless renewed or released. */
  hold(ms: number): void {
    if (this.finished) return;
    if (this.gate.hold(ms)) this.ctx.log.debug({ reqId: this.meta.requestId, rid: this.meta.rid, leaseMs: ms }, 'caller not reading; model answer paused');
  }

  release(why: string): void {
    if (this.gate.release()) this.ctx.log.debug({ reqId: this.meta.requestId, rid: this.meta.rid, why }, 'model answer resumed');
  }

  private start(): void {
    if (!this.deadline.start()) return this.fail(new TokiosError('timeout', 'the request deadline passed before it reached the model'));
    // One part (a body that fit in its Request frame) is its copy already; only a body in several parts is joined.
    const body = this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body, this.received);
    // Bytes from the tunnel are untrusted too: bound the parse before it runs (the ingress checks the same).
    if (jsonDeeperThan(body)) return this.fail(new TokiosError('invalid_json', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`));
    let plan: UpstreamPlan;
    try {
      plan = planTranslation(this.meta, body, this.ctx.upstream(this.meta.model));
    } catch (err) {
      return this.fail(err instanceof TokiosError ? err : new TokiosError('invalid_request', (err as Error).message));
    }
    this.body.length = 0;
    this.callUpstream(plan, false);
  }

  private callUpstream(plan: UpstreamPlan, fresh: boolean): void {
    const sentAt = Date.now();
    let answered = false;
    // Assigned after the dispatch: undici reports a request it cannot even send (a bad argument) synchronously.
    let call: UpstreamCall | undefined = undefined;
    call = upstreamCall(this.ctx.upstreamBase, { method: 'POST', path: plan.path, body: plan.body, headers: plan.headers, fresh }, {
      head: (status, contentType) => {
        answered = true;
        this.ctx.observer?.firstByte(this.meta.protocol, Date.now() - sentAt);
        this.onHead(status, contentType, plan);
      },
      data: (chunk) => this.onData(chunk),
      end: () => this.onEnd(),
      error: (err) => {
        if (this.finished || (call !== undefined && call !== this.upstream)) return;
        if (answered) return this.broken((err as NodeJS.ErrnoException).code === 'UND_ERR_SOCKET' ? 'connection closed mid-answer' : err.message);
        this.onCallFailed(err, plan, fresh);
      },
    });
    this.upstream = call;
  }

  /** The model server gave no answer: retried once (stale keep-alive socket), a refusal (another connector may take it), or an error. */
  private onCallFailed(err: Error, plan: UpstreamPlan, fresh: boolean): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (!fresh && isStaleSocketError(err)) {
      this.ctx.log.info({ rid: this.meta.rid, err: code }, 'reused model server connection failed before any answer; retrying on a new one');
      return this.callUpstream(plan, true);
    }
    this.ctx.observer?.upstreamError('unreachable');
    if (isConnectError(err)) {
      this.ctx.upstreamDown();
      return this.reject('unavailable', `model server unreachable (${code})`);
    }
    this.fail(new TokiosError('upstream_unreachable', `model server request failed: ${err.message}`));
  }

  private onHead(upstreamStatus: number, contentType: string, plan: UpstreamPlan): void {
    if (this.finished) return;
    this.upstreamStatus = upstreamStatus;
    this.gate.attach(this.upstream!);
    if (upstreamStatus < 200 || upstreamStatus >= 300) this.ctx.observer?.upstreamError(upstreamStatus >= 500 ? 'http_5xx' : 'http_4xx');
    const translator = plan.translate(upstreamStatus, contentType);
    this.translator = translator;
    this.ignored = plan.ignored !== undefined && plan.ignored.length > 0 ? plan.ignored : undefined;
    // Whole answers whose status depends on the body (errors, aggregated translations) send Head at the end.
    if (translator.headFirst) this.sendHead(translator);
  }

  private sendHead(translator: AnswerTranslator): void {
    this.status = translator.status();
    const head: HeadMeta = { status: this.status, contentType: translator.contentType };
    if (this.ignored !== undefined) head.ignored = [...this.ignored];
    this.sendWithJson(FrameKind.Head, headMetaJson(head));
  }

  private onData(chunk: Buffer): void {
    if (this.finished || this.translator === undefined) return;
    this.sendData(this.translator.push(chunk));
    if (this.tunnel.bufferedAmount > TUNNEL_HIGH_WATER) this.gate.waitForTunnel(() => this.tunnel.bufferedAmount, TUNNEL_HIGH_WATER);
  }

  private onEnd(): void {
    const translator = this.translator;
    if (this.finished || translator === undefined) return;
    const tail = translator.end();
    if (!translator.headFirst) this.sendHead(translator);
    this.addPending(tail);
    const errorCode = translator.errorCode?.();
    // A 2xx answer that is an error all the same: an error event inside the stream (or a body it could not take).
    if (errorCode !== undefined && this.upstreamStatus >= 200 && this.upstreamStatus < 300) this.ctx.observer?.upstreamError('stream');
    this.complete(translator.usage(), errorCode);
  }

  /** The model server's answer broke after its head. */
  private broken(why: string): void {
    const translator = this.translator;
    if (this.finished || translator === undefined) return;
    this.ctx.observer?.upstreamError('stream');
    const message = `model server stream failed: ${why}`;
    if (!translator.headFirst) return this.fail(new TokiosError('upstream_error', message));
    // The head (a 200) is out: the caller gets the error as its protocol's error event, and End says so.
    this.addPending(translator.fail({ code: 'upstream_error', message }));
    this.complete(translator.usage(), 'upstream_error');
  }

  /**
   * Queues answer bytes. The HTTP parser hands over one 'data' event per chunk of the model's chunked response,
   * so one socket read of a fast model yields dozens of tiny SSE events: they are gathered until the end of the
   * current turn (a microtask, so a lone chunk is not delayed) and leave as one Data frame.
   */
  private sendData(out: Buffer | string): void {
    if (out.length === 0) return;
    this.addPending(out);
    if (this.pendingBytes >= this.tunnel.maxDataPayload) this.flushData();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flushData());
    }
  }

  /** Adds answer bytes to what the next Data frame carries (the answer's last ones: complete() flushes them at once). */
  private addPending(out: Buffer | string): void {
    if (out.length === 0) return;
    if (typeof out === 'string') this.pendingText += out;
    else {
      this.takeText();
      this.pending.push(out);
    }
    this.pendingBytes += out.length;
  }

  /** Encodes the pending text, in order, as the next pending part. */
  private takeText(): void {
    if (this.pendingText.length === 0) return;
    this.pending.push(Buffer.from(this.pendingText, 'utf8'));
    this.pendingText = '';
  }

  private flushData(): void {
    this.flushQueued = false;
    if (this.finished) return;
    this.takeText();
    if (this.pending.length === 0) return;
    const parts = this.pending;
    let total = 0;
    for (const p of parts) total += p.length;
    this.pending = [];
    this.pendingBytes = 0;
    const max = this.tunnel.maxDataPayload;
    if (total <= max) {
      this.frames++;
      // Written into the turn's message when it leaves (OutFrame): no buffer of its own.
      this.send(OutFrame.data(this.sid, parts, total));
      return;
    }
    for (const part of chunkBytes(Buffer.concat(parts, total), max)) {
      this.frames++;
      this.send(encodeFrame(FrameKind.Data, this.sid, undefined, part));
    }
  }

  /** `errorCode`: the answer is an error in the caller's format (mapped upstream error, or a failed stream). */
  private complete(usage: Usage | undefined, errorCode?: string): void {
    this.flushData();
    const end: EndMeta = { frames: this.frames };
    if (usage) end.usage = usage;
    if (errorCode) {
      end.error = { code: errorCode };
      this.outcome = errorCode;
    }
    this.sendWithJson(FrameKind.End, endMetaJson(end));
    this.finish(false);
  }

  private reject(reason: RejectReason, message: string): void {
    this.outcome = 'rejected';
    this.send(encodeFrame(FrameKind.Reject, this.sid, { reason, message }));
    this.finish();
  }

  private fail(err: TokiosError): void {
    if (this.finished) return;
    this.outcome = err.code;
    // The message may echo the caller's strings (an unknown parameter's name, a content type): it goes to the
    // caller only; the log line gets the code and the parameter name, with any caller-chosen part masked.
    this.ctx.log.warn({ reqId: this.meta.requestId, rid: this.meta.rid, code: err.code, param: loggableParam(err.param) }, 'request failed');
    this.send(encodeFrame(FrameKind.Error, this.sid, err.param ? { code: err.code, message: err.message, param: err.param } : { code: err.code, message: err.message }));
    this.finish();
  }

  private send(frame: StreamFrameOut): void {
    this.tunnel.sendStreamFrame(this.outbox, frame);
  }

  /** Head and End, once per request: their metadata as hand-written JSON (meta-json.ts), not JSON.stringify's. */
  private sendWithJson(kind: typeof FrameKind.Head | typeof FrameKind.End, json: string): void {
    this.send(OutFrame.meta(kind, this.sid, json, metaBytes(kind, json)));
  }

  private finish(abortUpstream = true): void {
    if (this.finished) return;
    this.finished = true;
    this.pending = [];
    this.pendingText = '';
    this.pendingBytes = 0;
    this.deadline.stop();
    this.gate.close();
    if (abortUpstream) this.upstream?.abort();
    const ms = Date.now() - this.started;
    this.ctx.observer?.requestDone(this.meta.protocol, this.outcome, ms);
    this.ctx.log.info(
      { reqId: this.meta.requestId, rid: this.meta.rid, protocol: this.meta.protocol, stream: this.meta.stream, status: this.status, outcome: this.outcome, ms },
      'request done',
    );
    this.ctx.done(this);
  }
}

