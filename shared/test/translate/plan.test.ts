import t from 'tap';
import { TokiosError } from '../../src/errors/registry.js';
import type { CallerProtocol } from '../../src/protocol/meta.js';
import type { CallerAdapter } from '../../src/translate/adapter.js';
import { openaiChatCaller, planTranslation, type PlanArgs, type TranslationPlan } from '../../src/translate/index.js';
import { chunkings } from '../codec/feed.js';
import { fixedOptions, ndjson, sse } from './support.js';

/** Stand-in for the other callers (wired at merge time): records what it was given. */
const stubCaller = (protocol: CallerProtocol): CallerAdapter => ({
  protocol,
  parseRequest: (body) => ({ model: 'x', messages: [{ role: 'user', content: String((body as { q: string }).q) }], stream: false }),
  createStreamEncoder: () => ({ push: () => '', end: () => '', fail: () => '' }),
  createAggregator: () => ({ push: () => undefined, result: () => ({ stub: protocol }) }),
});
const callers = { 'openai.chat': openaiChatCaller, 'anthropic.messages': stubCaller('anthropic.messages'), 'openai.responses': stubCaller('openai.responses') };

function plan(body: unknown, over: Partial<PlanArgs> = {}): TranslationPlan {
  const p = planTranslation({
    protocol: 'openai.chat',
    body,
    upstreamKind: 'ollama',
    upstreamModel: 'llama3.1:8b',
    requestId: 'r42',
    deploymentName: 'team-llama',
    callers,
    decoderOptions: fixedOptions(),
    ...over,
  });
  if (p.passthrough) throw new Error('unexpected passthrough');
  return p;
}

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
    const p = plan(streamBody);
    let out = '';
    for (const ch of chunks) out += p.translator.push(ch);
    out += p.translator.end();
    if (out !== expected && mismatches++ === 0) t.equal(out, expected, name);
    if (name === 'whole') {
      t.strictSame(p.translator.usage(), { input_tokens: 31, output_tokens: 12 });
      t.equal(p.translator.error(), undefined);
    }
  }
  t.equal(mismatches, 0);
  const p = plan(streamBody);
  t.equal(p.stream, true);
  t.equal(p.contentType, 'text/event-stream; charset=utf-8');
  t.equal(p.upstream.path, '/api/chat');
  t.equal(
    p.upstream.body,
    '{"model":"llama3.1:8b","messages":[{"role":"user","content":"Weather in Oslo?"}],"stream":true,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}',
  );
});

