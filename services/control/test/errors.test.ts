import t from 'tap';
import { readFile } from 'node:fs/promises';
import { CONTROL_ERRORS, ControlError } from '../src/errors.js';
import { toControlError } from '../src/api.js';
import { StoreConflictError, StoreNotFoundError, StoreUnavailableError, StoreValidationError, InviteRejectedError } from '@tokios/shared/store';

const README = new URL('../../../../README.md', import.meta.url);

t.test('every code has a 4xx/5xx status, a message, and is documented in the README', async (t) => {
  const readme = await readFile(README, 'utf8');
  for (const [code, spec] of Object.entries(CONTROL_ERRORS)) {
    t.ok(spec.status >= 400 && spec.status < 600, `${code} status`);
    t.ok(spec.message.length > 0, `${code} message`);
    t.ok(readme.includes(`\`${code}\``), `${code} documented in README`);
    const e = new ControlError(code as keyof typeof CONTROL_ERRORS);
    t.same(e.body(), { error: { code, message: spec.message, field: null } });
    t.equal(e.statusCode, spec.status);
  }
});

t.test('store errors map to stable API errors', async (t) => {
  const cases: [Error, string, number][] = [
    [new StoreValidationError('invalid name', 'name'), 'invalid_request', 400],
    [new StoreConflictError('dup'), 'conflict', 409],
    [new StoreNotFoundError('gone'), 'not_found', 404],
    [new InviteRejectedError('expired'), 'invite_rejected', 400],
    [new StoreUnavailableError('down'), 'store_unavailable', 503],
    [new Error('boom'), 'internal', 500],
  ];
  for (const [err, code, status] of cases) {
    const ce = toControlError(err);
    t.equal(ce.code, code, err.name);
    t.equal(ce.status, status);
  }
  t.equal(toControlError(new StoreValidationError('x', 'name')).field, 'name');
  t.notMatch(toControlError(new Error('secret detail')).message, /secret detail/, 'internal errors do not leak their message');
});
