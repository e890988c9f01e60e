/**
 * Anthropic Messages callers (official `@anthropic-ai/sdk`: messages.create, messages.stream) through the real
 * chain, translated to Ollama's /api/chat and to an OpenAI-compatible /v1/chat/completions.
 */
import t from 'tap';
import Anthropic from '@anthropic-ai/sdk';
import {
  MISSING_DEP,
  OLLAMA_DEP,
  OPENAI_DEP,
  PNG,
  WEATHER_TOOL,
  anthropicTool,
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

/** x-api-key (the SDK's default). */
const byKey = (baseURL?: string) => new Anthropic({ apiKey: s.apiKey, baseURL: baseURL ?? s.origin, maxRetries: 0 });
/** Authorization: Bearer (authToken). */
const byToken = () => new Anthropic({ apiKey: null, authToken: s.apiKey, baseURL: s.origin, maxRetries: 0 });

const imageTurn: Anthropic.MessageParam = {
  role: 'user',
  content: [
    { type: 'text', text: 'What is in this picture?' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
  ],
};

t.test('Ollama, not streamed, x-api-key: system, stop_sequences, base64 image -> Ollama images', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['A tiny', ' pixel.'], usage: { prompt_eval_count: 25, eval_count: 4 } });
  const msg = await byKey().messages.create({
    model: OLLAMA_DEP,
    max_tokens: 100,
    system: 'You describe images.',
    stop_sequences: ['\n\nHuman:'],
    messages: [imageTurn],
  });
  t.match(msg, { type: 'message', role: 'assistant', model: OLLAMA_DEP, stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 25, output_tokens: 4 } });
  t.match(msg.id, /^msg_/);
  t.strictSame(msg.content, [{ type: 'text', text: 'A tiny pixel.' }]);
  t.strictSame(s.ollama.last.body, {
    model: 'llama3.2:latest',
    messages: [
      { role: 'system', content: 'You describe images.' },
      { role: 'user', content: 'What is in this picture?', images: [PNG] },
    ],
    stream: true,
    options: { num_predict: 100, stop: ['\n\nHuman:'] },
  });
  t.equal(s.ollama.last.headers['x-api-key'], undefined, 'the caller key stays at the gateway');
});

t.test('OpenAI-compatible, streamed, Bearer: exact event grammar; image as image_url data URL', async (t) => {
  s.openai.script = () => ({ ...defaultScript(), chunks: ['One', ' pixel.'], usage: { prompt_tokens: 30, completion_tokens: 3 } });
  const stream = await byToken().messages.create({
    model: OPENAI_DEP,
    max_tokens: 100,
    system: [{ type: 'text', text: 'You describe images.', cache_control: { type: 'ephemeral' } }],
    stop_sequences: ['STOP'],
    messages: [imageTurn],
    stream: true,
  });
  const events: Anthropic.RawMessageStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  t.strictSame(events.map((e) => e.type), [
    'message_start',
    'content_block_start',
    'content_block_delta',
    'content_block_delta',
    'content_block_stop',
    'message_delta',
    'message_stop',
  ]);
  t.match(events.at(-2), { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 30, output_tokens: 3 } });
  t.strictSame(s.openai.last.body, {
    model: 'Qwen/Qwen2.5-7B-Instruct',
    messages: [
      { role: 'system', content: 'You describe images.' },
      { role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] },
    ],
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 100,
    stop: ['STOP'],
  });
  t.equal(s.openai.last.headers.authorization, undefined, 'the caller token stays at the gateway');
});

