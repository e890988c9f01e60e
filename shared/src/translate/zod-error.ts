import type { z } from 'zod';
import { TokiosError } from '../errors/registry.js';

/** A zod issue path as the caller wrote it: `messages[2].content`. */
export function pathOf(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out.length === 0 ? String(p) : `.${String(p)}`;
  return out;
}

/** The first zod issue of a caller's body as a 400 invalid_request naming the field. */
export function zodToError(error: z.ZodError): TokiosError {
  const issue = error.issues[0];
  const param = issue === undefined ? null : pathOf(issue.path);
  const where = param ? `'${param}': ` : '';
  return new TokiosError('invalid_request', `Invalid request: ${where}${issue?.message ?? 'invalid value'}.`, { param });
}
