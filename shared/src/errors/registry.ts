/**
 * One registry of the errors a caller can see: code -> HTTP status and the error `type` in each caller protocol.
 * Rendered into the caller's shape by render.ts; tests keep every code mapped.
 */
export interface ErrorSpec {
  status: number;
  /** OpenAI `error.type` */
  openai: string;
  /** Anthropic `error.type` */
  anthropic: string;
  message: string;
}

export const ERRORS = {
  invalid_request: { status: 400, openai: 'invalid_request_error', anthropic: 'invalid_request_error', message: 'The request is invalid.' },
  invalid_json: { status: 400, openai: 'invalid_request_error', anthropic: 'invalid_request_error', message: 'The request body is not valid JSON.' },
  unsupported_parameter: { status: 400, openai: 'invalid_request_error', anthropic: 'invalid_request_error', message: 'A parameter cannot be honoured by this deployment.' },
  invalid_api_key: { status: 401, openai: 'invalid_request_error', anthropic: 'authentication_error', message: 'Invalid API key.' },
  missing_api_key: { status: 401, openai: 'invalid_request_error', anthropic: 'authentication_error', message: 'No API key provided. Send Authorization: Bearer sk-tokios-...' },
  permission_denied: { status: 403, openai: 'invalid_request_error', anthropic: 'permission_error', message: 'This key may not use that resource.' },
  model_not_found: { status: 404, openai: 'invalid_request_error', anthropic: 'not_found_error', message: 'No deployment of that name.' },
  route_not_found: { status: 404, openai: 'invalid_request_error', anthropic: 'not_found_error', message: 'No such route.' },
  body_too_large: { status: 413, openai: 'invalid_request_error', anthropic: 'request_too_large', message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, openai: 'invalid_request_error', anthropic: 'invalid_request_error', message: 'Send the body as application/json.' },
  rate_limited: { status: 429, openai: 'rate_limit_error', anthropic: 'rate_limit_error', message: 'Rate limit reached.' },
  internal: { status: 500, openai: 'server_error', anthropic: 'api_error', message: 'Internal error.' },
  upstream_error: { status: 502, openai: 'server_error', anthropic: 'api_error', message: 'The model server failed.' },
  upstream_unreachable: { status: 502, openai: 'server_error', anthropic: 'api_error', message: 'The connector cannot reach its model server.' },
  tunnel_lost: { status: 502, openai: 'server_error', anthropic: 'api_error', message: 'The tunnel to the model was lost mid-request.' },
  answer_too_large: { status: 502, openai: 'server_error', anthropic: 'api_error', message: 'The answer is over the gateway\'s size limit.' },
  protocol_error: { status: 502, openai: 'server_error', anthropic: 'api_error', message: 'The tunnel sent a malformed response.' },
  no_tunnel: { status: 503, openai: 'server_error', anthropic: 'overloaded_error', message: 'No connector is online for this deployment.' },
  capacity: { status: 503, openai: 'server_error', anthropic: 'overloaded_error', message: 'Every connector for this deployment is at capacity.' },
  fabric_unavailable: { status: 503, openai: 'server_error', anthropic: 'overloaded_error', message: 'The gateway fabric (NATS) is unavailable.' },
  store_unavailable: { status: 503, openai: 'server_error', anthropic: 'overloaded_error', message: 'The gateway cannot check this API key right now (its database is unavailable); retry shortly.' },
  timeout: { status: 504, openai: 'server_error', anthropic: 'api_error', message: 'The model did not answer in time.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

/** An error with a registry code; safe to show to callers (never carries prompt text). */
export class TokiosError extends Error {
  override readonly name = 'TokiosError';
  readonly code: ErrorCode;
  readonly param: string | null;
  /** Extra response headers, e.g. retry-after. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, options: { cause?: unknown; param?: string | null; headers?: Record<string, string> } = {}) {
    super(message ?? ERRORS[code].message, { cause: options.cause });
    this.code = code;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}
