import t from 'tap';
import { anthropicCaller } from '../../../src/translate/caller/anthropic/index.js';
import type { ChatEvent } from '../../../src/translate/pivot.js';
import { frames } from '../sse-frames.js';

const ctx = { model: 'my-llama', requestId: 'req1' };
const START: ChatEvent = { type: 'start', id: 'chatcmpl-9', model: 'llama3.1:8b', created: 1700000000 };

function run(events: ChatEvent[]): string {
  const enc = anthropicCaller.createStreamEncoder(ctx);
  return events.map((e) => enc.push(e)).join('') + enc.end();
}

const messageStart = {
  event: 'message_start',
  data: {
    type: 'message_start',
    message: {
      id: 'msg_req1',
      type: 'message',
      role: 'assistant',
      model: 'my-llama',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    },
  },
};
const ping = { event: 'ping', data: { type: 'ping' } };
const blockStart = (index: number, content_block: object) => ({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block } });
const blockDelta = (index: number, delta: object) => ({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } });
const blockStop = (index: number) => ({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
const text = (index: number, s: string) => blockDelta(index, { type: 'text_delta', text: s });
const json = (index: number, s: string) => blockDelta(index, { type: 'input_json_delta', partial_json: s });
const messageDelta = (stop_reason: string, input_tokens: number, output_tokens: number) => ({
  event: 'message_delta',
  data: { type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage: { input_tokens, output_tokens } },
});
const messageStop = { event: 'message_stop', data: { type: 'message_stop' } };

t.test('text only: exact bytes', async (t) => {
  const out = run([START, { type: 'text', text: 'Hel' }, { type: 'text', text: 'lo' }, { type: 'finish', reason: 'stop' }, { type: 'usage', input_tokens: 12, output_tokens: 2 }]);
  t.equal(
    out,
    'event: message_start\n' +
      'data: {"type":"message_start","message":{"id":"msg_req1","type":"message","role":"assistant","model":"my-llama","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}\n\n' +
      'event: ping\ndata: {"type":"ping"}\n\n' +
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}\n\n' +
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":12,"output_tokens":2}}\n\n' +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  );
});

t.test('reasoning then text: thinking in its own block, never inside the text block', async (t) => {
  const out = frames(
    run([
      START,
      { type: 'reasoning', text: 'Think' },
      { type: 'reasoning', text: 'ing.' },
      { type: 'text', text: 'Answer.' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', input_tokens: 5, output_tokens: 7 },
    ]),
  );
  t.strictSame(out, [
    messageStart,
    ping,
    blockStart(0, { type: 'thinking', thinking: '', signature: '' }),
    blockDelta(0, { type: 'thinking_delta', thinking: 'Think' }),
    blockDelta(0, { type: 'thinking_delta', thinking: 'ing.' }),
    blockStop(0),
    blockStart(1, { type: 'text', text: '' }),
    text(1, 'Answer.'),
    blockStop(1),
    messageDelta('end_turn', 5, 7),
    messageStop,
  ]);
});

t.test('text then tool call (mixed turn) -> tool_use even if the upstream said stop', async (t) => {
  for (const reason of ['tool_calls', 'stop'] as const) {
    const out = frames(
      run([
        START,
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_call', index: 0, id: 'call_a', name: 'get_weather' },
        { type: 'tool_args', index: 0, delta: '{"city":' },
        { type: 'tool_args', index: 0, delta: '"Paris"}' },
        { type: 'finish', reason },
        { type: 'usage', input_tokens: 30, output_tokens: 20 },
      ]),
    );
    t.strictSame(out, [
      messageStart,
      ping,
      blockStart(0, { type: 'text', text: '' }),
      text(0, 'Let me check.'),
      blockStop(0),
      blockStart(1, { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} }),
      json(1, '{"city":'),
      json(1, '"Paris"}'),
      blockStop(1),
      messageDelta('tool_use', 30, 20),
      messageStop,
    ], `upstream finish ${reason}`);
  }
});

t.test('two parallel tools: block index increments, one block per tool', async (t) => {
  const out = frames(
    run([
      START,
      { type: 'tool_call', index: 0, id: 'call_a', name: 'get_weather' },
      { type: 'tool_args', index: 0, delta: '{"city":"Paris"}' },
      { type: 'tool_call', index: 1, id: 'call_b', name: 'get_time' },
      { type: 'tool_args', index: 1, delta: '{"tz":"CET"}' },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'usage', input_tokens: 40, output_tokens: 25 },
    ]),
  );
  t.strictSame(out, [
    messageStart,
    ping,
    blockStart(0, { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} }),
    json(0, '{"city":"Paris"}'),
    blockStop(0),
    blockStart(1, { type: 'tool_use', id: 'call_b', name: 'get_time', input: {} }),
    json(1, '{"tz":"CET"}'),
    blockStop(1),
    messageDelta('tool_use', 40, 25),
    messageStop,
  ]);
});

