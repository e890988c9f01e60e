import t from 'tap';
import { TokiosError } from '../../../src/errors/registry.js';
import type { ChatRequest } from '../../../src/translate/pivot.js';
import { buildOllamaRequest } from '../../../src/translate/upstream/ollama/index.js';
import { buildOpenAIRequest } from '../../../src/translate/upstream/openai/index.js';

const weather = { type: 'function' as const, function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

const full: ChatRequest = {
  model: 'my-deployment',
  stream: false,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'text', text: 'And the weather?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
    { role: 'assistant', content: null, reasoning_content: 'Need a tool.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '18C' },
    { role: 'user', content: 'Thanks' },
  ],
  temperature: 0.2,
  top_p: 0.9,
  top_k: 40,
  max_tokens: 256,
  stop: ['</s>', 'END'],
  seed: 7,
  tools: [weather],
  tool_choice: 'auto',
  user: 'u-1',
  stream_options: { include_usage: true },
};

t.test('OpenAI-compatible body: always streamed with include_usage, model rewritten, top_k forwarded', async (t) => {
  const r = buildOpenAIRequest(full, { model: 'Qwen/Qwen2.5-7B-Instruct' });
  t.equal(r.path, '/v1/chat/completions');
  t.strictSame(r.headers, { 'content-type': 'application/json', accept: 'text/event-stream' });
  t.equal(
    r.body,
    JSON.stringify({
      model: 'Qwen/Qwen2.5-7B-Instruct',
      messages: full.messages,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      max_tokens: 256,
      stop: ['</s>', 'END'],
      seed: 7,
      tools: [weather],
      tool_choice: 'auto',
      user: 'u-1',
    }),
  );
});

t.test('OpenAI-compatible minimal body; tool_choice without tools', async (t) => {
  const min: ChatRequest = { model: 'x', stream: true, messages: [{ role: 'user', content: 'hi' }], tool_choice: 'none', parallel_tool_calls: false };
  t.equal(buildOpenAIRequest(min, { model: 'm' }).body, '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}');
  t.throws(() => buildOpenAIRequest({ ...min, tool_choice: 'required' }, { model: 'm' }), { code: 'invalid_request', param: 'tool_choice' });
});

t.test('Ollama body: images stripped of data-URL prefix, tool args as object, tool_name, options', async (t) => {
  const r = buildOllamaRequest(full, { model: 'llama3.2-vision' });
  t.equal(r.path, '/api/chat');
  t.strictSame(r.headers, { 'content-type': 'application/json', accept: 'application/x-ndjson' });
  t.strictSame(JSON.parse(r.body), {
    model: 'llama3.2-vision',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is this?\nAnd the weather?', images: ['iVBORw0KGgo='] },
      { role: 'assistant', content: '', thinking: 'Need a tool.', tool_calls: [{ id: 'call_1', function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
      { role: 'tool', content: '18C', tool_call_id: 'call_1', tool_name: 'get_weather' },
      { role: 'user', content: 'Thanks' },
    ],
    stream: true,
    tools: [weather],
    options: { temperature: 0.2, top_p: 0.9, top_k: 40, num_predict: 256, stop: ['</s>', 'END'], seed: 7 },
  });
  // exact key order too
  t.equal(r.body.slice(0, 30), '{"model":"llama3.2-vision","me');
});

t.test('Ollama: URL images rejected (cannot fetch), non-base64 data URL invalid', async (t) => {
  const img = (url: string): ChatRequest => ({ model: 'x', stream: true, messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url } }] }] });
  const e = t.throws(() => buildOllamaRequest(img('https://example.com/cat.png'), { model: 'm' })) as unknown as TokiosError;
  t.ok(e instanceof TokiosError);
  t.equal(e.code, 'unsupported_parameter');
  t.equal(e.status, 400);
  t.equal(e.param, 'messages[0].content[1].image_url.url');
  t.equal(e.message, 'This deployment (Ollama) only takes images as base64 data URLs, not links.');
  t.throws(() => buildOllamaRequest(img('data:image/png,rawbytes'), { model: 'm' }), { code: 'invalid_request', param: 'messages[0].content[1].image_url.url' });
  t.throws(() => buildOllamaRequest(img('data:image/png;base64,'), { model: 'm' }), { code: 'invalid_request' });
});

