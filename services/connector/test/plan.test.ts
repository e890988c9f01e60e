import t from 'tap';
import type { RequestMeta } from '@tokios/shared/protocol';
import { planRequest } from '../src/plan.js';

const meta = (over: Partial<RequestMeta> = {}): RequestMeta => ({
  rid: 'req_1',
  protocol: 'openai.chat',
  model: 'team-vllm',
  stream: false,
  bodyLength: 0,
  deadline: Date.now() + 60_000,
  ...over,
});
const ctx = { upstreamKind: 'openai' as const, upstreamModel: () => 'Qwen/Qwen2.5-7B-Instruct' };
const body = (b: object) => Buffer.from(JSON.stringify(b));

t.test('passthrough: a non-2xx upstream answer comes back in OpenAI shape, without the upstream model name', async (t) => {
  for (const stream of [false, true]) {
    const plan = planRequest(ctx, meta({ stream }), body({ model: 'team-vllm', messages: [{ role: 'user', content: 'x' }], stream }));
    const tr = plan.translate(404, 'application/json');
    t.equal(tr.headFirst, false, 'the status is known only once the body is read');
    tr.push(Buffer.from('{"object":"error","message":"The model `Qwen/Qwen2.5-7B-Instruct` does not exist.","type":"NotFoundError","param":null,"code":404}'));
    const out = JSON.parse(tr.end().toString()) as { error: { code: string; type: string; message: string } };
    t.equal(tr.status(), 404);
    t.match(out, { error: { code: 'model_not_found', type: 'invalid_request_error' } });
    t.notMatch(out.error.message, /Qwen/);
  }
});

t.test('passthrough: 2xx bodies pass untouched; in-stream vLLM errors are rewritten', async (t) => {
  const whole = planRequest(ctx, meta(), body({ model: 'team-vllm', messages: [] })).translate(200, 'application/json');
  const raw = Buffer.from('{"id":"x","object":"chat.completion"}');
  t.equal(whole.push(raw), raw, 'the very same buffer');
  const stream = planRequest(ctx, meta({ stream: true }), body({ model: 'team-vllm', messages: [], stream: true })).translate(200, 'text/event-stream');
  t.equal(stream.headFirst, true);
  t.equal(stream.push(Buffer.from('data: {"object":"error","message":"boom"}\n\n')).toString(), 'data: {"error":{"message":"The model server failed: boom","type":"server_error","param":null,"code":"upstream_error"}}\n\n');
});
