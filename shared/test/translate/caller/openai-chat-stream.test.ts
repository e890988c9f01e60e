import t from 'tap';
import { OpenAIChatAggregator, OpenAIChatStreamEncoder } from '../../../src/translate/caller/openai-chat/index.js';
import type { ChatEvent } from '../../../src/translate/pivot.js';

const ctx = { model: 'my-llama', requestId: 'req1' };
const H = 'data: {"id":"chatcmpl-req1","object":"chat.completion.chunk","created":1714557600,"model":"my-llama","choices":';
const c = (delta: string, finish: string | null = null, usage = false) =>
  `${H}[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]${usage ? ',"usage":null' : ''}}\n\n`;

const toolTurn: ChatEvent[] = [
  { type: 'start', id: 'x', model: 'llama3.1', created: 1714557600 },
  { type: 'reasoning', text: 'hmm' },
  { type: 'text', text: 'Checking "two"\n' },
  { type: 'tool_call', index: 0, id: 'call_a', name: 'a' },
  { type: 'tool_args', index: 0, delta: '{"x":' },
  { type: 'tool_args', index: 0, delta: '' },
  { type: 'tool_args', index: 0, delta: '1}' },
  { type: 'tool_call', index: 1, id: 'call_b', name: 'b' },
  { type: 'tool_args', index: 1, delta: '{}' },
  { type: 'finish', reason: 'tool_calls' },
  { type: 'usage', input_tokens: 10, output_tokens: 4 },
];

function encode(events: ChatEvent[], includeUsage?: boolean): string {
  const e = new OpenAIChatStreamEncoder(includeUsage === undefined ? ctx : { ...ctx, includeUsage });
  let out = '';
  for (const ev of events) out += e.push(ev);
  return out + e.end();
}

t.test('exact stream: role first, one id/created/model, tool deltas, finish with empty delta, [DONE]', async (t) => {
  t.equal(
    encode(toolTurn),
    c('{"role":"assistant","content":""}') +
      c('{"reasoning_content":"hmm"}') +
      c('{"content":"Checking \\"two\\"\\n"}') +
      c('{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"a","arguments":""}}]}') +
      c('{"tool_calls":[{"index":0,"function":{"arguments":"{\\"x\\":"}}]}') +
      c('{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}') +
      c('{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"b","arguments":""}}]}') +
      c('{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]}') +
      c('{}', 'tool_calls') +
      'data: [DONE]\n\n',
  );
});

t.test('include_usage: usage:null on every chunk, last chunk choices:[] with usage', async (t) => {
  const events: ChatEvent[] = [
    { type: 'start', id: 'x', model: 'm', created: 1714557600 },
    { type: 'text', text: 'Hi' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', input_tokens: 7, output_tokens: 2 },
  ];
  t.equal(
    encode(events, true),
    c('{"role":"assistant","content":""}', null, true) +
      c('{"content":"Hi"}', null, true) +
      c('{}', 'stop', true) +
      `${H}[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}\n\n` +
      'data: [DONE]\n\n',
  );
  // every line parses as JSON
  for (const line of encode(events, true).split('\n\n')) {
    if (line.startsWith('data: {')) t.doesNotThrow(() => JSON.parse(line.slice(6)));
  }
  // no usage reported by the upstream: no usage chunk (never invented zeros)
  t.equal(encode(events.slice(0, 3), true), c('{"role":"assistant","content":""}', null, true) + c('{"content":"Hi"}', null, true) + c('{}', 'stop', true) + 'data: [DONE]\n\n');
});

t.test('error after start: data {"error"} and the stream ends (no [DONE], nothing after)', async (t) => {
  const e = new OpenAIChatStreamEncoder(ctx);
  let out = e.push({ type: 'start', id: 'x', model: 'm', created: 1714557600 }) + e.push({ type: 'text', text: 'a' });
  out += e.push({ type: 'error', code: 'upstream_error', message: 'The model server failed: boom' });
  out += e.push({ type: 'text', text: 'late' }) + e.end() + e.fail({ code: 'timeout', message: 'x' });
  t.equal(
    out,
    c('{"role":"assistant","content":""}') +
      c('{"content":"a"}') +
      'data: {"error":{"message":"The model server failed: boom","type":"server_error","param":null,"code":"upstream_error"}}\n\n',
  );
  t.equal(new OpenAIChatStreamEncoder(ctx).fail({ code: 'no-such-code', message: 'm' }), 'data: {"error":{"message":"m","type":"server_error","param":null,"code":"upstream_error"}}\n\n');
  t.equal(new OpenAIChatStreamEncoder(ctx).fail({ code: 'rate_limited', message: 'slow' }), 'data: {"error":{"message":"slow","type":"rate_limit_error","param":null,"code":"rate_limited"}}\n\n');
});

t.test('events before start still produce a role chunk first; end() without finish adds stop', async (t) => {
  const e = new OpenAIChatStreamEncoder(ctx, () => 1714557600_500);
  t.equal(e.push({ type: 'text', text: 'x' }) + e.end(), c('{"role":"assistant","content":""}') + c('{"content":"x"}') + c('{}', 'stop') + 'data: [DONE]\n\n');
});

t.test('aggregate: content, tool_calls joined by index, finish_reason, usage', async (t) => {
  const a = new OpenAIChatAggregator(ctx);
  for (const ev of toolTurn) a.push(ev);
  t.strictSame(a.result(), {
    id: 'chatcmpl-req1',
    object: 'chat.completion',
    created: 1714557600,
    model: 'my-llama',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Checking "two"\n',
          refusal: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'a', arguments: '{"x":1}' } },
            { id: 'call_b', type: 'function', function: { name: 'b', arguments: '{}' } },
          ],
          reasoning_content: 'hmm',
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 },
  });
});

t.test('aggregate: tool-only answer has content null; text-only has no tool_calls; empty has ""', async (t) => {
  const a = new OpenAIChatAggregator(ctx);
  for (const ev of [toolTurn[0]!, toolTurn[7]!, toolTurn[8]!, toolTurn[9]!]) a.push(ev);
  t.strictSame(a.result().choices[0]!.message, { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_b', type: 'function', function: { name: 'b', arguments: '{}' } }] });
  const b = new OpenAIChatAggregator(ctx, () => 1_000_000);
  b.push({ type: 'text', text: 'Hel' });
  b.push({ type: 'text', text: 'lo' });
  b.push({ type: 'finish', reason: 'length' });
  t.strictSame(b.result(), {
    id: 'chatcmpl-req1',
    object: 'chat.completion',
    created: 1000,
    model: 'my-llama',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello', refusal: null }, logprobs: null, finish_reason: 'length' }],
  });
  t.strictSame(new OpenAIChatAggregator(ctx, () => 0).result().choices[0]!.message.content, '');
});
