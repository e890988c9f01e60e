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
