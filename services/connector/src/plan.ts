import type { CallerProtocol, RequestMeta, Usage, UpstreamKind } from '@tokios/shared/protocol';
import { ERRORS, TokiosError, renderError } from '@tokios/shared/errors';
import { CALLERS, PassthroughStreamFilter, UPSTREAMS, planTranslation, type ResponseTranslator as Translation } from '@tokios/shared/translate';

/** Turns the model server's answer into the caller's bytes for one response. */
export interface ResponseTranslator {
  /** Send Head before the body (streams, passthrough) or only after end() (answers whose status depends on the body). */
  headFirst: boolean;
  status(): number;
  contentType: string;
  push(chunk: Buffer): Buffer | string;
  end(): Buffer | string;
  fail(err: { code: string; message: string }): Buffer | string;
  usage(): Usage | undefined;
}

export interface UpstreamPlan {
  /** Caller and upstream speak the same protocol (OpenAI Chat); the answer's bytes are relayed as they are. */
  passthrough: boolean;
  path: string;
  body: string | Buffer;
  headers: Record<string, string>;
  translate(status: number, contentType: string): ResponseTranslator;
}

export interface PlanContext {
  upstreamKind: UpstreamKind;
  upstreamModel: (deploymentName: string) => string;
}

const MAX_ERROR_BODY = 1024 * 1024;

/**
 * Caller and upstream speak the same protocol (OpenAI Chat). A 2xx answer goes back as the upstream sent it (a
 * stream passes a filter that only rewrites in-stream upstream errors into OpenAI's shape); a non-2xx one is mapped
 * like any upstream error, so the caller gets OpenAI's error shape and never the upstream's wording about its models.
 */
export function passthroughTranslator(status: number, contentType: string): ResponseTranslator {
  if (status < 200 || status >= 300) return upstreamError('openai.chat', 'openai', status);
  const sse = contentType.includes('event-stream');
  const filter = sse ? new PassthroughStreamFilter() : undefined;
  return {
    headFirst: true,
    status: () => status,
    contentType,
    push: (c) => (filter ? filter.push(c) : c),
    end: () => (filter ? filter.end() : ''),
    fail: (e) => (sse ? `data: ${JSON.stringify({ error: { message: e.message, type: 'server_error', param: null, code: e.code } })}\n\n` : ''),
    usage: () => undefined,
  };
}

/** 2xx from the model server: translated chunk by chunk (streams) or aggregated (whole answers). */
function translated(protocol: CallerProtocol, stream: boolean, contentType: string, t: Translation): ResponseTranslator {
  return {
    headFirst: stream,
    status: () => {
      const err = t.error();
      return err ? ERRORS[err.code].status : 200;
    },
    contentType,
    push: (c) => t.push(c),
    end: () => t.end(),
    fail: (e) => t.fail(e),
    usage: () => t.usage(),
  };
}

/** Non-2xx from the model server before any answer: read it whole, answer in the caller's error shape. */
function upstreamError(protocol: CallerProtocol, kind: UpstreamKind, status: number): ResponseTranslator {
  const parts: Buffer[] = [];
  let size = 0;
  let mapped: TokiosError | undefined;
  return {
    headFirst: false,
    status: () => mapped?.status ?? 502,
    contentType: 'application/json',
    push: (c) => {
      if (size < MAX_ERROR_BODY) parts.push(c);
      size += c.length;
      return '';
    },
    end: () => {
      const { code, message } = UPSTREAMS[kind].parseError(status, Buffer.concat(parts).toString('utf8'));
      mapped = new TokiosError(code, message);
      return JSON.stringify(renderError(protocol, mapped));
    },
    fail: () => '',
    usage: () => undefined,
  };
}

/** Maps one tunnelled request onto the model server's API. Throws TokiosError for bodies that cannot be honoured. */
export function planRequest(ctx: PlanContext, meta: RequestMeta, raw: Buffer): UpstreamPlan {
  if (meta.protocol === 'openai.chat' && ctx.upstreamKind === 'openai' && ctx.upstreamModel(meta.model) === meta.model) {
    // The ingress parsed this body and took meta.model from its `model` field: with no rename, the bytes go
    // through untouched and need no second parse here.
    return { passthrough: true, path: '/v1/chat/completions', body: raw, headers: {}, translate: passthroughTranslator };
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new TokiosError('invalid_json');
  }
  const plan = planTranslation({
    protocol: meta.protocol,
    body,
    upstreamKind: ctx.upstreamKind,
    upstreamModel: ctx.upstreamModel(meta.model),
    requestId: meta.rid.replace(/[^A-Za-z0-9]/g, ''),
    deploymentName: meta.model,
    callers: CALLERS,
  });
  const { path, body: out, headers } = plan.upstream;
  if (plan.passthrough) return { passthrough: true, path, body: out, headers, translate: passthroughTranslator };
  return {
    passthrough: false,
    path,
    body: out,
    headers,
    translate: (status) =>
      status >= 200 && status < 300
        ? translated(meta.protocol, plan.stream, plan.contentType, plan.translator)
        : upstreamError(meta.protocol, ctx.upstreamKind, status),
  };
}
