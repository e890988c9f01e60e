/**
 * Answer fidelity through the real chain with the official SDKs, on both upstream kinds: structured output (OpenAI
 * `response_format`, Responses `text.format`), Anthropic `stop_sequence` and `message_start` input tokens, and
 * Responses objects echoing their request.
 */
import t from 'tap';
import { OLLAMA_DEP, OPENAI_DEP, defaultOllamaScript, defaultScript, startTranslateStack, type TranslateStack } from '../support/index.js';

let s: TranslateStack;
t.before(async () => {
  s = await startTranslateStack();
});
t.teardown(() => s?.close());

const CITY_SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const JSON_PIECES = ['{"city":', ' "Paris"}'];

t.test('structured output: OpenAI Chat response_format json_schema -> Ollama format (the schema), parsed by the SDK', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: JSON_PIECES });
  const res = await s.clients.openai.chat.completions.parse({
    model: OLLAMA_DEP,
    messages: [{ role: 'user', content: 'Where?' }],
    response_format: { type: 'json_schema', json_schema: { name: 'place', schema: CITY_SCHEMA, strict: true } },
  });
  t.strictSame(res.choices[0]?.message.parsed, { city: 'Paris' });
  t.strictSame(s.ollama.last.body['format'], CITY_SCHEMA);

  const stream = await s.clients.openai.chat.completions.create({
    model: OLLAMA_DEP,
    messages: [{ role: 'user', content: 'Where?' }],
    response_format: { type: 'json_object' },
    stream: true,
  });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  t.strictSame(JSON.parse(text), { city: 'Paris' });
  t.equal(s.ollama.last.body['format'], 'json');
});

t.test('structured output: OpenAI Chat passthrough sends response_format to the OpenAI-compatible server as is', async (t) => {
  s.openai.script = () => ({ ...defaultScript(), chunks: JSON_PIECES });
  const format = { type: 'json_schema' as const, json_schema: { name: 'place', schema: CITY_SCHEMA, strict: true } };
  const res = await s.clients.openai.chat.completions.parse({ model: OPENAI_DEP, messages: [{ role: 'user', content: 'Where?' }], response_format: format });
  t.strictSame(res.choices[0]?.message.parsed, { city: 'Paris' });
  t.strictSame(s.openai.last.body['response_format'], format);
});

t.test('structured output: Responses text.format json_schema / json_object -> Ollama format and OpenAI response_format', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: JSON_PIECES });
  s.openai.script = () => ({ ...defaultScript(), chunks: JSON_PIECES });
  const format = { type: 'json_schema' as const, name: 'place', schema: CITY_SCHEMA, strict: true };
  const ollama = await s.clients.openai.responses.parse({ model: OLLAMA_DEP, input: 'Where?', text: { format } });
  t.strictSame(ollama.output_parsed, { city: 'Paris' });
  t.strictSame(s.ollama.last.body['format'], CITY_SCHEMA);

  const streamed = s.clients.openai.responses.stream({ model: OPENAI_DEP, input: 'Where?', text: { format } });
  const final = await streamed.finalResponse();
  // The SDK's stream parses only zod-made formats (output_parsed stays null for a plain schema): read the text.
  t.strictSame(JSON.parse(final.output_text), { city: 'Paris' });
  t.strictSame(s.openai.last.body['response_format'], { type: 'json_schema', json_schema: { name: 'place', schema: CITY_SCHEMA, strict: true } });

  const loose = await s.clients.openai.responses.create({ model: OPENAI_DEP, input: 'Where?', text: { format: { type: 'json_object' } } });
  t.strictSame(JSON.parse(loose.output_text), { city: 'Paris' });
  t.strictSame(s.openai.last.body['response_format'], { type: 'json_object' });
});

