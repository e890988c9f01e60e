import type { FastifyRequest } from 'fastify';
import type { Store } from '@tokios/shared/store';
import { TokiosError } from '@tokios/shared/errors';

export interface Caller {
  tenantId: string;
  keyId: string;
}

/** The presented API key: `Authorization: Bearer …` or Anthropic's `x-api-key`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim() || undefined;
  const x = request.headers['x-api-key'];
  return typeof x === 'string' && x.trim() ? x.trim() : undefined;
}

export async function authenticate(request: FastifyRequest, store: Store): Promise<Caller> {
  const secret = presentedKey(request);
  if (!secret) throw new TokiosError('missing_api_key');
  if (secret.length > 256) throw new TokiosError('invalid_api_key');
  const key = await store.findApiKeyBySecret(secret);
  if (!key) throw new TokiosError('invalid_api_key', 'Invalid API key.');
  if (key.revokedAt) throw new TokiosError('invalid_api_key', 'This API key has been revoked.');
  return { tenantId: key.tenantId, keyId: key.id };
}