t.test('Ollama: tool_choice / parallel_tool_calls that cannot be honoured are rejected; none drops tools', async (t) => {
  const base: ChatRequest = { model: 'x', stream: true, messages: [{ role: 'user', content: 'hi' }], tools: [weather] };
  t.throws(() => buildOllamaRequest({ ...base, tool_choice: 'required' }, { model: 'm' }), { code: 'unsupported_parameter', param: 'tool_choice' });
  t.throws(() => buildOllamaRequest({ ...base, tool_choice: { type: 'function', function: { name: 'get_weather' } } }, { model: 'm' }), { code: 'unsupported_parameter', param: 'tool_choice' });
  t.throws(() => buildOllamaRequest({ ...base, parallel_tool_calls: false }, { model: 'm' }), { code: 'unsupported_parameter', param: 'parallel_tool_calls' });
  t.equal(buildOllamaRequest({ ...base, tool_choice: 'none', parallel_tool_calls: false }, { model: 'm' }).body, '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}');
  t.equal(buildOllamaRequest({ ...base, tool_choice: 'auto', parallel_tool_calls: true, user: 'u' }, { model: 'm' }).body, `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"tools":${JSON.stringify([weather])}}`);
});

t.test('Ollama: assistant tool-call arguments must be a JSON object; empty means {}', async (t) => {
  const withArgs = (args: string): ChatRequest => ({
    model: 'x',
    stream: true,
    messages: [{ role: 'assistant', content: 'ok', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }] }],
  });
  t.strictSame(JSON.parse(buildOllamaRequest(withArgs(''), { model: 'm' }).body).messages[0].tool_calls[0].function.arguments, {});
  t.throws(() => buildOllamaRequest(withArgs('{"a":'), { model: 'm' }), { code: 'invalid_request', param: 'messages[0].tool_calls[0].function.arguments' });
  t.throws(() => buildOllamaRequest(withArgs('[1]'), { model: 'm' }), { code: 'invalid_request', param: 'messages[0].tool_calls[0].function.arguments' });
});

t.test('Ollama: tool result without a matching call has no tool_name', async (t) => {
  const body = JSON.parse(buildOllamaRequest({ model: 'x', stream: true, messages: [{ role: 'tool', tool_call_id: 'zz', content: 'r' }] }, { model: 'm' }).body);
  t.strictSame(body.messages, [{ role: 'tool', content: 'r', tool_call_id: 'zz' }]);
});

t.test('structured output: OpenAI-compatible servers get response_format as is; Ollama gets format "json" or the schema', async (t) => {
  const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
  const base: ChatRequest = { model: 'd', stream: true, messages: [{ role: 'user', content: 'x' }] };
  const asJson: ChatRequest = { ...base, response_format: { type: 'json_object' } };
  const asSchema: ChatRequest = { ...base, response_format: { type: 'json_schema', json_schema: { name: 'c', schema, strict: true } } };
  const noSchema: ChatRequest = { ...base, response_format: { type: 'json_schema', json_schema: { name: 'c' } } };
  const openai = (r: ChatRequest) => JSON.parse(buildOpenAIRequest(r, { model: 'u' }).body) as Record<string, unknown>;
  const ollama = (r: ChatRequest) => JSON.parse(buildOllamaRequest(r, { model: 'u' }).body) as Record<string, unknown>;
  t.strictSame(openai(asJson)['response_format'], { type: 'json_object' });
  t.strictSame(openai(asSchema)['response_format'], asSchema.response_format);
  t.equal(openai(base)['response_format'], undefined);
  t.equal(ollama(asJson)['format'], 'json');
  t.strictSame(ollama(asSchema)['format'], schema);
  t.equal(ollama(noSchema)['format'], 'json');
  t.equal(ollama(base)['format'], undefined);
});
