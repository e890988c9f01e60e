/**
 * OpenAI Responses callers (official `openai` SDK: responses.create, responses.stream) through the real chain,
 * translated to Ollama's /api/chat and to an OpenAI-compatible /v1/chat/completions.
 */
import t from 'tap';
import OpenAI from 'openai';
import {
  MISSING_DEP,
  OLLAMA_DEP,
  OPENAI_DEP,
  TIME_TOOL,
  WEATHER_TOOL,
  chatTool,
  defaultOllamaScript,
  defaultScript,
  responsesTool,
  startTranslateStack,
  type TranslateStack,
} from '../support/index.js';

let s: TranslateStack;
t.before(async () => {
  s = await startTranslateStack();
});
t.teardown(() => s?.close());

const openai = (baseURL?: string) => new OpenAI({ apiKey: s.apiKey, baseURL: baseURL ?? `${s.origin}/v1`, maxRetries: 0 });

t.test('Ollama, not streamed: output_text, usage, instructions as system, max_output_tokens as num_predict', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['Bonjour', '!'], usage: { prompt_eval_count: 12, eval_count: 2 } });
  const res = await openai().responses.create({ model: OLLAMA_DEP, instructions: 'Answer in French.', input: 'Hello', max_output_tokens: 50, temperature: 0.5 });
  t.equal(res.object, 'response');
  t.equal(res.status, 'completed');
  t.equal(res.model, OLLAMA_DEP);
  t.equal(res.output_text, 'Bonjour!');
  t.match(res.usage, { input_tokens: 12, output_tokens: 2, total_tokens: 14 });
  t.strictSame(s.ollama.last.body, {
    model: 'llama3.2:latest',
    messages: [
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'Hello' },
    ],
    stream: true,
    options: { temperature: 0.5, num_predict: 50 },
  });
});

t.test('Ollama, streamed with create({stream:true}): the documented event sequence, sequence_number from 0', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), thinking: ['Greeting.'], chunks: ['Hi', ' there'], usage: { prompt_eval_count: 4, eval_count: 3 } });
  const stream = await openai().responses.create({ model: OLLAMA_DEP, input: 'Hello', stream: true });
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  t.strictSame(
    events.map((e) => e.sequence_number),
    events.map((_, i) => i),
  );
  t.strictSame(events.map((e) => e.type), [
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
    'response.reasoning_text.delta',
    'response.reasoning_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
    'response.output_text.delta',
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.completed',
  ]);
  const done = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
  t.match(done.response.usage, { input_tokens: 4, output_tokens: 3 });
  t.equal(done.response.output.length, 2);
});

for (const [label, dep] of [
  ['Ollama', OLLAMA_DEP],
  ['OpenAI-compatible', OPENAI_DEP],
] as const) {
  t.test(`${label}: responses.stream().finalResponse() with tools, then function_call_output round trip`, async (t) => {
    if (dep === OLLAMA_DEP) {
      s.ollama.script = () => ({
        ...defaultOllamaScript(),
        chunks: [],
        toolCalls: [
          { name: 'get_weather', arguments: { city: 'Paris' } },
          { name: 'get_time', arguments: { tz: 'Europe/Paris' } },
        ],
        usage: { prompt_eval_count: 30, eval_count: 20 },
      });
    } else {
      s.openai.script = () => ({
        ...defaultScript(),
        chunks: [],
        toolCalls: [
          { id: 'call_w', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'call_t', name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
        ],
        finishReason: 'tool_calls',
        usage: { prompt_tokens: 30, completion_tokens: 20 },
      });
    }
    const tools = [responsesTool(WEATHER_TOOL), responsesTool(TIME_TOOL)];
    const res = await openai().responses.stream({ model: dep, input: 'Weather and time in Paris?', tools }).finalResponse();
    t.equal(res.status, 'completed');
    const calls = (res.output as OpenAI.Responses.ResponseOutputItem[]).filter((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === 'function_call');
    t.strictSame(
      calls.map((c) => [c.name, JSON.parse(c.arguments)]),
      [
        ['get_weather', { city: 'Paris' }],
        ['get_time', { tz: 'Europe/Paris' }],
      ],
    );
    t.equal(new Set(calls.map((c) => c.call_id)).size, 2, 'distinct call ids');
    t.match(res.usage, { input_tokens: 30, output_tokens: 20 });
    const upstream = dep === OLLAMA_DEP ? s.ollama : s.openai;
    t.strictSame(upstream.last.body.tools, [chatTool(WEATHER_TOOL), chatTool(TIME_TOOL)], 'tools in chat shape upstream');
    if (dep === OPENAI_DEP) {
      t.equal(upstream.last.path, '/v1/chat/completions');
      t.match(upstream.last.body, { model: 'Qwen/Qwen2.5-7B-Instruct', stream: true, stream_options: { include_usage: true } });
    }

    if (dep === OLLAMA_DEP) s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['Sunny at 14:00.'] });
    else s.openai.script = () => ({ ...defaultScript(), chunks: ['Sunny at 14:00.'] });
    const input: OpenAI.Responses.ResponseInput = [
      { role: 'user', content: 'Weather and time in Paris?' },
      ...calls.map((c) => ({ type: 'function_call' as const, call_id: c.call_id, name: c.name, arguments: c.arguments })),
      { type: 'function_call_output', call_id: calls[0]!.call_id, output: '{"sky":"clear"}' },
      { type: 'function_call_output', call_id: calls[1]!.call_id, output: '14:00' },
    ];
    const second = await openai().responses.create({ model: dep, input, tools });
    t.equal(second.output_text, 'Sunny at 14:00.');
    const msgs = upstream.last.body.messages as Array<Record<string, unknown>>;
    t.same(
      msgs.map((m) => m.role),
      ['user', 'assistant', 'tool', 'tool'],
    );
    if (dep === OLLAMA_DEP) {
      t.match(msgs[1], { tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }, { function: { name: 'get_time', arguments: { tz: 'Europe/Paris' } } }] });
      t.match(msgs[2], { role: 'tool', tool_name: 'get_weather', content: '{"sky":"clear"}' });
      t.match(msgs[3], { role: 'tool', tool_name: 'get_time', content: '14:00' });
    } else {
      t.match(msgs[1], { tool_calls: [{ id: calls[0]!.call_id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, { id: calls[1]!.call_id }] });
      t.match(msgs[2], { role: 'tool', tool_call_id: calls[0]!.call_id, content: '{"sky":"clear"}' });
    }
  });
}