t.test('non-stream: push returns "", end returns the chat.completion JSON', async (t) => {
  const p = plan({ ...streamBody, stream: false, stream_options: undefined });
  t.equal(p.contentType, 'application/json');
  t.equal(p.stream, false);
  t.equal(p.translator.push(new TextEncoder().encode(ollamaToolAnswer)), '');
  t.strictSame(JSON.parse(p.translator.end()), {
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
  t.equal(p.translator.end(), '');
});

t.test('upstream error mid-stream: error chunk, error() tells the code; non-stream gets an error body', async (t) => {
  const bytes = new TextEncoder().encode(ndjson({ model: 'm', created_at: at, message: { role: 'assistant', content: 'Hi' }, done: false }, { error: 'out of memory' }));
  const s = plan({ ...streamBody, stream_options: { include_usage: false } });
  const out = s.translator.push(bytes) + s.translator.end();
  const H2 = H.replace(',"usage":null', '');
  t.equal(
    out,
    `${H2}[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n` +
      `${H2}[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}\n\n` +
      'data: {"error":{"message":"The model server failed: out of memory","type":"server_error","param":null,"code":"upstream_error"}}\n\n',
  );
  t.strictSame(s.translator.error(), { code: 'upstream_error', message: 'The model server failed: out of memory' });

  const n = plan({ ...streamBody, stream: false, stream_options: undefined });
  t.equal(n.translator.push(bytes), '');
  t.equal(n.translator.end(), '{"error":{"message":"The model server failed: out of memory","type":"server_error","param":null,"code":"upstream_error"}}');
  t.strictSame(n.translator.error(), { code: 'upstream_error', message: 'The model server failed: out of memory' });
});

t.test('fail() from the connector (tunnel lost, cancel): once, in the caller format', async (t) => {
  const s = plan(streamBody);
  s.translator.push(new TextEncoder().encode(ndjson({ model: 'm', created_at: at, message: { role: 'assistant', content: 'a' }, done: false })));
  t.equal(s.translator.fail({ code: 'tunnel_lost', message: 'The tunnel to the model was lost mid-request.' }), 'data: {"error":{"message":"The tunnel to the model was lost mid-request.","type":"server_error","param":null,"code":"tunnel_lost"}}\n\n');
  t.equal(s.translator.fail({ code: 'timeout', message: 'x' }), '');
  t.equal(s.translator.end(), '');
  t.strictSame(s.translator.error(), { code: 'tunnel_lost', message: 'The tunnel to the model was lost mid-request.' });

  const a = plan({ q: 'hi' }, { protocol: 'anthropic.messages' });
  t.equal(a.translator.fail({ code: 'timeout', message: 'Too slow.' }), '{"type":"error","error":{"type":"api_error","message":"Too slow."}}');
});

t.test('the injected callers map is used for other protocols', async (t) => {
  const a = plan({ q: 'hello' }, { protocol: 'anthropic.messages' });
  t.equal(a.upstream.body, '{"model":"llama3.1:8b","messages":[{"role":"user","content":"hello"}],"stream":true}');
  a.translator.push(new TextEncoder().encode(ndjson({ model: 'm', created_at: at, message: { role: 'assistant', content: 'x' }, done: true, done_reason: 'stop' })));
  t.equal(a.translator.end(), '{"stub":"anthropic.messages"}');
});

t.test('OpenAI Chat caller over an OpenAI-compatible upstream: translated when the caller is not OpenAI Chat', async (t) => {
  const p = plan({ q: 'hi' }, { protocol: 'openai.responses', upstreamKind: 'openai', upstreamModel: 'Qwen/Qwen2.5' });
  t.equal(p.upstream.path, '/v1/chat/completions');
  t.equal(p.upstream.body, '{"model":"Qwen/Qwen2.5","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}');
  const u = sse(
    { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'q', choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: 'stop' }] },
    { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'q', choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } },
    '[DONE]',
  );
  p.translator.push(new TextEncoder().encode(u));
  t.equal(p.translator.end(), '{"stub":"openai.responses"}');
  t.strictSame(p.translator.usage(), { input_tokens: 3, output_tokens: 1 });
});

t.test('passthrough: openai.chat + openai upstream rewrites only model', async (t) => {
  const body = { model: 'team-llama', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true }, logprobs: true, n: 2 };
  const p = planTranslation({ protocol: 'openai.chat', body, upstreamKind: 'openai', upstreamModel: 'Qwen/Qwen2.5', requestId: 'r', deploymentName: 'team-llama', callers });
  t.strictSame(p, {
    passthrough: true,
    stream: true,
    upstream: {
      path: '/v1/chat/completions',
      body: '{"model":"Qwen/Qwen2.5","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"logprobs":true,"n":2}',
      headers: { 'content-type': 'application/json' },
    },
  });
  t.throws(() => planTranslation({ protocol: 'openai.chat', body: [1], upstreamKind: 'openai', upstreamModel: 'q', requestId: 'r', deploymentName: 'd', callers }), { code: 'invalid_request' });
});

t.test('bad requests throw TokiosError before anything is sent', async (t) => {
  const e = t.throws(() => plan({ model: 'team-llama', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] })) as unknown as TokiosError;
  t.ok(e instanceof TokiosError);
  t.strictSame({ code: e.code, param: e.param, status: e.status }, { code: 'unsupported_parameter', param: 'messages[0].content[0].image_url.url', status: 400 });
  t.throws(() => plan({ model: 'team-llama', messages: [{ role: 'user', content: 'x' }], n: 3 }), { code: 'unsupported_parameter', param: 'n' });
});
