import t from 'tap';
import Anthropic from '@anthropic-ai/sdk';
import { anthropicCaller } from '../../../src/translate/caller/anthropic/index.js';
import type { ChatEvent } from '../../../src/translate/pivot.js';

/**
 * Our SSE bytes, fed to the official SDK's stream helper through a fake fetch (no network): the SDK must assemble
 * the same final message a real Anthropic stream would give it.
 */
const ctx = { model: 'my-llama', requestId: 'req1' };

function encode(events: ChatEvent[], chunkSize = 7): ReadableStream<Uint8Array> {
  const enc = anthropicCaller.createStreamEncoder(ctx);
  const bytes = new TextEncoder().encode(events.map((e) => enc.push(e)).join('') + enc.end());
  // Split into small chunks so the SDK's SSE decoder sees frames across chunk boundaries.
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += chunkSize) controller.enqueue(bytes.subarray(i, i + chunkSize));
      controller.close();
    },
  });
}

function client(body: () => ReadableStream<Uint8Array>): Anthropic {
  return new Anthropic({
    apiKey: 'test',
    baseURL: 'http://tokios.invalid',
    maxRetries: 0,
    fetch: async () => new Response(body(), { status: 200, headers: { 'content-type': 'text/event-stream' } }),
  });
}

const toolTurn: ChatEvent[] = [
  { type: 'start', id: 'x', model: 'm', created: 1 },
  { type: 'reasoning', text: 'The user wants weather.' },
  { type: 'text', text: 'Let me ' },
  { type: 'text', text: 'check.' },
  { type: 'tool_call', index: 0, id: 'call_a', name: 'get_weather' },
  { type: 'tool_args', index: 0, delta: '{"city":"Pa' },
  { type: 'tool_args', index: 0, delta: 'ris","unit":"C"}' },
  { type: 'tool_call', index: 1, id: 'call_b', name: 'get_time' },
  { type: 'finish', reason: 'tool_calls' },
  { type: 'usage', input_tokens: 42, output_tokens: 17 },
];

t.test('MessageStream assembles a tool-use answer from our bytes', async (t) => {
  const stream = client(() => encode(toolTurn)).messages.stream({
    model: 'my-llama',
    max_tokens: 100,
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
  });
  const texts: string[] = [];
  stream.on('text', (delta) => texts.push(delta));
  const msg = await stream.finalMessage();
  t.equal(msg.id, 'msg_req1');
  t.equal(msg.model, 'my-llama');
  t.equal(msg.role, 'assistant');
  t.equal(msg.stop_reason, 'tool_use');
  t.equal(msg.stop_sequence, null);
  t.strictSame(msg.usage, { input_tokens: 42, output_tokens: 17 });
  t.strictSame(texts, ['Let me ', 'check.']);
  t.strictSame(
    msg.content.map((b) => ({ ...b })),
    [
      { type: 'thinking', thinking: 'The user wants weather.', signature: '' },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Paris', unit: 'C' } },
      { type: 'tool_use', id: 'call_b', name: 'get_time', input: {} },
    ],
  );
});

t.test('byte-by-byte delivery gives the same message', async (t) => {
  const msg = await client(() => encode(toolTurn, 1))
    .messages.stream({ model: 'my-llama', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] })
    .finalMessage();
  t.equal(msg.content.length, 4);
  t.equal(msg.stop_reason, 'tool_use');
});

t.test('an error event mid-stream rejects with the API error type', async (t) => {
  const events: ChatEvent[] = [
    { type: 'start', id: 'x', model: 'm', created: 1 },
    { type: 'text', text: 'partial' },
    { type: 'error', code: 'capacity', message: 'Busy.' },
  ];
  const stream = client(() => encode(events)).messages.stream({ model: 'my-llama', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] });
  stream.on('error', () => {});
  try {
    await stream.finalMessage();
    t.fail('should reject');
  } catch (err) {
    t.ok(err instanceof Anthropic.APIError, 'APIError');
    t.equal((err as InstanceType<typeof Anthropic.APIError>).type, 'overloaded_error');
    t.match((err as Error).message, /Busy\./);
  }
});

t.test('the non-streamed aggregate is accepted by messages.create', async (t) => {
  const agg = anthropicCaller.createAggregator(ctx);
  for (const e of toolTurn) agg.push(e);
  const body = JSON.stringify(agg.result());
  const sdk = new Anthropic({
    apiKey: 'test',
    baseURL: 'http://tokios.invalid',
    maxRetries: 0,
    fetch: async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }),
  });
  const msg = await sdk.messages.create({ model: 'my-llama', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] });
  t.equal(msg.stop_reason, 'tool_use');
  const tool = msg.content.find((b) => b.type === 'tool_use');
  t.strictSame(tool && tool.type === 'tool_use' ? tool.input : null, { city: 'Paris', unit: 'C' });
});
