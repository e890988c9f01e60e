import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { CallerProtocol, EndMeta, HeadMeta, Usage } from '@tokios/shared/protocol';
import { ERRORS, TokiosError, isErrorCode, renderStreamError, type ErrorCode } from '@tokios/shared/errors';
import type { CachedDeployment } from './auth/auth-cache.js';
import type { Revocable } from './auth/key-streams.js';
import type { Call, CallHandlers } from './fabric.js';
import type { Admitted } from './admit.js';
import type { ProxyDeps } from './proxy.js';
import { REQUEST_ID_HEADER } from './request-id.js';
import { sendError } from './errors.js';
import { clampUsage } from './usage/clamp.js';
import { IsoClock } from './usage/iso-clock.js';
import { IGNORED_HEADER, reportIgnored } from './acceptance/ignored-fields.js';
import { DEPLOYMENT_HEADER } from './routing/targets.js';
import { CallerFlow, type CallerFlowHooks } from './caller-flow.js';
import { writeBufferedAnswer } from './buffered-answer.js';

/** Status recorded for a caller that hung up before an answer (nginx's convention). */
const CLIENT_CLOSED = 499;

/** Log levels at which `info` lines are not written (pino's; the request logger's type does not expose isLevelEnabled). */
const ABOVE_INFO = new Set(['warn', 'error', 'fatal', 'silent']);

/** Usage records' `at`, in toISOString form (shared by every request of this process). */
const usageClock = new IsoClock();

/** How a request ended when it did not succeed: an error registry code, or the caller leaving or not reading. */
type Outcome = ErrorCode | 'client_closed' | 'client_not_reading';

/** setImmediate's callback for a corked stream (a plain function with the call as its argument: no closure per turn). */
function uncork(pc: ProxiedCall): void {
  pc.uncork();
}

/**
 * One admitted request from the fabric call to the caller's answer: the call's handlers (Head, Data, End, Error),
 * backpressure of a streaming caller (CallerFlow), revocation of its key, the caller leaving. One object with methods
 * rather than a dozen closures per request.
 */
export class ProxiedCall implements CallHandlers, CallerFlowHooks, Revocable {
  private readonly res: ServerResponse;
  /** Ours and unique (usage records are idempotent per id; the caller's request id may repeat). */
  private readonly callId: string;
  private call: Call | undefined;
  private head: HeadMeta | undefined;
  /** The `tokios-ignored` header value, from the Head. */
  private ignored: string | undefined;
  private streaming = false;
  private firstDataAt = 0;
  private settled = false;
  private corked = false;
  private answerBytes = 0;
  /** A non-streamed answer's Data payloads (copied: a payload is a view into a NATS read). */
  private readonly parts: Buffer[] = [];
  /** A streaming caller's backpressure; made with the stream's head. */
  private flow: CallerFlow | undefined;

  constructor(
    private readonly deps: ProxyDeps,
    private readonly protocol: CallerProtocol,
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly a: Admitted,
    private readonly started: number,
  ) {
    this.res = reply.raw;
    this.callId = deps.fabric.newCallId();
  }

  /** The deployment that serves (once acked; an alias's first choice until then). */
  private served(): CachedDeployment {
    const id = this.call?.deploymentId;
    if (id === undefined || id === this.a.first.id) return this.a.first;
    return this.a.targets.find((d) => d.id === id) ?? this.a.first;
  }

  /** A usage record for this request (in memory; written to the store off the hot path). */
  record(status: number, usage: Usage | undefined, ttftMs: number | null): void {
    const now = Date.now();
    const { caller } = this.a;
    this.deps.control.usage.record({
      id: this.callId,
      at: usageClock.at(now),
      tenantId: caller.tenantId,
      keyId: caller.keyId,
      deploymentId: this.served().id,
      aliasId: this.a.aliasId,
      connectorId: this.call?.connectorId ?? 'none',
      protocol: this.protocol,
      stream: this.a.stream,
      status,
      inputTokens: usage?.input_tokens ?? 0,
      outputTokens: usage?.output_tokens ?? 0,
      ttftMs,
      durationMs: now - this.started,
    });
  }

