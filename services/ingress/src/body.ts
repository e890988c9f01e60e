import { z } from 'zod';
import { TokiosError } from '@tokios/shared/errors';
import { MAX_JSON_DEPTH, jsonDeeperThan } from '@tokios/shared/codec';

/** The longest `model` (a deployment or alias name) the ingress accepts. */
const MODEL_MAX = 256;

/** The fields the ingress itself needs; the rest is validated by the connector's translation. */
export const routingFieldsSchema = z.looseObject({
  model: z.string({ error: 'model is required (the deployment name)' }).min(1).max(MODEL_MAX),
  stream: z.boolean().optional(),
});

export function parseJsonBody(raw: unknown): Record<string, unknown> {
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new TokiosError('invalid_json', 'The request body is empty; send a JSON object.');
  // Before the parse: a body nested millions deep would hold the event loop (every tenant's requests) for seconds.
  if (jsonDeeperThan(raw)) throw new TokiosError('invalid_json', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new TokiosError('invalid_json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TokiosError('invalid_json', 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

export function routingFields(body: Record<string, unknown>): { model: string; stream: boolean } {
  // The same checks as routingFieldsSchema, by hand: zod costs several µs per request on the hot path. Anything the
  // fast path does not accept goes through the schema, which refuses it with its own message.
  const model = body['model'];
  const stream = body['stream'];
  if (typeof model === 'string' && model.length >= 1 && model.length <= MODEL_MAX && (stream === undefined || typeof stream === 'boolean')) {
    return { model, stream: stream === true };
  }
  const r = routingFieldsSchema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new TokiosError('invalid_request', issue?.message ?? 'invalid request', { param: issue?.path.join('.') || null });
  }
  return { model: r.data.model, stream: r.data.stream === true };
}
