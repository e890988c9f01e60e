/**
 * OpenAI Chat Completions callers (official `openai` SDK) through the real chain: translated to Ollama's native
 * /api/chat, and passed through to an OpenAI-compatible server.
 */
import t from 'tap';
import OpenAI from 'openai';
import {
  MISSING_DEP,
  OLLAMA_DEP,
  OPENAI_DEP,
  PNG,
  WEATHER_TOOL,
  chatTool,
  defaultOllamaScript,
  defaultScript,
  startTranslateStack,
  within,
  type TranslateStack,
} from '../support/index.js';

let s: TranslateStack;
t.before(async () => {
  s = await startTranslateStack();
});
t.teardown(() => s?.close());

const openai = (baseURL?: string) => new OpenAI({ apiKey: s.apiKey, baseURL: baseURL ?? `${s.origin}/v1`, maxRetries: 0 });

t.test('the connectors detected their upstreams and logged what they found', async (t) => {
  t.match(s.probes[OLLAMA_DEP], { kind: 'ollama', detected: true, models: ['llama3.2:latest'], msg: 'upstream speaks Ollama' });
  t.match(s.probes[OPENAI_DEP], { kind: 'openai', detected: true, models: ['Qwen/Qwen2.5-7B-Instruct'], msg: 'upstream speaks the OpenAI API' });
});

t.test('Ollama, not streamed: text, stop, usage; Ollama got its native request', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['A red', ' square.'], usage: { prompt_eval_count: 21, eval_count: 3 } });
  const res = await openai().chat.completions.create({
    model: OLLAMA_DEP,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] },
    ],
    max_tokens: 64,
    temperature: 0.2,
    stop: ['END'],
    seed: 7,
  });
  t.equal(res.object, 'chat.completion');
  t.equal(res.model, OLLAMA_DEP, 'the caller sees its deployment name, not the upstream model');
  t.equal(res.choices[0]?.message.content, 'A red square.');
  t.equal(res.choices[0]?.finish_reason, 'stop');
  t.same(res.usage, { prompt_tokens: 21, completion_tokens: 3, total_tokens: 24 });
  t.strictSame(s.ollama.last.body, {
    model: 'llama3.2:latest',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is this?', images: [PNG] },
    ],
    stream: true,
    options: { temperature: 0.2, num_predict: 64, stop: ['END'], seed: 7 },
  });
  t.equal(s.ollama.last.path, '/api/chat');
});

t.test('Ollama, streamed with include_usage: role first, one id, usage chunk last, [DONE]', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['one', ' two', ' three'], usage: { prompt_eval_count: 5, eval_count: 3 } });
  const stream = await openai().chat.completions.create({
    model: OLLAMA_DEP,
    messages: [{ role: 'user', content: 'count' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  t.same(chunks[0]?.choices[0]?.delta, { role: 'assistant', content: '' });
  t.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id for the whole stream');
  t.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'one two three');
  const last = chunks.at(-1)!;
  t.same(last.choices, []);
  t.same(last.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  t.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
  t.ok(chunks.slice(0, -1).every((c) => c.usage === null), 'earlier chunks carry usage: null');
  t.notOk('stream_options' in s.ollama.last.body, 'nothing OpenAI-only reaches Ollama');
});

t.test('Ollama, tools: stream helper assembles the call (tool calls and done apart); the tool result round-trips', async (t) => {
  s.ollama.script = () => ({
    ...defaultOllamaScript(),
    chunks: ['Let me check.'],
    toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
    toolCallLine: 'separate',
    usage: { prompt_eval_count: 40, eval_count: 12 },
  });
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
  const stream = openai().chat.completions.stream({ model: OLLAMA_DEP, messages, tools: [chatTool(WEATHER_TOOL)], stream_options: { include_usage: true } });
  const first = await stream.finalChatCompletion();
  const choice = first.choices[0]!;
  t.equal(choice.finish_reason, 'tool_calls', 'tool_calls even though Ollama said done_reason stop on a later line');
  t.equal(choice.message.content, 'Let me check.');
  const call = choice.message.tool_calls?.[0];
  t.ok(call && call.type === 'function');
  if (!call || call.type !== 'function') return;
  t.equal(call.function.name, 'get_weather');
  t.same(JSON.parse(call.function.arguments), { city: 'Paris' });
  t.match(call.id, /^call_/);
  t.same(first.usage, { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 });
  t.strictSame(s.ollama.last.body.tools, [chatTool(WEATHER_TOOL)], 'tools reach Ollama in its (OpenAI-like) shape');

  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['Sunny, 24 °C.'] });
  messages.push(choice.message as OpenAI.Chat.ChatCompletionAssistantMessageParam, { role: 'tool', tool_call_id: call.id, content: '{"temp":24,"sky":"clear"}' });
  const second = await openai().chat.completions.create({ model: OLLAMA_DEP, messages, tools: [chatTool(WEATHER_TOOL)] });
  t.equal(second.choices[0]?.message.content, 'Sunny, 24 °C.');
  t.equal(second.choices[0]?.finish_reason, 'stop');
  t.strictSame(s.ollama.last.body.messages, [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: call.id, function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
    { role: 'tool', content: '{"temp":24,"sky":"clear"}', tool_call_id: call.id, tool_name: 'get_weather' },
  ]);
});

