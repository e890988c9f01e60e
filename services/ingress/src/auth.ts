import type { FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { TokiosError } from '@tokios/shared/errors';
import type { AuthCache, CachedKey, CachedRoute, Caller } from './auth/auth-cache.js';
import { LookupUnavailableError } from './auth/lookup-cache.js';

export type { Caller } from './auth/auth-cache.js';

/** `Bearer` and its spaces, sticky: after a match, lastIndex is where the key starts (one regex pass, no match array). */
const BEARER = /bearer\s+/iy;

/** The presented API key: `Authorization: Bearer …` or Anthropic's `x-api-key`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    BEARER.lastIndex = 0;
    if (BEARER.test(auth)) return auth.slice(BEARER.lastIndex).trim() || undefined;
  }
  const x = headers['x-api-key'];
  if (typeof x !== 'string') return undefined;
  return x.trim() || undefined;
}

function storeDown(err: unknown): never {
  if (err instanceof LookupUnavailableError) throw new TokiosError('store_unavailable', undefined, { headers: { 'retry-after': '1' }, cause: err });
  throw err;
}

function toCaller(key: CachedKey | null): Caller {
  if (!key) throw new TokiosError('invalid_api_key', 'Invalid API key.');
  if (key.revoked) throw new TokiosError('invalid_api_key', 'This API key has been revoked.');
  return key.caller;
}

/**
 * Checks the presented key against the auth cache: no store round trip when it is cached, and then no promise either
 * (the answer is returned as is; a refusal is thrown). A lookup that goes to the store returns its promise.
 */
export function authenticate(request: FastifyRequest, cache: AuthCache): Caller | Promise<Caller> {
  const secret = presentedKey(request.headers);
  if (!secret) throw new TokiosError('missing_api_key');
  if (secret.length > 256) throw new TokiosError('invalid_api_key');
  const hit = cache.key(secret);
  return hit instanceof Promise ? hit.catch(storeDown).then(toCaller) : toCaller(hit);
}

function routeOrRefuse(model: string, d: CachedRoute | null): CachedRoute {
  if (!d) throw new TokiosError('model_not_found', `The model \`${model}\` does not exist or you do not have access to it.`, { param: 'model' });
  return d;
}

/** What `model` names for this caller, as authenticate: as is when cached, else the store lookup's promise. */
export function resolveRoute(cache: AuthCache, caller: Caller, model: string): CachedRoute | Promise<CachedRoute> {
  const hit = cache.route(caller.tenantId, model);
  return hit instanceof Promise ? hit.catch(storeDown).then((d) => routeOrRefuse(model, d)) : routeOrRefuse(model, hit);
}