for (const [label, dep] of [
  ['Ollama', OLLAMA_DEP],
  ['OpenAI-compatible', OPENAI_DEP],
] as const) {
  t.test(`${label}: messages.stream().finalMessage() with a tool, then the tool_result turn`, async (t) => {
    if (dep === OLLAMA_DEP) {
      s.ollama.script = () => ({
        ...defaultOllamaScript(),
        chunks: ['Checking', ' the weather.'],
        toolCalls: [{ name: 'get_weather', arguments: { city: 'Berlin' } }],
        usage: { prompt_eval_count: 50, eval_count: 15 },
      });
    } else {
      s.openai.script = () => ({
        ...defaultScript(),
        chunks: ['Checking', ' the weather.'],
        toolCalls: [{ id: 'call_b', name: 'get_weather', arguments: '{"city":"Berlin"}' }],
        finishReason: 'tool_calls',
        usage: { prompt_tokens: 50, completion_tokens: 15 },
      });
    }
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Berlin?' }];
    const tools = [anthropicTool(WEATHER_TOOL)];
    const stream = byKey().messages.stream({ model: dep, max_tokens: 200, messages, tools });
    const inputDeltas: string[] = [];
    stream.on('inputJson', (partial) => inputDeltas.push(partial));
    const first = await stream.finalMessage();
    t.equal(first.stop_reason, 'tool_use', 'mixed text + tool turn ends with tool_use');
    t.match(first.usage, { input_tokens: 50, output_tokens: 15 });
    t.equal(first.content.length, 2);
    t.match(first.content[0], { type: 'text', text: 'Checking the weather.' });
    const use = first.content[1];
    t.match(use, { type: 'tool_use', name: 'get_weather', input: { city: 'Berlin' } });
    t.ok(inputDeltas.length > 0, 'input_json_delta events were streamed');
    if (use?.type !== 'tool_use') return;
    t.match(use.id, /^toolu_|^call_/);
    const upstream = dep === OLLAMA_DEP ? s.ollama : s.openai;
    t.strictSame(upstream.last.body.tools, [chatTool(WEATHER_TOOL)]);

    if (dep === OLLAMA_DEP) s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['Cloudy, 12 °C.'] });
    else s.openai.script = () => ({ ...defaultScript(), chunks: ['Cloudy, 12 °C.'] });
    messages.push(
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"sky":"cloudy","c":12}' }, { type: 'text', text: 'Thanks!' }] },
    );
    const second = await byKey().messages.create({ model: dep, max_tokens: 200, messages, tools });
    t.match(second, { stop_reason: 'end_turn', content: [{ type: 'text', text: 'Cloudy, 12 °C.' }] });
    const sent = upstream.last.body.messages as Array<Record<string, unknown>>;
    t.same(
      sent.map((m) => m.role),
      ['user', 'assistant', 'tool', 'user'],
      'tool result before the remaining user text',
    );
    if (dep === OLLAMA_DEP) {
      t.match(sent[1], { content: 'Checking the weather.', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Berlin' } } }] });
      t.match(sent[2], { role: 'tool', tool_name: 'get_weather', content: '{"sky":"cloudy","c":12}' });
    } else {
      t.match(sent[1], { content: 'Checking the weather.', tool_calls: [{ id: use.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Berlin"}' } }] });
      t.match(sent[2], { role: 'tool', tool_call_id: use.id, content: '{"sky":"cloudy","c":12}' });
    }
    t.match(sent[3], { role: 'user', content: dep === OLLAMA_DEP ? 'Thanks!' : [{ type: 'text', text: 'Thanks!' }] });
  });
}

t.test('max_tokens reached -> stop_reason max_tokens (streamed and not), both upstreams', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['Once upon'], doneReason: 'length' });
  s.openai.script = () => ({ ...defaultScript(), chunks: ['Once upon'], finishReason: 'length' });
  for (const model of [OLLAMA_DEP, OPENAI_DEP]) {
    const a = await byKey().messages.create({ model, max_tokens: 2, messages: [{ role: 'user', content: 'story' }] });
    t.equal(a.stop_reason, 'max_tokens', model);
    const b = await byKey().messages.stream({ model, max_tokens: 2, messages: [{ role: 'user', content: 'story' }] }).finalMessage();
    t.equal(b.stop_reason, 'max_tokens', `${model} streamed`);
    t.match(b.content, [{ type: 'text', text: 'Once upon' }]);
  }
});

t.test('base URL with and without /v1 (the SDK appends /v1/messages)', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['ok'] });
  for (const base of [s.origin, `${s.origin}/v1`]) {
    const m = await byKey(base).messages.create({ model: OLLAMA_DEP, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    t.match(m.content, [{ type: 'text', text: 'ok' }], base);
  }
});

async function post(body: object, headers: Record<string, string> = { 'x-api-key': s.apiKey }): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${s.origin}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

