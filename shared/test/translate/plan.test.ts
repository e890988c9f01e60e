import t from 'tap';
import { TokiosError } from '../../src/errors/registry.js';
import { planTranslation, type AnswerTranslator, type PlanMeta, type UpstreamPlan, type UpstreamTarget } from '../../src/translate/index.js';
import { chunkings } from '../codec/feed.js';
import { fixedOptions, ndjson, sse } from './support.js';

const enc = (text: string) => Buffer.from(text, 'utf8');

function plan(body: unknown, over: Partial<PlanMeta> = {}, upstream: UpstreamTarget = { kind: 'ollama', model: 'llama3.1:8b' }): UpstreamPlan {
  const stream = typeof body === 'object' && body !== null && (body as { stream?: unknown }).stream === true;
  return planTranslation({ rid: 'r42', protocol: 'openai.chat', model: 'team-llama', stream, ...over }, enc(JSON.stringify(body)), upstream, { decoderOptions: fixedOptions() });
}

/** The answer of a plan to a 200 from the model server. */
const answer = (p: UpstreamPlan): AnswerTranslator => p.translate(200, 'application/x-ndjson');
const text = (out: Buffer | string): string => out.toString();

const at = '2024-05-01T10:00:00Z';
const ollamaToolAnswer = ndjson(
  { model: 'llama3.1:8b', created_at: at, message: { role: 'assistant', content: 'Let me look.' }, done: false },
  { model: 'llama3.1:8b', created_at: at, message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Oslo' } } }] }, done: false },
  { model: 'llama3.1:8b', created_at: at, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 31, eval_count: 12 },
);
const H = 'data: {"id":"chatcmpl-r42","object":"chat.completion.chunk","created":1714557600,"model":"team-llama","choices":';
const c = (delta: string, finish: string | null = null) => `${H}[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}],"usage":null}\n\n`;
const streamBody = {
  model: 'team-llama',
  messages: [{ role: 'user', content: 'Weather in Oslo?' }],
  stream: true,
  stream_options: { include_usage: true },
  tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
};

t.test('OpenAI Chat caller over Ollama, streamed: exact bytes for every chunking (tool call + done apart)', async (t) => {
  const expected =
    c('{"role":"assistant","content":""}') +
    c('{"content":"Let me look."}') +
    c('{"tool_calls":[{"index":0,"id":"call_2","type":"function","function":{"name":"get_weather","arguments":""}}]}') +
    c('{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":\\"Oslo\\"}"}}]}') +
    c('{}', 'tool_calls') +
    `${H}[],"usage":{"prompt_tokens":31,"completion_tokens":12,"total_tokens":43}}\n\n` +
    'data: [DONE]\n\n';
  let mismatches = 0;
  for (const { name, chunks } of chunkings(ollamaToolAnswer)) {
    const a = answer(plan(streamBody));
    let out = '';
    for (const ch of chunks) out += text(a.push(Buffer.from(ch)));
    out += text(a.end());
    if (out !== expected && mismatches++ === 0) t.equal(out, expected, name);
    if (name === 'whole') {
      t.strictSame(a.usage(), { input_tokens: 31, output_tokens: 12 });
      t.equal(a.status(), 200);
    }
  }
  t.equal(mismatches, 0);
  const p = plan(streamBody);
  const a = answer(p);
  t.equal(a.headFirst, true);
  t.equal(a.contentType, 'text/event-stream; charset=utf-8');
  t.equal(p.path, '/api/chat');
  t.equal(
    p.body,
    '{"model":"llama3.1:8b","messages":[{"role":"user","content":"Weather in Oslo?"}],"stream":true,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}',
  );
});

t.test('non-stream: push returns "", end returns the chat.completion JSON; the head waits for it', async (t) => {
  const a = answer(plan({ ...streamBody, stream: false, stream_options: undefined }));
  t.equal(a.contentType, 'application/json');
  t.equal(a.headFirst, false);
  t.equal(a.push(enc(ollamaToolAnswer)), '');
  t.strictSame(JSON.parse(text(a.end())), {
    id: 'chatcmpl-r42',
    object: 'chat.completion',
    created: 1714557600,
    model: 'team-llama',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Let me look.', refusal: null, tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 31, completion_tokens: 12, total_tokens: 43 },
  });
  t.equal(a.status(), 200);
  t.equal(a.end(), '');
});

t.test('upstream error mid-stream: error chunk; a whole answer gets an error body and its status', async (t) => {
  const bytes = enc(ndjson({ model: 'm', created_at: at, message: { role: 'assistant', content: 'Hi' }, done: false }, { error: 'out of memory' }));
  const s = answer(plan({ ...streamBody, stream_options: { include_usage: false } }));
  const out = text(s.push(bytes)) + text(s.end());
  const H2 = H.replace(',"usage":null', '');
  t.equal(
    out,
    `${H2}[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n` +
      `${H2}[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}\n\n` +
      'data: {"error":{"message":"The model server failed: out of memory","type":"server_error","param":null,"code":"upstream_error"}}\n\n',
  );
  t.equal(s.errorCode?.(), 'upstream_error', 'the 200 stream is an error outcome (End.error)');

  const n = answer(plan({ ...streamBody, stream: false, stream_options: undefined }));
  t.equal(n.push(bytes), '');
  t.equal(n.end(), '{"error":{"message":"The model server failed: out of memory","type":"server_error","param":null,"code":"upstream_error"}}');
  t.equal(n.status(), 502);
  t.equal(n.errorCode?.(), 'upstream_error');
  const ok = answer(plan(streamBody));
  ok.push(enc(ollamaToolAnswer));
  ok.end();
  t.equal(ok.errorCode?.(), undefined, 'an answer without an error event is no error');
});

t.test('fail() from the connector (tunnel lost, cancel): once, in the caller format', async (t) => {
  const s = answer(plan(streamBody));
  s.push(enc(ndjson({ model: 'm', created_at: at, message: { role: 'assistant', content: 'a' }, done: false })));
  t.equal(s.fail({ code: 'tunnel_lost', message: 'The tunnel to the model was lost mid-request.' }), 'data: {"error":{"message":"The tunnel to the model was lost mid-request.","type":"server_error","param":null,"code":"tunnel_lost"}}\n\n');
  t.equal(s.fail({ code: 'timeout', message: 'x' }), '');
  t.equal(s.end(), '');

  const a = answer(plan({ model: 'team-llama', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, { protocol: 'anthropic.messages' }));
  t.equal(a.fail({ code: 'timeout', message: 'Too slow.' }), '{"type":"error","error":{"type":"api_error","message":"Too slow."}}');
  t.equal(a.status(), 504);
});

t.test('each caller protocol gets its own caller adapter', async (t) => {
  const a = plan({ model: 'team-llama', max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] }, { protocol: 'anthropic.messages' });
  t.equal(a.body, '{"model":"llama3.1:8b","messages":[{"role":"user","content":"hello"}],"stream":true,"options":{"num_predict":10}}');
  const tr = answer(a);
  tr.push(enc(ndjson({ model: 'm', created_at: at, message: { role: 'assistant', content: 'x' }, done: true, done_reason: 'stop' })));
  t.match(JSON.parse(text(tr.end())), { type: 'message', model: 'team-llama', content: [{ type: 'text', text: 'x' }] });
});

t.test('a non-2xx answer from the model server: the caller error shape, status after the body', async (t) => {
  const a = plan({ model: 'team-llama', max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] }, { protocol: 'anthropic.messages' }).translate(404, 'application/json');
  t.equal(a.headFirst, false);
  t.equal(a.push(enc('{"error":"model \\"llama3.1:8b\\" not found, try pulling it first"}')), '');
  t.match(JSON.parse(text(a.end())), { type: 'error', error: { type: 'not_found_error' } });
  t.equal(a.status(), 404);
});

