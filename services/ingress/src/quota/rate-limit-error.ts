import { TokiosError, type AnthropicErrorBody } from '@tokios/shared/errors';
import type { CallerProtocol } from '@tokios/shared/protocol';
import type { QuotaExceeded } from './limiter.js';

/** OpenAI's 429 body: `type` names the limit ("requests" or "tokens"), `code` is "rate_limit_exceeded". */
export interface OpenAIRateLimitBody {
  error: { message: string; type: 'requests' | 'tokens'; param: null; code: 'rate_limit_exceeded' };
}

/** A key went over its requests/min or tokens/min: 429 with retry-after, shaped as each API does it. */
export class RateLimitError extends TokiosError {
  constructor(
    readonly exceeded: QuotaExceeded,
    protocol: CallerProtocol,
    model: string,
    keyId: string,
    now = Date.now(),
  ) {
    const { kind, limit, used, retryAfterSec } = exceeded;
    const unit = kind === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
    const message = `Rate limit reached for ${model} with API key ${keyId} on ${unit}: Limit ${limit}, Used ${Math.round(used)}, Requested 1. Please try again in ${retryAfterSec}s.`;
    super('rate_limited', message, { headers: rateLimitHeaders(exceeded, protocol, now) });
  }

  body(protocol: CallerProtocol): OpenAIRateLimitBody | AnthropicErrorBody {
    if (protocol === 'anthropic.messages') return { type: 'error', error: { type: 'rate_limit_error', message: this.message } };
    return { error: { message: this.message, type: this.exceeded.kind, param: null, code: 'rate_limit_exceeded' } };
  }
}

function rateLimitHeaders(e: QuotaExceeded, protocol: CallerProtocol, now: number): Record<string, string> {
  const remaining = String(Math.max(0, Math.floor(e.limit - e.used)));
  const h: Record<string, string> = { 'retry-after': String(e.retryAfterSec) };
  if (protocol === 'anthropic.messages') {
    const kind = e.kind === 'requests' ? 'requests' : 'tokens';
    h[`anthropic-ratelimit-${kind}-limit`] = String(e.limit);
    h[`anthropic-ratelimit-${kind}-remaining`] = remaining;
    h[`anthropic-ratelimit-${kind}-reset`] = new Date(now + e.retryAfterSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  } else {
    h[`x-ratelimit-limit-${e.kind}`] = String(e.limit);
    h[`x-ratelimit-remaining-${e.kind}`] = remaining;
    h[`x-ratelimit-reset-${e.kind}`] = `${e.retryAfterSec}s`;
  }
  return h;
}
