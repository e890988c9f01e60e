import t from 'tap';
import { anthropicCaller } from '../../../src/translate/caller/anthropic/index.js';
import { TokiosError } from '../../../src/errors/registry.js';
import type { ChatEvent } from '../../../src/translate/pivot.js';

const ctx = { model: 'my-llama', requestId: 'req1' };
const START: ChatEvent = { type: 'start', id: 'chatcmpl-9', model: 'llama3.1:8b', created: 1700000000 };

function aggregate(events: ChatEvent[]): unknown {
  const agg = anthropicCaller.createAggregator(ctx);
  for (const e of events) agg.push(e);
  return agg.result();
}

t.test('reasoning + text + two tools -> message object', async (t) => {
  t.strictSame(
    aggregate([
      START,
      { type: 'reasoning', text: 'Need ' },
      { type: 'reasoning', text: 'tools.' },
      { type: 'text', text: 'Checking ' },
      { type: 'text', text: 'both.' },
      { type: 'tool_call', index: 0, id: 'call_a', name: 'get_weather' },
      { type: 'tool_args', index: 0, delta: '{"city":' },
      { type: 'tool_args', index: 0, delta: '"Paris"}' },
      { type: 'tool_call', index: 1, id: 'call_b', name: 'get_time' },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'usage', input_tokens: 10, output_tokens: 4 },
      { type: 'usage', input_tokens: 10, output_tokens: 9 },
    ]),
    {
      id: 'msg_req1',
      type: 'message',
      role: 'assistant',
      model: 'my-llama',
      content: [
        { type: 'thinking', thinking: 'Need tools.', signature: '' },
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_b', name: 'get_time', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 9 },
    },
  );
});

t.test('text only, length cutoff', async (t) => {
  t.strictSame(aggregate([START, { type: 'text', text: 'Once' }, { type: 'finish', reason: 'length' }, { type: 'usage', input_tokens: 2, output_tokens: 1 }]), {
    id: 'msg_req1',
    type: 'message',
    role: 'assistant',
    model: 'my-llama',
    content: [{ type: 'text', text: 'Once' }],
    stop_reason: 'max_tokens',
    stop_sequence: null,
    usage: { input_tokens: 2, output_tokens: 1 },
  });
});

t.test('mixed text + tool with upstream finish stop -> tool_use', async (t) => {
  const msg = aggregate([START, { type: 'text', text: 'x' }, { type: 'tool_call', index: 0, id: 'a', name: 'f' }, { type: 'finish', reason: 'stop' }]) as { stop_reason: string };
  t.equal(msg.stop_reason, 'tool_use');
});

t.test('invalid or non-object tool arguments become input {}', async (t) => {
  const msg = aggregate([
    START,
    { type: 'tool_call', index: 0, id: 'a', name: 'f' },
    { type: 'tool_args', index: 0, delta: '{"city": "Par' },
    { type: 'tool_call', index: 1, id: 'b', name: 'g' },
    { type: 'tool_args', index: 1, delta: '[1,2]' },
    { type: 'tool_call', index: 2, id: 'c', name: 'h' },
    { type: 'tool_args', index: 2, delta: '  ' },
  ]) as { content: unknown[] };
  t.strictSame(msg.content, [
    { type: 'tool_use', id: 'a', name: 'f', input: {} },
    { type: 'tool_use', id: 'b', name: 'g', input: {} },
    { type: 'tool_use', id: 'c', name: 'h', input: {} },
  ]);
});

t.test('upstream error -> result() throws the mapped TokiosError', async (t) => {
  const agg = anthropicCaller.createAggregator(ctx);
  agg.push(START);
  agg.push({ type: 'text', text: 'x' });
  agg.push({ type: 'error', code: 'timeout', message: 'The model did not answer in time.' });
  t.throws(() => agg.result(), new TokiosError('timeout', 'The model did not answer in time.'));
  const other = anthropicCaller.createAggregator(ctx);
  other.push({ type: 'error', code: 'ollama_exploded', message: 'Boom.' });
  try {
    other.result();
    t.fail('should throw');
  } catch (err) {
    t.equal((err as TokiosError).code, 'upstream_error');
  }
});

t.test('empty answer', async (t) => {
  t.strictSame(aggregate([START, { type: 'finish', reason: 'stop' }]), {
    id: 'msg_req1',
    type: 'message',
    role: 'assistant',
    model: 'my-llama',
    content: [],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 0, output_tokens: 0 },
  });
});

t.test('stop_sequence in whole messages: the string the server named, when the request asked for it', async (t) => {
  const agg = anthropicCaller.createAggregator({ ...ctx, stopSequences: ['END'] });
  for (const e of [START, { type: 'text', text: 'a' }, { type: 'finish', reason: 'stop', stop_sequence: 'END' }] as ChatEvent[]) agg.push(e);
  t.match(agg.result(), { stop_reason: 'stop_sequence', stop_sequence: 'END' });
  t.match(aggregate([START, { type: 'text', text: 'a' }, { type: 'finish', reason: 'stop', stop_sequence: 'END' }]), { stop_reason: 'end_turn', stop_sequence: null });
});
