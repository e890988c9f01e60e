/**
 * Errors of the admin API: code -> HTTP status and default message. Every error body has one shape:
 *   { "error": { "code": "<code>", "message": "<text>", "field": "<where>" | null } }
 * A test keeps every code documented and mapped.
 */
export const CONTROL_ERRORS = {
  invalid_request: { status: 400, message: 'The request is invalid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invite_rejected: { status: 400, message: 'The invite code cannot be redeemed.' },
  unauthorized: { status: 401, message: 'Missing or invalid credentials.' },
  forbidden: { status: 403, message: 'These credentials may not use this route.' },
  not_found: { status: 404, message: 'No such object.' },
  route_not_found: { status: 404, message: 'No such route.' },
  conflict: { status: 409, message: 'That conflicts with an existing object.' },
  body_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  store_unavailable: { status: 503, message: 'The control store is unavailable; retry.' },
  fabric_unavailable: { status: 503, message: 'The control plane is starting: it has not joined the gateway fabric (NATS) yet; retry shortly.' },
  internal: { status: 500, message: 'Internal error.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ControlErrorCode = keyof typeof CONTROL_ERRORS;

export interface ControlErrorBody {
  error: { code: ControlErrorCode; message: string; field: string | null };
}

export class ControlError extends Error {
  override readonly name = 'ControlError';
  readonly field: string | null;
  /** Fastify reads (and may set) this when the error comes from a validator. */
  statusCode: number;

  constructor(
    readonly code: ControlErrorCode,
    message?: string,
    options: { field?: string | null; cause?: unknown } = {},
  ) {
    super(message ?? CONTROL_ERRORS[code].message, { cause: options.cause });
    this.field = options.field ?? null;
    this.statusCode = CONTROL_ERRORS[code].status;
  }

  get status(): number {
    return CONTROL_ERRORS[this.code].status;
  }

  body(): ControlErrorBody {
    return { error: { code: this.code, message: this.message, field: this.field } };
  }
}

/** Objects of other tenants are reported missing, never forbidden, so ids do not leak. */
export const notFound = (what: string, id: string): ControlError => new ControlError('not_found', `No ${what} ${id}.`);

/** Maps store errors to API errors; anything unknown stays as it is (rendered as `internal`). */
export function fromStoreError(err: unknown): unknown {
  if (err instanceof ControlError || !(err instanceof Error)) return err;
  switch (err.name) {
    case 'StoreValidationError':
      return new ControlError('invalid_request', err.message, { field: (err as Error & { field?: string }).field ?? null, cause: err });
    case 'StoreConflictError':
      return new ControlError('conflict', err.message, { cause: err });
    case 'StoreNotFoundError':
      return new ControlError('not_found', err.message, { cause: err });
    case 'InviteRejectedError':
      return new ControlError('invite_rejected', `The invite code cannot be redeemed: ${err.message}.`, { field: 'body.code', cause: err });
    case 'StoreUnavailableError':
      return new ControlError('store_unavailable', undefined, { cause: err });
    default:
      return err;
  }
}
