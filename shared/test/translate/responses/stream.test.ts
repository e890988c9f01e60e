import t, { type Test } from 'tap';
import { responsesCaller } from '../../../src/translate/caller/responses/index.js';
import type { ChatEvent } from '../../../src/translate/pivot.js';
import { frames } from '../sse-frames.js';
import { CREATED, callEvents, ctx, head, message, messageEvents, reasoning, reasoningEvents, response, text, rtext, call, usage, type Ev } from './golden.js';

const START: ChatEvent = { type: 'start', id: 'chatcmpl-9', model: 'qwen3:8b', created: CREATED };

function run(events: ChatEvent[]): string {
  const enc = responsesCaller.createStreamEncoder(ctx);
  return events.map((e) => enc.push(e)).join('') + enc.end();
}

/** Parses the SSE, checks sequence_number counts 0,1,2..., and returns the payloads without it. */
function events(t: Test, sseText: string): Ev[] {
  return frames(sseText).map((f, i) => {
    const { sequence_number, ...rest } = f.data;
    t.equal(sequence_number, i, `sequence_number of ${f.event}`);
    return rest as Ev;
  });
}

t.test('text only: exact first bytes and full sequence', async (t) => {
  const out = run([START, { type: 'text', text: 'Hel' }, { type: 'text', text: 'lo' }, { type: 'finish', reason: 'stop' }, { type: 'usage', input_tokens: 12, output_tokens: 2 }]);
  t.ok(out.startsWith('event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_req1","object":"response"'));
  t.strictSame(events(t, out), [
    ...head(),
    ...messageEvents(0, ['Hel', 'lo']),
    { type: 'response.completed', response: response('completed', [message('msg_req1_0', 'completed', [text('Hello')])], { usage: usage(12, 2) }) },
  ]);
});