t.test('max_output_tokens reached -> status incomplete (streamed and not), both upstreams', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['Once upon'], doneReason: 'length' });
  s.openai.script = () => ({ ...defaultScript(), chunks: ['Once upon'], finishReason: 'length' });
  for (const model of [OLLAMA_DEP, OPENAI_DEP]) {
    const a = await openai().responses.create({ model, input: 'story', max_output_tokens: 2 });
    t.match(a, { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output_text: 'Once upon' }, model);
    const b = await openai().responses.stream({ model, input: 'story', max_output_tokens: 2 }).finalResponse();
    t.match(b, { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output_text: 'Once upon' }, `${model} streamed`);
  }
});

t.test('base URL with and without /v1', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['ok'] });
  for (const base of [s.origin, `${s.origin}/v1`]) {
    t.equal((await openai(base).responses.create({ model: OLLAMA_DEP, input: 'x' })).output_text, 'ok', base);
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

t.test('rejected with 400 naming the parameter; upstream 404 -> 404; OpenAI error shape', async (t) => {
  for (const model of [OLLAMA_DEP, OPENAI_DEP]) {
    let e = await apiError(openai().responses.create({ model, input: 'x', previous_response_id: 'resp_123' }));
    t.equal(e.status, 400);
    t.match(e.error, { type: 'invalid_request_error', code: 'unsupported_parameter', param: 'previous_response_id', message: /previous_response_id/ });
    e = await apiError(openai().responses.create({ model, input: 'x', store: true, stream: true }));
    t.match(e, { status: 400, param: 'store' });
    e = await apiError(openai().responses.create({ model, input: 'x', tools: [{ type: 'custom', name: 'apply_patch' }] }));
    t.match(e, { status: 400, code: 'unsupported_parameter', param: 'tools[0].type' });
  }
  const e = await apiError(openai().responses.create({ model: MISSING_DEP, input: 'x', stream: true }));
  t.equal(e.status, 404);
  t.match(e.error, { type: 'invalid_request_error', code: 'model_not_found' });
});

t.test('mid-stream upstream failure: the text so far, then error and response.failed', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['par', 'tial'], streamError: { afterChunks: 1, message: 'llama runner process has terminated' } });
  const stream = await openai().responses.create({ model: OLLAMA_DEP, input: 'x', stream: true });
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  t.strictSame(events.slice(-3).map((e) => e.type), ['response.output_text.delta', 'error', 'response.failed']);
  t.match(events.at(-3), { delta: 'par' });
  t.match(events.at(-2), { type: 'error', code: 'upstream_error', message: /llama runner process has terminated/ });
  t.match(events.at(-1), { response: { status: 'failed', error: { code: 'server_error', message: /llama runner/ } } });
});