t.test('Responses caller over an OpenAI-compatible upstream: translated (only OpenAI Chat passes through)', async (t) => {
  const p = plan({ model: 'team-llama', input: 'hi' }, { protocol: 'openai.responses' }, { kind: 'openai', model: 'Qwen/Qwen2.5' });
  t.equal(p.path, '/v1/chat/completions');
  t.equal(p.body, '{"model":"Qwen/Qwen2.5","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}');
  const u = sse(
    { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'q', choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: 'stop' }] },
    { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'q', choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } },
    '[DONE]',
  );
  const a = p.translate(200, 'text/event-stream');
  a.push(enc(u));
  t.match(JSON.parse(text(a.end())), { object: 'response', model: 'team-llama', status: 'completed', output: [{ type: 'message', content: [{ text: 'ok' }] }] });
  t.strictSame(a.usage(), { input_tokens: 3, output_tokens: 1 });
});

t.test('passthrough: openai.chat + openai upstream rewrites only model (and asks a stream for usage)', async (t) => {
  const openai: UpstreamTarget = { kind: 'openai', model: 'Qwen/Qwen2.5' };
  const body = { model: 'team-llama', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true }, logprobs: true, n: 2 };
  const p = plan(body, {}, openai);
  t.equal(p.path, '/v1/chat/completions');
  t.strictSame(p.headers, { 'content-type': 'application/json' });
  t.equal(p.body, '{"model":"Qwen/Qwen2.5","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"logprobs":true,"n":2}');
  t.throws(() => plan([1], { stream: true }, openai), { code: 'invalid_request' });
  t.throws(() => planTranslation({ rid: 'r', protocol: 'openai.chat', model: 'team-llama', stream: true }, enc('{"model":'), openai), { code: 'invalid_json' });
  const same = enc('{"model":"Qwen/Qwen2.5","messages":[]}');
  t.equal(planTranslation({ rid: 'r', protocol: 'openai.chat', model: 'Qwen/Qwen2.5', stream: false }, same, openai).body, same, 'no rename, not streamed: the very same bytes');
});

t.test('bad requests throw TokiosError before anything is sent', async (t) => {
  const e = t.throws(() => plan({ model: 'team-llama', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] })) as unknown as TokiosError;
  t.ok(e instanceof TokiosError);
  t.strictSame({ code: e.code, param: e.param, status: e.status }, { code: 'unsupported_parameter', param: 'messages[0].content[0].image_url.url', status: 400 });
  t.throws(() => plan({ model: 'team-llama', messages: [{ role: 'user', content: 'x' }], n: 3 }), { code: 'unsupported_parameter', param: 'n' });
  t.throws(() => planTranslation({ rid: 'r', protocol: 'anthropic.messages', model: 'm', stream: false }, enc('nope'), { kind: 'ollama', model: 'x' }), { code: 'invalid_json' });
});
