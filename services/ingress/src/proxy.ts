import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallerProtocol, HeadMeta, Usage } from '@tokios/shared/protocol';
import { ERRORS, TokiosError, isErrorCode, renderStreamError, type ErrorCode } from '@tokios/shared/errors';
import { sessionKey } from '@tokios/shared/routing';
import type { Call, FabricClient } from './fabric.js';
import type { IngressMetrics } from './metrics.js';
import { REQUEST_ID_HEADER } from './request-id.js';
import type { IngressControlPlane } from './control-plane.js';
import { authenticate, resolveRoute } from './auth.js';
import { parseJsonBody, routingFields } from './body.js';
import { sendError } from './errors.js';
import { RateLimitError } from './quota/rate-limit-error.js';
import { clampUsage } from './usage/clamp.js';
import { IsoClock } from './usage/iso-clock.js';
import { IGNORED_HEADER, reportIgnored } from './acceptance/ignored-fields.js';
import { DEPLOYMENT_HEADER, placementOrder } from './routing/targets.js';
import { CallerFlow } from './caller-flow.js';
import { writeBufferedAnswer } from './buffered-answer.js';

export interface ProxyDeps {
  fabric: FabricClient;
  control: IngressControlPlane;
  metrics: IngressMetrics;
}

/** Caller headers the model side may need. */
const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'];
/** Status recorded for a caller that hung up before an answer (nginx's convention). */
const CLIENT_CLOSED = 499;

/** Log levels at which `info` lines are not written (pino's; the request logger's type does not expose isLevelEnabled). */
const ABOVE_INFO = new Set(['warn', 'error', 'fatal', 'silent']);

/** Usage records' `at`, in toISOString form (shared by every request of this process). */
const usageClock = new IsoClock();

/** How a request ended when it did not succeed: an error registry code, or the caller leaving or not reading. */
type Outcome = ErrorCode | 'client_closed' | 'client_not_reading';

/**
 * The caller, the routing fields and the deployments to try (one, or an alias's targets in placement order); a
 * refusal (bad key, body or model, an alias with no usable target) is counted, then thrown.
 */
async function admit(deps: ProxyDeps, protocol: CallerProtocol, request: FastifyRequest) {
  try {
    const caller = await authenticate(request, deps.control.auth);
    const body = parseJsonBody(request.body as Buffer);
    const { model, stream } = routingFields(body);
    const route = await resolveRoute(deps.control.auth, caller, model);
    const targets = placementOrder(route);
    const [first, ...fallbacks] = targets;
    if (!first) throw new TokiosError('no_tunnel', `The alias \`${model}\` has no deployment it may use.`);
    return { caller, model, stream, first, fallbacks, targets, aliasId: route.kind === 'alias' ? route.aliasId : null, body };
  } catch (err) {
    if (err instanceof TokiosError) deps.metrics.refused(protocol, undefined, err.status, err.code);
    throw err;
  }
}

/**
 * Authenticates, finds the deployment, checks the key's quota, sends the request down the fabric and relays
 * the answer: buffered for non-streamed calls, written through as it arrives for streamed ones. Every request
 * that got as far as a deployment leaves one usage record (in memory; written to the store off the hot path).
 */
