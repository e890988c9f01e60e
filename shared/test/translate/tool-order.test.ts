import t from 'tap';
import { OpenAIStreamDecoder } from '../../src/translate/upstream/openai/stream.js';
import { anthropicCaller } from '../../src/translate/caller/anthropic/index.js';
import { fixedOptions, sameForEveryChunking, sse } from './support.js';

const head = { id: 'c1', object: 'chat.completion.chunk', created: 1700000000, model: 'm' };
const delta = (d: Record<string, unknown>, finish: string | null = null) => ({ ...head, choices: [{ index: 0, delta: d, finish_reason: finish }] });
const call = (index: number, fn: Record<string, unknown>, id?: string) => delta({ tool_calls: [{ index, ...(id ? { id, type: 'function' } : {}), function: fn }] });

// LM Studio style: every call announced first, arguments afterwards.
const announcedFirst = sse(
  delta({ role: 'assistant', content: '' }),
  call(0, { name: 'get_weather', arguments: '' }, 'call_a'),
  call(1, { name: 'get_time', arguments: '' }, 'call_b'),
  call(0, { arguments: '{"city":' }),
  call(0, { arguments: '"Paris"}' }),
  call(1, { arguments: '{"tz":"CET"}' }),
  delta({}, 'tool_calls'),
  '[DONE]',
);

t.test('calls announced before their arguments come out strictly sequential', async (t) => {
  sameForEveryChunking(t, () => new OpenAIStreamDecoder(fixedOptions()), announcedFirst, [
    { type: 'start', id: 'c1', model: 'm', created: 1700000000 },
    { type: 'tool_call', index: 0, id: 'call_a', name: 'get_weather' },
    { type: 'tool_args', index: 0, delta: '{"city":' },
    { type: 'tool_args', index: 0, delta: '"Paris"}' },
    { type: 'tool_call', index: 1, id: 'call_b', name: 'get_time' },
    { type: 'tool_args', index: 1, delta: '{"tz":"CET"}' },
    { type: 'finish', reason: 'tool_calls' },
  ]);
});

t.test('a call with no arguments gets {} before the next call starts', async (t) => {
  const input = sse(
    call(0, { name: 'now', arguments: '' }, 'call_a'),
    call(1, { name: 'get_time', arguments: '' }, 'call_b'),
    call(1, { arguments: '{"tz":"UTC"}' }),
    delta({}, 'stop'),
    '[DONE]',
  );
  sameForEveryChunking(t, () => new OpenAIStreamDecoder(fixedOptions()), input, [
    { type: 'start', id: 'c1', model: 'm', created: 1700000000 },
    { type: 'tool_call', index: 0, id: 'call_a', name: 'now' },
    { type: 'tool_args', index: 0, delta: '{}' },
    { type: 'tool_call', index: 1, id: 'call_b', name: 'get_time' },
    { type: 'tool_args', index: 1, delta: '{"tz":"UTC"}' },
    { type: 'finish', reason: 'tool_calls' },
  ]);
});

t.test('the Anthropic encoder accepts that order: two tool_use blocks with full inputs', async (t) => {
  const events = new OpenAIStreamDecoder(fixedOptions()).push(announcedFirst);
  const enc = anthropicCaller.createStreamEncoder({ model: 'dep', requestId: 'r1' });
  let out = '';
  for (const ev of events) out += enc.push(ev);
  out += enc.end();
  t.notMatch(out, /event: error/);
  const starts = [...out.matchAll(/"content_block_start","index":(\d+),"content_block":\{"type":"(\w+)"/g)].map((m) => `${m[1]}:${m[2]}`);
  t.same(starts, ['0:tool_use', '1:tool_use'], 'two tool_use blocks, in order');
  t.match(out, /"stop_reason":"tool_use"/);
  const jsonDeltas = [...out.matchAll(/"index":(\d+),"delta":\{"type":"input_json_delta","partial_json":"((?:[^"\\]|\\.)*)"/g)].map((m) => [Number(m[1]), JSON.parse(`"${m[2]}"`) as string] as const);
  const byIndex = new Map<number, string>();
  for (const [i, d] of jsonDeltas) byIndex.set(i, (byIndex.get(i) ?? '') + d);
  t.same([...byIndex.values()].map((v) => JSON.parse(v)), [{ city: 'Paris' }, { tz: 'CET' }]);
});