  /** Sends the request down the fabric; the answer comes back through the handlers below. */
  start(sessionKey: string, headers: Record<string, string>): void {
    const { a, request } = this;
    const { caller } = a;
    // Registered first: a call that fails at once settles (and unregisters) before start returns.
    this.deps.control.streams.add(caller.keyId, this);
    this.call = this.deps.fabric.call(
      {
        deploymentId: a.first.id,
        fallbackIds: a.targets.length > 1 ? a.targets.slice(1).map((d) => d.id) : undefined,
        requestId: request.id,
        callId: this.callId,
        sessionKey: sessionKey === '' ? undefined : sessionKey,
        body: a.raw,
        meta: { protocol: this.protocol, model: a.model, stream: a.stream, headers, tenantId: caller.tenantId, keyId: caller.keyId },
      },
      this,
    );
    // A caller that goes away must stop the generation, not just our relay.
    this.res.on('close', this.onClose);
  }

  private readonly onClose = (): void => {
    if (!this.res.writableFinished) {
      this.call?.cancel('client disconnected');
      this.done('client_closed', CLIENT_CLOSED);
    }
  };

  onHead(h: HeadMeta): void {
    this.head = h;
    const report = reportIgnored(h.ignored);
    if (report !== undefined) {
      this.ignored = report.header;
      this.deps.metrics.ignoredFields(this.protocol, report.labels);
    }
    if (!this.a.stream || h.status >= 400) return;
    this.streaming = true;
    this.flow = new CallerFlow(this.res, this.deps.fabric.options, this);
    this.reply.hijack();
    const headers = [
      'content-type', h.contentType,
      'cache-control', 'no-cache',
      REQUEST_ID_HEADER, this.request.id,
      DEPLOYMENT_HEADER, this.served().name,
      'x-accel-buffering', 'no',
    ];
    if (this.ignored !== undefined) headers.push(IGNORED_HEADER, this.ignored);
    this.res.writeHead(h.status, headers);
    this.res.flushHeaders();
  }

