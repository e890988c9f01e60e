import t from 'tap';
import { ERRORS, TokiosError, renderError, renderStreamError, type ErrorCode } from '../../src/errors/index.js';

const ANTHROPIC_TYPES = new Set(['invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error', 'request_too_large', 'rate_limit_error', 'api_error', 'overloaded_error']);

t.test('every code has a status and a type in each protocol', async (t) => {
  for (const [code, spec] of Object.entries(ERRORS)) {
    t.ok(spec.status >= 400 && spec.status < 600, `${code} status`);
    t.ok(ANTHROPIC_TYPES.has(spec.anthropic), `${code} anthropic type ${spec.anthropic}`);
    t.ok(spec.openai.length > 0 && spec.message.length > 0, `${code} openai type and message`);
    t.equal(new TokiosError(code as ErrorCode).status, spec.status);
  }
});

t.test('errors render in the caller shape', async (t) => {
  const err = new TokiosError('no_tunnel', 'No connector is online for deployment "m".');
  t.same(renderError('openai.chat', err), { error: { message: 'No connector is online for deployment "m".', type: 'server_error', param: null, code: 'no_tunnel' } });
  t.same(renderError('openai.responses', err), { error: { message: 'No connector is online for deployment "m".', type: 'server_error', param: null, code: 'no_tunnel' } });
  t.same(renderError('anthropic.messages', err), { type: 'error', error: { type: 'overloaded_error', message: 'No connector is online for deployment "m".' } });
  const param = new TokiosError('invalid_request', 'bad', { param: 'messages' });
  t.same(renderError('openai.chat', param), { error: { message: 'bad', type: 'invalid_request_error', param: 'messages', code: 'invalid_request' } });
});

t.test('stream errors are one event in the protocol stream format', async (t) => {
  const err = new TokiosError('tunnel_lost', 'lost');
  t.equal(renderStreamError('openai.chat', err), 'data: {"error":{"message":"lost","type":"server_error","param":null,"code":"tunnel_lost"}}\n\n');
  t.equal(renderStreamError('anthropic.messages', err), 'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"lost"}}\n\n');
  t.match(renderStreamError('openai.responses', err), /^event: error\ndata: \{"type":"error","code":"tunnel_lost","message":"lost","param":null}\n\n$/);
});