t.test('Ollama, tools, not streamed: tool_calls with JSON-text arguments, content null', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: [], toolCalls: [{ id: 'call_abc', name: 'get_weather', arguments: { city: 'Oslo' } }] });
  const res = await openai().chat.completions.create({ model: OLLAMA_DEP, messages: [{ role: 'user', content: 'Oslo?' }], tools: [chatTool(WEATHER_TOOL)] });
  t.equal(res.choices[0]?.finish_reason, 'tool_calls');
  t.equal(res.choices[0]?.message.content, null);
  t.same(res.choices[0]?.message.tool_calls, [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
});

t.test('Ollama: done_reason length -> finish_reason length', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['Once upon a'], doneReason: 'length', usage: { prompt_eval_count: 3, eval_count: 4 } });
  const res = await openai().chat.completions.create({ model: OLLAMA_DEP, messages: [{ role: 'user', content: 'story' }], max_tokens: 4 });
  t.equal(res.choices[0]?.finish_reason, 'length');
  t.match(s.ollama.last.body, { options: { num_predict: 4 } });
});

t.test('OpenAI-compatible passthrough: body forwarded with only model rewritten; tools streamed and not', async (t) => {
  s.openai.script = () => ({ ...defaultScript(), chunks: [], toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Rome"}' }], finishReason: 'tool_calls' });
  const body = { model: OPENAI_DEP, messages: [{ role: 'user' as const, content: 'Rome?' }], tools: [chatTool(WEATHER_TOOL)], tool_choice: 'required' as const, n: 1 };
  const res = await openai().chat.completions.create(body);
  t.equal(res.choices[0]?.finish_reason, 'tool_calls');
  t.same(res.choices[0]?.message.tool_calls?.[0], { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } });
  t.strictSame(s.openai.last.body, { ...body, model: 'Qwen/Qwen2.5-7B-Instruct' }, 'untouched but for model');

  s.openai.script = () => ({ ...defaultScript(), chunks: ['Checking.'], toolCalls: [{ id: 'call_2', name: 'get_weather', arguments: '{"city":"Lima"}' }], finishReason: 'tool_calls' });
  const final = await openai()
    .chat.completions.stream({ model: OPENAI_DEP, messages: [{ role: 'user', content: 'Lima?' }], tools: [chatTool(WEATHER_TOOL)], stream_options: { include_usage: true } })
    .finalChatCompletion();
  t.equal(final.choices[0]?.message.content, 'Checking.');
  const call = final.choices[0]?.message.tool_calls?.[0];
  t.same(call?.type === 'function' ? JSON.parse(call.function.arguments) : null, { city: 'Lima' });
  t.same(final.usage, { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 });
  t.same(s.openai.last.body.stream_options, { include_usage: true });
});

t.test('base URL with and without /v1', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['ok'] });
  for (const base of [s.origin, `${s.origin}/v1`]) {
    const res = await openai(base).chat.completions.create({ model: OLLAMA_DEP, messages: [{ role: 'user', content: 'x' }] });
    t.equal(res.choices[0]?.message.content, 'ok', base);
  }
});