t.test('stop_sequence: Anthropic callers see which stop sequence ended the answer where the server says (vLLM, SGLang)', async (t) => {
  const ask = { max_tokens: 100, stop_sequences: ['END', '###'], messages: [{ role: 'user' as const, content: 'Count.' }] };
  s.openai.script = () => ({ ...defaultScript(), chunks: ['1 2 3'], finishExtra: { stop_reason: '###' } });
  const whole = await s.clients.anthropic.messages.create({ model: OPENAI_DEP, ...ask });
  t.equal(whole.stop_reason, 'stop_sequence');
  t.equal(whole.stop_sequence, '###');
  t.strictSame(s.openai.last.body['stop'], ['END', '###']);

  s.openai.script = () => ({ ...defaultScript(), chunks: ['1 2 3'], finishExtra: { matched_stop: 'END' } });
  const streamed = await s.clients.anthropic.messages.stream({ model: OPENAI_DEP, ...ask }).finalMessage();
  t.equal(streamed.stop_reason, 'stop_sequence');
  t.equal(streamed.stop_sequence, 'END');

  s.openai.script = () => ({ ...defaultScript(), chunks: ['1 2 3'], finishExtra: { stop_reason: 128009 } });
  const eos = await s.clients.anthropic.messages.create({ model: OPENAI_DEP, ...ask });
  t.equal(eos.stop_reason, 'end_turn', 'a token id (end of sequence) is no stop sequence');
  t.equal(eos.stop_sequence, null);

  // Ollama does not say whether a stop sequence or the end of the turn stopped it (done_reason "stop" for both).
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['1 2 3'] });
  const ollama = await s.clients.anthropic.messages.create({ model: OLLAMA_DEP, ...ask });
  t.equal(ollama.stop_reason, 'end_turn');
  t.strictSame((s.ollama.last.body['options'] as Record<string, unknown>)['stop'], ['END', '###']);
});

t.test('message_start carries the real input token count when the server reports usage from the first chunk', async (t) => {
  s.openai.script = () => ({ ...defaultScript(), usageEveryChunk: true, usage: { prompt_tokens: 23, completion_tokens: 4 } });
  const stream = await s.clients.anthropic.messages.create({ model: OPENAI_DEP, max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }], stream: true });
  const events: Array<{ type: string; message?: { usage: { input_tokens: number } }; usage?: { input_tokens?: number | null; output_tokens: number } }> = [];
  for await (const e of stream) events.push(e);
  t.equal(events[0]?.type, 'message_start');
  t.equal(events[0]?.message?.usage.input_tokens, 23);
  const delta = events.find((e) => e.type === 'message_delta');
  t.match(delta?.usage, { input_tokens: 23, output_tokens: 4 });

  // Usage only at the end (Ollama, and OpenAI-compatible servers by default): 0 at the start, the count at the end.
  s.ollama.script = () => ({ ...defaultOllamaScript(), usage: { prompt_eval_count: 9, eval_count: 4 } });
  const later = await s.clients.anthropic.messages.create({ model: OLLAMA_DEP, max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }], stream: true });
  const seen: typeof events = [];
  for await (const e of later) seen.push(e);
  t.equal(seen[0]?.message?.usage.input_tokens, 0);
  t.match(seen.find((e) => e.type === 'message_delta')?.usage, { input_tokens: 9, output_tokens: 4 });
});

t.test('Responses objects echo the request: instructions, tools, sampling values, text format (whole and streamed)', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: ['ok'] });
  s.openai.script = () => ({ ...defaultScript(), chunks: ['ok'] });
  const tools = [{ type: 'function' as const, name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
  const request = {
    input: 'Weather?',
    instructions: 'Be brief.',
    tools,
    tool_choice: 'auto' as const,
    temperature: 0.2,
    top_p: 0.8,
    max_output_tokens: 77,
    metadata: { ticket: 'T-1' },
    prompt_cache_key: 'conv-9',
  };
  const echoed = { instructions: 'Be brief.', tools, tool_choice: 'auto', temperature: 0.2, top_p: 0.8, max_output_tokens: 77, metadata: { ticket: 'T-1' }, parallel_tool_calls: true, store: false };
  const whole = await s.clients.openai.responses.create({ model: OLLAMA_DEP, ...request });
  t.match(whole, { ...echoed, prompt_cache_key: 'conv-9' });

  const stream = await s.clients.openai.responses.create({ model: OPENAI_DEP, ...request, parallel_tool_calls: false, stream: true });
  const objects: unknown[] = [];
  for await (const e of stream) if ('response' in e) objects.push(e.response);
  t.equal(objects.length, 3, 'created, in_progress, completed');
  for (const o of objects) t.match(o, { ...echoed, parallel_tool_calls: false });
  t.equal(s.openai.last.body['parallel_tool_calls'], false);
});