  onData(payload: Buffer): void {
    if (this.firstDataAt === 0) this.firstDataAt = Date.now();
    this.answerBytes += payload.length;
    const { maxAnswerBytes } = this.deps.fabric.options;
    if (this.answerBytes > maxAnswerBytes) return this.abort(new TokiosError('answer_too_large', `The answer is over ${maxAnswerBytes} bytes.`));
    if (!this.streaming) {
      this.parts.push(Buffer.from(payload));
      return;
    }
    // Frames of this stream that arrive in one NATS read go out in one socket write (uncorked in the same turn).
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      setImmediate(uncork, this);
    }
    // What the caller has not taken stays in this process: a write it did not take at once may pause the stream.
    if (!this.res.write(payload)) this.flow?.congested();
  }

  uncork(): void {
    this.corked = false;
    this.res.uncork();
  }

  onEnd(end: EndMeta): void {
    const { head, parts } = this;
    if (this.streaming) this.res.end();
    else {
      // Not through Reply.send (see buffered-answer.ts); hijacked once written, as a stream is.
      const headers = [REQUEST_ID_HEADER, this.request.id, DEPLOYMENT_HEADER, this.served().name];
      if (this.ignored !== undefined) headers.push(IGNORED_HEADER, this.ignored);
      writeBufferedAnswer(this.res, head?.status ?? 502, head?.contentType ?? 'application/json', parts.length === 1 ? parts[0]! : Buffer.concat(parts), headers);
      this.reply.hijack();
    }
    // The outcome is the final result, not the arrival of an End: a mapped upstream error, or a stream that
    // failed after its head, says so in End.error.
    const sent = head?.status ?? 502;
    const code = end.error ? (isErrorCode(end.error.code) ? end.error.code : 'upstream_error') : sent >= 400 ? 'upstream_error' : undefined;
    this.done(code, code && sent < 400 ? ERRORS[code].status : sent, end.usage, sent);
  }

  onError(err: TokiosError): void {
    if (this.streaming) {
      if (!this.res.writableEnded) this.res.end(renderStreamError(this.protocol, err));
    } else if (!this.reply.sent) {
      sendError(this.request, this.reply, err);
    }
    this.done(err.code, err.status, undefined, this.streaming ? (this.head?.status ?? err.status) : err.status);
  }

  /** Revoking the key stops this request too (a stream of a revoked key must not run on). */
  revoked(): void {
    this.abort(new TokiosError('invalid_api_key', 'This API key has been revoked.'));
  }

  /** The streaming caller stopped reading (CallerFlow): the stream pauses at the connector. */
  pause(): void {
    this.deps.metrics.paused();
    this.request.log.debug({ callId: this.callId, unsentBytes: this.res.writableLength }, 'caller not reading; pausing the stream');
    this.call?.pause();
  }

  unpause(): void {
    this.call?.unpause();
  }

  /** A streaming caller that stays away is given up. */
  giveUp({ unsentBytes, pausedMs }: { unsentBytes: number; pausedMs: number }): void {
    this.request.log.info({ callId: this.callId, unsentBytes, pausedMs }, 'caller not reading; cancelling the stream');
    this.call?.cancel('caller not reading');
    this.done('client_not_reading', CLIENT_CLOSED);
    this.res.destroy();
  }

  /** Stops the call (the connector cancels its upstream request) and fails the caller's request. */
  private abort(err: TokiosError): void {
    this.call?.cancel(err.code);
    this.parts.length = 0;
    if (this.streaming) {
      if (!this.res.writableEnded) this.res.end(renderStreamError(this.protocol, err));
    } else if (!this.reply.sent) sendError(this.request, this.reply, err);
    this.done(err.code, err.status);
  }

  /**
   * Exactly once per request: usage record, tokens against the quota, metrics, log line. `status` is the outcome's
   * status: for a stream that failed after its 200 went out, the status of its error (what usage and metrics count).
   */
  private done(code: Outcome | undefined, status: number, reported?: Usage, httpStatus = status): void {
    if (this.settled) return;
    this.settled = true;
    const { a, request, deps } = this;
    const { caller } = a;
    deps.control.streams.remove(caller.keyId, this);
    this.flow?.stop();
    const ms = Date.now() - this.started;
    const ttftMs = a.stream && this.firstDataAt ? this.firstDataAt - this.started : null;
    let usage = reported;
    if (reported) {
      const c = clampUsage(reported, { requestBytes: a.raw.length, answerBytes: this.answerBytes });
      usage = c.usage;
      if (c.clamped) request.log.warn({ callId: this.callId, deploymentId: this.served().id, connectorId: this.call?.connectorId, reported, charged: usage }, 'connector-reported usage clamped');
    }
    const tokens = usage ? usage.input_tokens + usage.output_tokens : 0;
    if (tokens > 0) deps.control.quota.addTokens(caller.keyId, caller.limits, tokens);
    this.record(status, usage, ttftMs);
    const served = this.served();
    deps.metrics.done(this.protocol, served.id, status, code, a.stream, ms, ttftMs);
    // Built only when it is written: at LOG_LEVEL warn the line's object would cost every request for nothing.
    if (!ABOVE_INFO.has(request.log.level)) {
      request.log.info(
        {
          callId: this.callId, deploymentId: served.id, ...(a.aliasId !== null && { aliasId: a.aliasId }), keyId: caller.keyId, protocol: this.protocol,
          stream: a.stream, status, outcome: code ?? 'ok', ms, ...(httpStatus !== status && { httpStatus }), terminatorId: this.call?.terminatorId,
          connectorId: this.call?.connectorId,
        },
        'request done',
      );
    }
  }
}