async function apiError(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error('expected an API error');
}

t.test('errors before the stream: status and OpenAI error shape', async (t) => {
  const c = openai();
  const user = [{ role: 'user' as const, content: 'x' }];

  let e = await apiError(c.chat.completions.create({ model: OLLAMA_DEP, messages: user, n: 2 }));
  t.equal(e.status, 400);
  t.match(e.error, { type: 'invalid_request_error', code: 'unsupported_parameter', message: /'n'/ });
  t.equal(e.param, 'n', 'the parameter is named in `param` too');

  e = await apiError(c.chat.completions.create({ model: OLLAMA_DEP, messages: user, stream: true, tools: [chatTool(WEATHER_TOOL)], tool_choice: 'required' }));
  t.equal(e.status, 400, 'a streamed request fails with a status, not a stream');
  t.match(e.error, { code: 'unsupported_parameter', message: /tool/ });
  t.equal(e.param, 'tool_choice');

  e = await apiError(c.chat.completions.create({ model: OLLAMA_DEP, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }));
  t.match(e, { status: 400, code: 'unsupported_parameter', param: 'messages[0].content[0].image_url.url' }, 'Ollama cannot fetch image links');

  e = await apiError(c.chat.completions.create({ model: MISSING_DEP, messages: user }));
  t.equal(e.status, 404, 'Ollama 404 model not found');
  t.match(e.error, { type: 'invalid_request_error', code: 'model_not_found' });
  t.notMatch(e.message, /mistral/, 'the upstream model name stays private');

  e = await apiError(c.chat.completions.create({ model: MISSING_DEP, messages: user, stream: true }));
  t.equal(e.status, 404, 'streamed too');

  // vLLM's own error objects, passed through an OpenAI Chat caller, still come back in OpenAI's shape.
  s.openai.script = () => ({
    ...defaultScript(),
    fail: { status: 404, body: { object: 'error', message: 'The model `Qwen/Qwen2.5-7B-Instruct` does not exist.', type: 'NotFoundError', param: null, code: 404 } },
  });
  e = await apiError(c.chat.completions.create({ model: OPENAI_DEP, messages: user }));
  t.equal(e.status, 404);
  t.match(e.error, { type: 'invalid_request_error', code: 'model_not_found' });
  t.notMatch(e.message, /Qwen/, 'the upstream model name stays private');

  s.openai.script = () => ({
    ...defaultScript(),
    fail: { status: 400, body: { object: 'error', message: "This model's maximum context length is 4096 tokens.", type: 'BadRequestError', param: null, code: 400 } },
  });
  e = await apiError(c.chat.completions.create({ model: OPENAI_DEP, messages: user, stream: true }));
  t.equal(e.status, 400);
  t.match(e.error, { type: 'invalid_request_error', code: 'invalid_request', message: /maximum context length is 4096/ });
  s.openai.script = () => defaultScript();
});

t.test('client disconnect mid-stream on a translated stream aborts the Ollama request within 1 s', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: Array.from({ length: 200 }, (_, i) => `t${i} `), delayMs: 20 });
  const aborted = s.ollama.next('aborted');
  const stream = await openai().chat.completions.create({ model: OLLAMA_DEP, messages: [{ role: 'user', content: 'long' }], stream: true });
  let got = '';
  for await (const c of stream) {
    got += c.choices[0]?.delta.content ?? '';
    if (got.length > 0) break; // leaving the loop aborts the HTTP request
  }
  const cut = Date.now();
  const { value: seen } = await within(aborted, 1000, 'Ollama saw the abort');
  t.equal(seen.aborted, true);
  t.ok(Date.now() - cut < 1000, `aborted after ${Date.now() - cut} ms`);
  t.equal(seen.finished, false);
});
