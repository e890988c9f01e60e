import t from 'tap';
import { responsesCaller } from '../../../src/translate/caller/responses/index.js';
import { TokiosError } from '../../../src/errors/registry.js';
import type { ChatEvent } from '../../../src/translate/pivot.js';
import { CREATED, call, ctx, message, reasoning, response, rtext, text, usage } from './golden.js';

const START: ChatEvent = { type: 'start', id: 'chatcmpl-9', model: 'qwen3:8b', created: CREATED };

function aggregate(events: ChatEvent[]): unknown {
  const agg = responsesCaller.createAggregator(ctx);
  for (const e of events) agg.push(e);
  return agg.result();
}

t.test('reasoning + text + two tools -> Response object', async (t) => {
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
    response(
      'completed',
      [
        reasoning('rs_req1_0', 'completed', [rtext('Need tools.')]),
        message('msg_req1_1', 'completed', [text('Checking both.')]),
        call('fc_req1_2', 'completed', 'call_a', 'get_weather', '{"city":"Paris"}'),
        call('fc_req1_3', 'completed', 'call_b', 'get_time', '{}'),
      ],
      { usage: usage(10, 9) },
    ),
  );
});

t.test('length cutoff -> incomplete', async (t) => {
  t.strictSame(
    aggregate([START, { type: 'text', text: 'Once' }, { type: 'finish', reason: 'length' }, { type: 'usage', input_tokens: 2, output_tokens: 1 }]),
    response('incomplete', [message('msg_req1_0', 'incomplete', [text('Once')])], {
      usage: usage(2, 1),
      incomplete_details: { reason: 'max_output_tokens' },
    }),
  );
});

t.test('invalid JSON arguments are passed through as the raw string', async (t) => {
  const r = aggregate([START, { type: 'tool_call', index: 0, id: 'a', name: 'f' }, { type: 'tool_args', index: 0, delta: '{"city": "Par' }]) as {
    output: Array<{ arguments: string }>;
    status: string;
  };
  t.equal(r.output[0]?.arguments, '{"city": "Par');
  t.equal(r.status, 'completed');
});

t.test('upstream error -> result() throws the mapped TokiosError', async (t) => {
  const agg = responsesCaller.createAggregator(ctx);
  agg.push(START);
  agg.push({ type: 'error', code: 'timeout', message: 'The model did not answer in time.' });
  t.throws(() => agg.result(), new TokiosError('timeout', 'The model did not answer in time.'));
  const other = responsesCaller.createAggregator(ctx);
  other.push({ type: 'error', code: 'vllm_oom', message: 'Boom.' });
  try {
    other.result();
    t.fail('should throw');
  } catch (err) {
    t.equal((err as TokiosError).code, 'upstream_error');
  }
});

t.test('stream and aggregate agree on the final Response', async (t) => {
  const events: ChatEvent[] = [
    START,
    { type: 'reasoning', text: 'hm' },
    { type: 'text', text: 'a' },
    { type: 'tool_call', index: 0, id: 'c', name: 'f' },
    { type: 'tool_args', index: 0, delta: '{}' },
    { type: 'text', text: 'b' },
    { type: 'finish', reason: 'length' },
    { type: 'usage', input_tokens: 3, output_tokens: 4 },
  ];
  const enc = responsesCaller.createStreamEncoder(ctx);
  const sse = events.map((e) => enc.push(e)).join('') + enc.end();
  const last = sse.trimEnd().split('\n').at(-1) ?? '';
  const streamed = (JSON.parse(last.slice('data: '.length)) as { response: unknown }).response;
  t.strictSame(aggregate(events), streamed);
});
