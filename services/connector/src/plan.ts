import type { RequestMeta, Usage, UpstreamKind } from '@tokios/shared/protocol';
import { TokiosError } from '@tokios/shared/errors';

/** Turns upstream bytes into caller bytes for one response. */
export interface ResponseTranslator {
  status: number;
  contentType: string;
  push(chunk: Buffer): Buffer | string;
  end(): Buffer | string;
  fail(err: { code: string; message: string }): Buffer | string;
  usage(): Usage | undefined;
}

export interface UpstreamPlan {
  path: string;
  body: string | Buffer;
  headers: Record<string, string>;
  translate(status: number, contentType: string): ResponseTranslator;
}

/** Bytes go back as the upstream sent them (caller and upstream speak the same protocol). */
export function passthroughTranslator(status: number, contentType: string): ResponseTranslator {
  return {
    status,
    contentType,
    push: (c) => c,
    end: () => '',
    fail: (e) => (contentType.includes('event-stream') ? `data: ${JSON.stringify({ error: { message: e.message, type: 'server_error', code: e.code } })}\n\n` : ''),
    usage: () => undefined,
  };
}

export interface PlanContext {
  upstreamKind: UpstreamKind;
  upstreamModel: (deploymentName: string) => string;
}

export function planRequest(ctx: PlanContext, meta: RequestMeta, raw: Buffer): UpstreamPlan {
  if (meta.protocol === 'openai.chat' && ctx.upstreamKind === 'openai' && ctx.upstreamModel(meta.model) === meta.model) {
    // The ingress parsed this body and took meta.model from its `model` field: with no rename, the bytes go
    // through untouched and need no second parse here.
    return { path: '/v1/chat/completions', body: raw, headers: {}, translate: passthroughTranslator };
  }
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    body = parsed as Record<string, unknown>;
  } catch {
    throw new TokiosError('invalid_json');
  }
  if (meta.protocol === 'openai.chat' && ctx.upstreamKind === 'openai') {
    const model = ctx.upstreamModel(meta.model);
    const out = body.model === model ? raw : JSON.stringify({ ...body, model });
    return { path: '/v1/chat/completions', body: out, headers: {}, translate: passthroughTranslator };
  }
  throw new TokiosError('unsupported_parameter', `${meta.protocol} is not available for a ${ctx.upstreamKind} upstream yet`);
}