export async function proxyToDeployment(deps: ProxyDeps, protocol: CallerProtocol, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const started = Date.now();
  const { control, metrics } = deps;
  const { caller, model, stream, first, fallbacks, targets, aliasId, body } = await admit(deps, protocol, request);
  let call: Call | undefined;
  /** The deployment that serves (once acked; an alias's first choice until then). */
  const served = () => targets.find((d) => d.id === call?.deploymentId) ?? first;
  const raw = request.body as Buffer;
  // Ours and unique (usage records are idempotent per id; the caller's request id may repeat).
  const callId = deps.fabric.newCallId();

  const record = (status: number, usage: Usage | undefined, ttftMs: number | null, connectorId: string | undefined): void => {
    const now = Date.now();
    control.usage.record({
      id: callId,
      at: usageClock.at(now),
      tenantId: caller.tenantId,
      keyId: caller.keyId,
      deploymentId: served().id,
      aliasId,
      connectorId: connectorId ?? 'none',
      protocol,
      stream,
      status,
      inputTokens: usage?.input_tokens ?? 0,
      outputTokens: usage?.output_tokens ?? 0,
      ttftMs,
      durationMs: now - started,
    });
  };

  const exceeded = control.quota.check(caller.keyId, caller.limits);
  if (exceeded) {
    record(429, undefined, null, undefined);
    metrics.limited(exceeded.kind);
    metrics.refused(protocol, first.id, 429, 'rate_limited');
    throw new RateLimitError(exceeded, protocol, model, caller.keyId);
  }
  metrics.begin();

  const headers: Record<string, string> = {};
  for (const h of FORWARDED_HEADERS) {
    const v = request.headers[h];
    if (typeof v === 'string') headers[h] = v.slice(0, 1024);
  }

  let head: HeadMeta | undefined;
  /** The `tokios-ignored` header value, from the Head. */
  let ignored: string | undefined;
  let streaming = false;
  let firstDataAt = 0;
  let settled = false;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    res.uncork();
  };
  const parts: Buffer[] = [];
  const res = reply.raw;
  let settle!: () => void;
  const finished = new Promise<void>((r) => (settle = r));

  const { maxAnswerBytes } = deps.fabric.options;
  let answerBytes = 0;
  // A streaming caller that stops reading pauses the stream at the connector; one that stays away is given up.
  const flow = new CallerFlow(res, deps.fabric.options, {
    pause: () => {
      metrics.paused();
      request.log.debug({ callId, unsentBytes: res.writableLength }, 'caller not reading; pausing the stream');
      call?.pause();
    },
    unpause: () => call?.unpause(),
    giveUp: ({ unsentBytes, pausedMs }) => {
      request.log.info({ callId, unsentBytes, pausedMs }, 'caller not reading; cancelling the stream');
      call?.cancel('caller not reading');
      done('client_not_reading', CLIENT_CLOSED);
      res.destroy();
    },
  });

  /**
   * Exactly once per request: usage record, tokens against the quota, metrics, log line. `status` is the outcome's
   * status: for a stream that failed after its 200 went out, the status of its error (what usage and metrics count).
   */
  let unregister = (): void => undefined;
  const done = (code: Outcome | undefined, status: number, reported?: Usage, httpStatus = status): void => {
    if (settled) return;
    settled = true;
    unregister();
    flow.stop();
    const ms = Date.now() - started;
    const ttftMs = stream && firstDataAt ? firstDataAt - started : null;
    let usage = reported;
    if (reported) {
      const c = clampUsage(reported, { requestBytes: raw.length, answerBytes });
      usage = c.usage;
      if (c.clamped) request.log.warn({ callId, deploymentId: served().id, connectorId: call?.connectorId, reported, charged: usage }, 'connector-reported usage clamped');
    }
    const tokens = usage ? usage.input_tokens + usage.output_tokens : 0;
    if (tokens > 0) control.quota.addTokens(caller.keyId, caller.limits, tokens);
    record(status, usage, ttftMs, call?.connectorId);
    metrics.done(protocol, served().id, status, code, stream, ms, ttftMs);
    // Built only when it is written: at LOG_LEVEL warn the line's object would cost every request for nothing.
    if (!ABOVE_INFO.has(request.log.level)) {
      request.log.info(
        {
          callId, deploymentId: served().id, ...(aliasId !== null && { aliasId }), keyId: caller.keyId, protocol, stream, status, outcome: code ?? 'ok', ms,
          ...(httpStatus !== status && { httpStatus }), terminatorId: call?.terminatorId, connectorId: call?.connectorId,
        },
        'request done',
      );
    }
    settle();
  };

  // Cache-affine placement: the session's requests go where its prefix is cached (scoped: tenant and deployment).
  const session = deps.fabric.homes ? sessionKey(protocol, body, request.headers, `${caller.tenantId}/${first.id}`).key : '';

  call = deps.fabric.call(
    {
      deploymentId: first.id,
      fallbackIds: fallbacks.map((d) => d.id),
      requestId: request.id,
      callId,
      ...(session !== '' && { sessionKey: session }),
      body: raw,
      meta: { protocol, model, stream, headers, tenantId: caller.tenantId, keyId: caller.keyId },
    },
    {
      onHead(h) {
        head = h;
        const report = reportIgnored(h.ignored);
        if (report !== undefined) {
          ignored = report.header;
          metrics.ignoredFields(protocol, report.labels);
        }
        if (stream && h.status < 400) {
          streaming = true;
          reply.hijack();
          res.writeHead(h.status, {
            'content-type': h.contentType,
            'cache-control': 'no-cache',
            [REQUEST_ID_HEADER]: request.id,
            [DEPLOYMENT_HEADER]: served().name,
            'x-accel-buffering': 'no',
            ...(ignored !== undefined && { [IGNORED_HEADER]: ignored }),
          });
          res.flushHeaders();
        }
      },
      onData(payload) {
        if (firstDataAt === 0) firstDataAt = Date.now();
        answerBytes += payload.length;
        if (answerBytes > maxAnswerBytes) return abort(new TokiosError('answer_too_large', `The answer is over ${maxAnswerBytes} bytes.`));
        if (streaming) {
          // Frames of this stream that arrive in one NATS read go out in one socket write (uncorked in the same turn).
          if (!corked) {
            corked = true;
            res.cork();
            setImmediate(uncork);
          }
          // What the caller has not taken stays in this process: a write it did not take at once may pause the stream.
          if (!res.write(payload)) flow.congested();
        } else parts.push(Buffer.from(payload));
      },
      onEnd(end) {
        if (streaming) res.end();
        else {
          // Not through Reply.send (see buffered-answer.ts); hijacked once written, as a stream is.
          const headers = [REQUEST_ID_HEADER, request.id, DEPLOYMENT_HEADER, served().name];
          if (ignored !== undefined) headers.push(IGNORED_HEADER, ignored);
          writeBufferedAnswer(res, head?.status ?? 502, head?.contentType ?? 'application/json', parts.length === 1 ? parts[0]! : Buffer.concat(parts), headers);
          reply.hijack();
        }
        // The outcome is the final result, not the arrival of an End: a mapped upstream error, or a stream that
        // failed after its head, says so in End.error.
        const sent = head?.status ?? 502;
        const code = end.error ? (isErrorCode(end.error.code) ? end.error.code : 'upstream_error') : sent >= 400 ? 'upstream_error' : undefined;
        done(code, code && sent < 400 ? ERRORS[code].status : sent, end.usage, sent);
      },
      onError(err) {
        if (streaming) {
          if (!res.writableEnded) res.end(renderStreamError(protocol, err));
        } else if (!reply.sent) {
          sendError(request, reply, err);
        }
        done(err.code, err.status, undefined, streaming ? (head?.status ?? err.status) : err.status);
      },
    },
  );

  /** Stops the call (the connector cancels its upstream request) and fails the caller's request. */
  function abort(err: TokiosError): void {
    call?.cancel(err.code);
    parts.length = 0;
    if (streaming) {
      if (!res.writableEnded) res.end(renderStreamError(protocol, err));
    } else if (!reply.sent) sendError(request, reply, err);
    done(err.code, err.status);
  }

  // Revoking the key stops this request too (a stream of a revoked key must not run on).
  unregister = control.streams.add(caller.keyId, () => abort(new TokiosError('invalid_api_key', 'This API key has been revoked.')));

  // A caller that goes away must stop the generation, not just our relay.
  res.on('close', () => {
    if (!res.writableFinished) {
      call?.cancel('client disconnected');
      done('client_closed', CLIENT_CLOSED);
    }
    settle();
  });

  await finished;
}