t.test('errors before the stream: status and Anthropic error shape', async (t) => {
  const user = [{ role: 'user', content: 'x' }];
  let r = await post({ model: OLLAMA_DEP, messages: user, stream: true });
  t.equal(r.status, 400, 'max_tokens is required');
  t.match(r.body, { type: 'error', error: { type: 'invalid_request_error', message: /max_tokens/ } });

  r = await post({ model: OPENAI_DEP, max_tokens: 10, messages: user, output_format: { type: 'xml' } });
  t.match(r, { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: /output_format\.type/ } } }, 'a structured output type there is none of');

  r = await post({ model: OLLAMA_DEP, max_tokens: 10, messages: user, tool_choice: { type: 'any' }, tools: [anthropicTool(WEATHER_TOOL)] });
  t.match(r, { status: 400, body: { error: { type: 'invalid_request_error', message: /tool/ } } }, 'Ollama cannot force a tool call');

  r = await post({ model: MISSING_DEP, max_tokens: 10, messages: user, stream: true });
  t.match(r, { status: 404, body: { type: 'error', error: { type: 'not_found_error' } } });

  r = await post({ model: OLLAMA_DEP, max_tokens: 10, messages: user }, { 'x-api-key': 'sk-tokios-wrong' });
  t.match(r, { status: 401, body: { type: 'error', error: { type: 'authentication_error' } } });

  for (const [status, type] of [
    [429, 'rate_limit_error'],
    [503, 'overloaded_error'],
    [500, 'api_error'],
  ] as const) {
    s.openai.script = () => ({ ...defaultScript(), fail: { status, body: { error: { message: 'busy', type: 'server_error' } } } });
    r = await post({ model: OPENAI_DEP, max_tokens: 10, messages: user, stream: true });
    t.match(r, { status: status === 500 ? 502 : status, body: { type: 'error', error: { type } } }, `upstream ${status}`);
  }
  s.openai.script = () => defaultScript();

  // And the SDK classifies them.
  const err = await byKey()
    .messages.create({ model: MISSING_DEP, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
    .then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof Anthropic.NotFoundError);
});

t.test('client disconnect mid-stream aborts the Ollama request within 1 s', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 20 });
  const aborted = s.ollama.next('aborted');
  const stream = byKey().messages.stream({ model: OLLAMA_DEP, max_tokens: 1000, messages: [{ role: 'user', content: 'long' }] });
  const ended = stream.done().then(
    () => 'completed',
    (e: unknown) => (e instanceof Anthropic.APIUserAbortError ? 'aborted by us' : String(e)),
  );
  await new Promise<void>((resolve) => stream.once('text', () => resolve()));
  stream.abort();
  const cut = Date.now();
  const { value: seen } = await within(aborted, 1000, 'Ollama saw the abort');
  t.equal(seen.aborted, true);
  t.ok(Date.now() - cut < 1000, `aborted after ${Date.now() - cut} ms`);
  t.equal(await ended, 'aborted by us');
});

t.test('mid-stream upstream failure: the text so far, then an error event the SDK throws as api_error', async (t) => {
  s.openai.script = () => ({ ...defaultScript(), chunks: ['par', 'tial'], streamError: { afterChunks: 1, body: { object: 'error', message: 'CUDA out of memory', type: 'InternalServerError', param: null, code: 500 } } });
  const stream = await byKey().messages.create({ model: OPENAI_DEP, max_tokens: 10, messages: [{ role: 'user', content: 'x' }], stream: true });
  const types: string[] = [];
  const err = await (async () => {
    for await (const e of stream) types.push(e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? `text:${e.delta.text}` : e.type);
  })().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.strictSame(types, ['message_start', 'content_block_start', 'text:par']);
  t.ok(err instanceof Anthropic.APIError);
  t.match((err as InstanceType<typeof Anthropic.APIError>).error, { type: 'error', error: { type: 'api_error', message: /CUDA out of memory/ } });
  s.openai.script = () => defaultScript();
});

t.test('structured output (output_config.format, output_format): the schema reaches both upstream kinds', async (t) => {
  const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['{"city":"Paris"}'] });
  s.openai.script = () => ({ ...defaultScript(), chunks: ['{"city":"Paris"}'] });
  const user = [{ role: 'user', content: 'Where?' }];
  for (const body of [{ output_config: { format: { type: 'json_schema', schema } } }, { output_format: { type: 'json_schema', schema } }]) {
    const field = Object.keys(body)[0]!;
    let r = await post({ model: OLLAMA_DEP, max_tokens: 20, messages: user, ...body });
    t.match(r, { status: 200, body: { content: [{ type: 'text', text: '{"city":"Paris"}' }] } }, `${field}: Ollama`);
    t.strictSame(s.ollama.last.body['format'], schema, `${field}: Ollama gets the schema as format`);
    r = await post({ model: OPENAI_DEP, max_tokens: 20, messages: user, ...body });
    t.match(r, { status: 200, body: { content: [{ type: 'text', text: '{"city":"Paris"}' }] } }, `${field}: OpenAI-compatible`);
    t.match(s.openai.last.body['response_format'], { type: 'json_schema', json_schema: { schema } }, `${field}: the server gets response_format`);
  }
});