t.test('tool without argument deltas stays a valid tool_use with input {}; empty deltas emit nothing', async (t) => {
  const out = frames(
    run([
      START,
      { type: 'tool_call', index: 0, id: 'call_a', name: 'list_files' },
      { type: 'tool_args', index: 0, delta: '' },
      { type: 'text', text: '' },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'usage', input_tokens: 3, output_tokens: 1 },
    ]),
  );
  t.strictSame(out, [
    messageStart,
    ping,
    blockStart(0, { type: 'tool_use', id: 'call_a', name: 'list_files', input: {} }),
    blockStop(0),
    messageDelta('tool_use', 3, 1),
    messageStop,
  ]);
});

t.test('tool arguments arriving whole at the end', async (t) => {
  const out = frames(
    run([
      START,
      { type: 'tool_call', index: 0, id: 'call_a', name: 'get_weather' },
      { type: 'tool_args', index: 0, delta: '{"city":"Paris","unit":"C"}' },
      { type: 'finish', reason: 'tool_calls' },
    ]),
  );
  t.strictSame(out.slice(2), [
    blockStart(0, { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} }),
    json(0, '{"city":"Paris","unit":"C"}'),
    blockStop(0),
    messageDelta('tool_use', 0, 0),
    messageStop,
  ]);
});

t.test('a missing upstream tool call id gets a stable one', async (t) => {
  const out = frames(run([START, { type: 'tool_call', index: 2, id: '', name: 'f' }]));
  t.strictSame(out[2], blockStart(0, { type: 'tool_use', id: 'toolu_req1_2', name: 'f', input: {} }));
});

t.test('length cutoff -> max_tokens; content_filter -> refusal', async (t) => {
  const cut = frames(run([START, { type: 'text', text: 'Once upon' }, { type: 'finish', reason: 'length' }, { type: 'usage', input_tokens: 4, output_tokens: 2 }]));
  t.strictSame(cut.slice(-2), [messageDelta('max_tokens', 4, 2), messageStop]);
  const refused = frames(run([START, { type: 'finish', reason: 'content_filter' }]));
  t.strictSame(refused, [messageStart, ping, messageDelta('refusal', 0, 0), messageStop]);
});

t.test('exactly one message_start; usage is the last cumulative value, not a sum', async (t) => {
  const out = frames(
    run([
      START,
      START,
      { type: 'usage', input_tokens: 10, output_tokens: 1 },
      { type: 'text', text: 'a' },
      { type: 'usage', input_tokens: 10, output_tokens: 2 },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', input_tokens: 10, output_tokens: 3 },
    ]),
  );
  t.equal(out.filter((f) => f.event === 'message_start').length, 1);
  t.strictSame(out.at(-2), messageDelta('end_turn', 10, 3));
});

t.test('message_start is emitted even if the first event is not start, and on an empty stream', async (t) => {
  t.strictSame(frames(run([{ type: 'text', text: 'x' }])).slice(0, 3), [messageStart, ping, blockStart(0, { type: 'text', text: '' })]);
  t.strictSame(frames(run([])), [messageStart, ping, messageDelta('end_turn', 0, 0), messageStop]);
});

t.test('upstream error mid-stream -> error event; nothing after it', async (t) => {
  const enc = anthropicCaller.createStreamEncoder(ctx);
  let out = enc.push(START) + enc.push({ type: 'text', text: 'partial' });
  out += enc.push({ type: 'error', code: 'upstream_error', message: 'The model server failed.' });
  t.strictSame(frames(out).slice(-1), [
    { event: 'error', data: { type: 'error', error: { type: 'api_error', message: 'The model server failed.' } } },
  ]);
  t.equal(enc.push({ type: 'text', text: 'more' }), '');
  t.equal(enc.end(), '');
  t.equal(enc.fail({ code: 'internal', message: 'x' }), '');
});

t.test('fail() renders the registry error type', async (t) => {
  const enc = anthropicCaller.createStreamEncoder(ctx);
  enc.push(START);
  t.equal(
    enc.fail({ code: 'capacity', message: 'Busy.' }),
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Busy."}}\n\n',
  );
  t.equal(enc.end(), '');
  const other = anthropicCaller.createStreamEncoder(ctx);
  t.strictSame(frames(other.fail({ code: 'weird_upstream_code', message: 'Boom.' })), [
    { event: 'error', data: { type: 'error', error: { type: 'api_error', message: 'Boom.' } } },
  ]);
});

t.test('tool arguments for an already stopped block end the stream with an error instead of being lost', async (t) => {
  const enc = anthropicCaller.createStreamEncoder(ctx);
  enc.push(START);
  enc.push({ type: 'tool_call', index: 0, id: 'a', name: 'f' });
  enc.push({ type: 'tool_call', index: 1, id: 'b', name: 'g' });
  t.strictSame(frames(enc.push({ type: 'tool_args', index: 0, delta: '{}' })), [
    { event: 'error', data: { type: 'error', error: { type: 'api_error', message: 'Tool call arguments arrived out of order.' } } },
  ]);
  t.equal(enc.end(), '');
});