t.test('reasoning then text: separate items', async (t) => {
  const out = run([
    START,
    { type: 'reasoning', text: 'Think' },
    { type: 'reasoning', text: 'ing.' },
    { type: 'text', text: 'Answer.' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', input_tokens: 5, output_tokens: 7 },
  ]);
  t.strictSame(events(t, out), [
    ...head(),
    ...reasoningEvents(0, ['Think', 'ing.']),
    ...messageEvents(1, ['Answer.']),
    {
      type: 'response.completed',
      response: response('completed', [reasoning('rs_req1_0', 'completed', [rtext('Thinking.')]), message('msg_req1_1', 'completed', [text('Answer.')])], {
        usage: usage(5, 7),
      }),
    },
  ]);
});

t.test('text then tool call (mixed turn) -> function_call item, completed', async (t) => {
  const out = run([
    START,
    { type: 'text', text: 'Let me check.' },
    { type: 'tool_call', index: 0, id: 'call_a', name: 'get_weather' },
    { type: 'tool_args', index: 0, delta: '{"city":' },
    { type: 'tool_args', index: 0, delta: '"Paris"}' },
    { type: 'finish', reason: 'tool_calls' },
    { type: 'usage', input_tokens: 30, output_tokens: 20 },
  ]);
  t.strictSame(events(t, out), [
    ...head(),
    ...messageEvents(0, ['Let me check.']),
    ...callEvents(1, 'call_a', 'get_weather', ['{"city":', '"Paris"}']),
    {
      type: 'response.completed',
      response: response(
        'completed',
        [message('msg_req1_0', 'completed', [text('Let me check.')]), call('fc_req1_1', 'completed', 'call_a', 'get_weather', '{"city":"Paris"}')],
        { usage: usage(30, 20) },
      ),
    },
  ]);
});

t.test('two parallel tools: output_index increments', async (t) => {
  const out = run([
    START,
    { type: 'tool_call', index: 0, id: 'call_a', name: 'get_weather' },
    { type: 'tool_args', index: 0, delta: '{"city":"Paris"}' },
    { type: 'tool_call', index: 1, id: 'call_b', name: 'get_time' },
    { type: 'tool_args', index: 1, delta: '{"tz":"CET"}' },
    { type: 'finish', reason: 'tool_calls' },
    { type: 'usage', input_tokens: 40, output_tokens: 25 },
  ]);
  t.strictSame(events(t, out), [
    ...head(),
    ...callEvents(0, 'call_a', 'get_weather', ['{"city":"Paris"}']),
    ...callEvents(1, 'call_b', 'get_time', ['{"tz":"CET"}']),
    {
      type: 'response.completed',
      response: response(
        'completed',
        [call('fc_req1_0', 'completed', 'call_a', 'get_weather', '{"city":"Paris"}'), call('fc_req1_1', 'completed', 'call_b', 'get_time', '{"tz":"CET"}')],
        { usage: usage(40, 25) },
      ),
    },
  ]);
});

t.test('tool without argument deltas still gets arguments.done and output_item.done, with arguments {}', async (t) => {
  const out = run([START, { type: 'tool_call', index: 0, id: 'call_a', name: 'list_files' }, { type: 'tool_args', index: 0, delta: '' }, { type: 'finish', reason: 'tool_calls' }]);
  t.strictSame(events(t, out), [
    ...head(),
    ...callEvents(0, 'call_a', 'list_files', []),
    { type: 'response.completed', response: response('completed', [call('fc_req1_0', 'completed', 'call_a', 'list_files', '{}')], { usage: usage(0, 0) }) },
  ]);
});

t.test('tool arguments arriving whole at the end', async (t) => {
  const out = run([START, { type: 'tool_call', index: 0, id: 'call_a', name: 'f' }, { type: 'tool_args', index: 0, delta: '{"a":1,"b":[2]}' }, { type: 'finish', reason: 'tool_calls' }]);
  t.strictSame(events(t, out).slice(2, -1), callEvents(0, 'call_a', 'f', ['{"a":1,"b":[2]}']));
});

t.test('length cutoff -> response.incomplete, last item incomplete', async (t) => {
  const out = run([START, { type: 'text', text: 'Once upon' }, { type: 'finish', reason: 'length' }, { type: 'usage', input_tokens: 4, output_tokens: 2 }]);
  t.strictSame(events(t, out), [
    ...head(),
    ...messageEvents(0, ['Once upon'], 'incomplete'),
    {
      type: 'response.incomplete',
      response: response('incomplete', [message('msg_req1_0', 'incomplete', [text('Once upon')])], {
        usage: usage(4, 2),
        incomplete_details: { reason: 'max_output_tokens' },
      }),
    },
  ]);
});

t.test('content_filter -> response.incomplete with reason content_filter', async (t) => {
  const out = events(t, run([START, { type: 'finish', reason: 'content_filter' }]));
  t.strictSame(out.at(-1), {
    type: 'response.incomplete',
    response: response('incomplete', [], { usage: usage(0, 0), incomplete_details: { reason: 'content_filter' } }),
  });
});

t.test('upstream error mid-stream -> error then response.failed with the partial output; nothing after', async (t) => {
  const enc = responsesCaller.createStreamEncoder(ctx);
  let out = enc.push(START) + enc.push({ type: 'text', text: 'partial' });
  out += enc.push({ type: 'error', code: 'upstream_error', message: 'The model server failed.' });
  t.strictSame(events(t, out), [
    ...head(),
    ...messageEvents(0, ['partial']).slice(0, 3),
    { type: 'error', code: 'upstream_error', message: 'The model server failed.', param: null },
    {
      type: 'response.failed',
      response: response('failed', [message('msg_req1_0', 'incomplete', [text('partial')])], {
        error: { code: 'server_error', message: 'The model server failed.' },
      }),
    },
  ]);
  t.equal(enc.push({ type: 'text', text: 'more' }), '');
  t.equal(enc.end(), '');
  t.equal(enc.fail({ code: 'internal', message: 'x' }), '');
});

t.test('fail() before anything was sent still gives a well-formed stream', async (t) => {
  const enc = responsesCaller.createStreamEncoder(ctx);
  const out = frames(enc.fail({ code: 'rate_limited', message: 'Slow down.' }));
  t.strictSame(
    out.map((f) => f.event),
    ['response.created', 'response.in_progress', 'error', 'response.failed'],
  );
  t.strictSame((out[3]?.data.response as { error: unknown }).error, { code: 'rate_limit_exceeded', message: 'Slow down.' });
  t.equal(out[3]?.data.sequence_number, 3);
});

t.test('tool arguments for a finished item fail the stream instead of being lost', async (t) => {
  const enc = responsesCaller.createStreamEncoder(ctx);
  enc.push(START);
  enc.push({ type: 'tool_call', index: 0, id: 'a', name: 'f' });
  enc.push({ type: 'tool_call', index: 1, id: 'b', name: 'g' });
  const out = frames(enc.push({ type: 'tool_args', index: 0, delta: '{}' }));
  t.strictSame(out.map((f) => f.event), ['error', 'response.failed']);
  t.equal(out[0]?.data.code, 'protocol_error');
  t.equal(enc.end(), '');
});

t.test('a repeated start is ignored; usage is the last value; missing call id gets a stable one', async (t) => {
  const out = events(
    t,
    run([
      START,
      START,
      { type: 'usage', input_tokens: 10, output_tokens: 1 },
      { type: 'tool_call', index: 3, id: '', name: 'f' },
      { type: 'usage', input_tokens: 10, output_tokens: 3 },
    ]),
  );
  t.equal(out.filter((e) => e.type === 'response.created').length, 1);
  const done = out.at(-1) as { type: string; response: { usage: unknown; output: Array<{ call_id: string }> } };
  t.equal(done.type, 'response.completed');
  t.strictSame(done.response.usage, usage(10, 3));
  t.equal(done.response.output[0]?.call_id, 'call_req1_3');
});
