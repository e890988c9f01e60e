import t from 'tap';
import OpenAI from 'openai';
import { responsesCaller } from '../../../src/translate/caller/responses/index.js';
import type { ChatEvent } from '../../../src/translate/pivot.js';
import { ctx } from './golden.js';

/**
 * Our SSE bytes, fed to the official SDK's Responses stream helper through a fake fetch (no network): the SDK's
 * accumulator must assemble the final Response from them without complaint.
 */
function encode(events: ChatEvent[], chunkSize = 7): ReadableStream<Uint8Array> {
  const enc = responsesCaller.createStreamEncoder(ctx);
  const bytes = new TextEncoder().encode(events.map((e) => enc.push(e)).join('') + enc.end());
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += chunkSize) controller.enqueue(bytes.subarray(i, i + chunkSize));
      controller.close();
    },
  });
}

function client(body: () => ReadableStream<Uint8Array> | string, contentType = 'text/event-stream'): OpenAI {
  return new OpenAI({
    apiKey: 'test',
    baseURL: 'http://tokios.invalid/v1',
    maxRetries: 0,
    fetch: async () => new Response(body(), { status: 200, headers: { 'content-type': contentType } }),
  });
}

const toolTurn: ChatEvent[] = [
  { type: 'start', id: 'x', model: 'm', created: 1700000000 },
  { type: 'reasoning', text: 'The user wants weather.' },
  { type: 'text', text: 'Let me ' },
  { type: 'text', text: 'check.' },
  { type: 'tool_call', index: 0, id: 'call_a', name: 'get_weather' },
  { type: 'tool_args', index: 0, delta: '{"city":"Pa' },
  { type: 'tool_args', index: 0, delta: 'ris"}' },
  { type: 'tool_call', index: 1, id: 'call_b', name: 'get_time' },
  { type: 'finish', reason: 'tool_calls' },
  { type: 'usage', input_tokens: 42, output_tokens: 17 },
];

t.test('ResponseStream assembles a tool-call answer from our bytes', async (t) => {
  const stream = client(() => encode(toolTurn)).responses.stream({ model: 'my-qwen', input: 'Weather in Paris?' });
  const deltas: string[] = [];
  stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
  const argsSnapshots: string[] = [];
  stream.on('response.function_call_arguments.delta', (e) => argsSnapshots.push(e.snapshot));
  const res = await stream.finalResponse();
  t.equal(res.id, 'resp_req1');
  t.equal(res.model, 'my-qwen');
  t.equal(res.status, 'completed');
  t.equal(res.output_text, 'Let me check.');
  t.strictSame(deltas, ['Let me ', 'check.']);
  t.strictSame(argsSnapshots, ['{"city":"Pa', '{"city":"Paris"}']);
  t.strictSame(res.usage, {
    input_tokens: 42,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 17,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 59,
  });
  t.strictSame(
    res.output.map((item) => item.type),
    ['reasoning', 'message', 'function_call', 'function_call'],
  );
  const calls = res.output.filter((item) => item.type === 'function_call');
  t.strictSame(
    calls.map((c) => ({ name: c.name, call_id: c.call_id, args: JSON.parse(c.arguments) as unknown })),
    [
      { name: 'get_weather', call_id: 'call_a', args: { city: 'Paris' } },
      { name: 'get_time', call_id: 'call_b', args: {} },
    ],
  );
  const r = res.output[0];
  t.strictSame(r?.type === 'reasoning' ? r.content : null, [{ type: 'reasoning_text', text: 'The user wants weather.' }]);
});

t.test('byte-by-byte delivery gives the same Response; length cutoff is incomplete', async (t) => {
  const events: ChatEvent[] = [
    { type: 'start', id: 'x', model: 'm', created: 1 },
    { type: 'text', text: 'Once upon a' },
    { type: 'finish', reason: 'length' },
    { type: 'usage', input_tokens: 3, output_tokens: 3 },
  ];
  const res = await client(() => encode(events, 1)).responses.stream({ model: 'my-qwen', input: 'x' }).finalResponse();
  t.equal(res.status, 'incomplete');
  t.strictSame(res.incomplete_details, { reason: 'max_output_tokens' });
  t.equal(res.output_text, 'Once upon a');
});

t.test('a failure mid-stream rejects the SDK stream with the error event', async (t) => {
  const events: ChatEvent[] = [
    { type: 'start', id: 'x', model: 'm', created: 1 },
    { type: 'text', text: 'partial' },
    { type: 'error', code: 'upstream_error', message: 'The model server failed.' },
  ];
  const stream = client(() => encode(events)).responses.stream({ model: 'my-qwen', input: 'x' });
  const errors: unknown[] = [];
  stream.on('error', (e) => errors.push(e));
  const seen: string[] = [];
  stream.on('event', (e) => seen.push(e.type));
  try {
    await stream.finalResponse();
    t.fail('should reject');
  } catch (err) {
    t.match(err, { type: 'error', code: 'upstream_error', message: 'The model server failed.' });
  }
  t.equal(errors.length, 1);
  t.strictSame(seen.slice(-2), ['response.output_text.delta', 'error']);
});

t.test('the non-streamed aggregate is accepted by responses.create', async (t) => {
  const agg = responsesCaller.createAggregator(ctx);
  for (const e of toolTurn) agg.push(e);
  const body = JSON.stringify(agg.result());
  const res = await client(() => body, 'application/json').responses.create({ model: 'my-qwen', input: 'x' });
  t.equal(res.status, 'completed');
  t.equal(res.output_text, 'Let me check.');
  t.equal(res.output.filter((i) => i.type === 'function_call').length, 2);
});