t.test('text after a tool call opens a new text block', async (t) => {
  const out = frames(
    run([START, { type: 'tool_call', index: 0, id: 'a', name: 'f' }, { type: 'text', text: 'after' }, { type: 'finish', reason: 'tool_calls' }]),
  );
  t.strictSame(out.slice(2, 6), [
    blockStart(0, { type: 'tool_use', id: 'a', name: 'f', input: {} }),
    blockStop(0),
    blockStart(1, { type: 'text', text: '' }),
    text(1, 'after'),
  ]);
});

t.test('text, reasoning, text: each switch closes the open block; no signature_delta is invented', async (t) => {
  const out = frames(
    run([START, { type: 'text', text: 'a' }, { type: 'reasoning', text: 'r' }, { type: 'text', text: 'b' }, { type: 'finish', reason: 'stop' }]),
  );
  t.strictSame(out.slice(2, -2), [
    blockStart(0, { type: 'text', text: '' }),
    text(0, 'a'),
    blockStop(0),
    blockStart(1, { type: 'thinking', thinking: '', signature: '' }),
    blockDelta(1, { type: 'thinking_delta', thinking: 'r' }),
    blockStop(1),
    blockStart(2, { type: 'text', text: '' }),
    text(2, 'b'),
    blockStop(2),
  ]);
});

t.test('blocks are strictly sequential: every start is stopped before the next start, indexes count up', async (t) => {
  const out = frames(
    run([
      START,
      { type: 'reasoning', text: 'r' },
      { type: 'text', text: 'a' },
      { type: 'tool_call', index: 0, id: 'a', name: 'f' },
      { type: 'tool_args', index: 0, delta: '{}' },
      { type: 'tool_call', index: 1, id: 'b', name: 'g' },
      { type: 'text', text: 'z' },
      { type: 'finish', reason: 'tool_calls' },
    ]),
  );
  let open: number | null = null;
  let next = 0;
  for (const f of out) {
    const index = f.data.index as number | undefined;
    if (f.event === 'content_block_start') {
      t.equal(open, null, 'no block open at start');
      t.equal(index, next++, 'index increments');
      open = index ?? null;
    } else if (f.event === 'content_block_delta') t.equal(index, open, 'delta to the open block');
    else if (f.event === 'content_block_stop') {
      t.equal(index, open, 'stop closes the open block');
      open = null;
    }
  }
  t.equal(open, null);
  t.equal(next, 5);
});

t.test('message_start carries the input count when the first upstream chunk had it; the final usage keeps it', async (t) => {
  const out = frames(run([{ ...START, input_tokens: 31 }, { type: 'text', text: 'Hi' }, { type: 'finish', reason: 'stop' }]));
  t.strictSame(out[0], { event: 'message_start', data: { ...messageStart.data, message: { ...messageStart.data.message, usage: { input_tokens: 31, output_tokens: 0 } } } });
  t.strictSame(out.at(-2), messageDelta('end_turn', 31, 0));
});

t.test('stop_sequence: reported when the server names one of the request\'s stop sequences, else end_turn', async (t) => {
  const withStops = (stopSequences: string[] | undefined, events: ChatEvent[]) => {
    const enc = anthropicCaller.createStreamEncoder(stopSequences === undefined ? ctx : { ...ctx, stopSequences });
    return frames(events.map((e) => enc.push(e)).join('') + enc.end()).at(-2);
  };
  const ended = (stop_sequence?: string): ChatEvent[] => [START, { type: 'text', text: 'a' }, stop_sequence === undefined ? { type: 'finish', reason: 'stop' } : { type: 'finish', reason: 'stop', stop_sequence }];
  const delta = (stop_reason: string, stop_sequence: string | null) => ({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason, stop_sequence }, usage: { input_tokens: 0, output_tokens: 0 } } });
  t.strictSame(withStops(['END', '###'], ended('###')), delta('stop_sequence', '###'));
  t.strictSame(withStops(['END'], ended('<|im_end|>')), delta('end_turn', null), 'a string the caller did not ask for is not echoed');
  t.strictSame(withStops(undefined, ended('END')), delta('end_turn', null));
  t.strictSame(withStops(['END'], ended()), delta('end_turn', null), 'the server did not say (Ollama, llama.cpp)');
  const tool: ChatEvent[] = [START, { type: 'tool_call', index: 0, id: 'c', name: 'f' }, { type: 'tool_args', index: 0, delta: '{}' }, { type: 'finish', reason: 'tool_calls' }];
  t.strictSame(withStops(['END'], tool), delta('tool_use', null));
});
