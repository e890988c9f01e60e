export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
}
export class StoreNotFoundError extends Error {
  override readonly name = 'StoreNotFoundError';
}
/** The backing database cannot be reached; callers may retry. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}
/** The embedded store was to be opened without creating it, and there is none in that directory. */
export class NoStoreError extends Error {
  override readonly name = 'NoStoreError';
  constructor(readonly dir: string) {
    super(`no Tokios store in ${dir}`);
  }
}
/** Input rejected at the store boundary (bad name, limit, date…). `field` names the offending input. */
export class StoreValidationError extends Error {
  override readonly name = 'StoreValidationError';
  constructor(
    message: string,
    readonly field: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const INVITE_REJECT_REASONS = ['unknown', 'revoked', 'expired', 'exhausted', 'own_deployment'] as const;
export type InviteRejectReason = (typeof INVITE_REJECT_REASONS)[number];

/** An invite code that cannot be redeemed, and why. */
export class InviteRejectedError extends Error {
  override readonly name = 'InviteRejectedError';
  constructor(readonly reason: InviteRejectReason) {
    super(INVITE_REJECT_MESSAGES[reason]);
  }
}

const INVITE_REJECT_MESSAGES: Record<InviteRejectReason, string> = {
  unknown: 'no such invite code',
  revoked: 'the invite code was revoked',
  expired: 'the invite code has expired',
  exhausted: 'the invite code has been used the maximum number of times',
  own_deployment: 'the deployment already belongs to this tenant',
};
