import t from 'tap';
import { OpenAIStreamDecoder } from '../../../src/translate/upstream/openai/index.js';
import type { ChatEvent } from '../../../src/translate/pivot.js';
import { fixedOptions, sameForEveryChunking, sse } from '../support.js';

const make = () => new OpenAIStreamDecoder(fixedOptions());
const base = { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1712345678, model: 'qwen2.5' };
const chunk = (delta: unknown, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
  ...base,
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  ...extra,
});
const usageChunk = (p: number, c: number) => ({ ...base, choices: [], usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c } });
const start: ChatEvent = { type: 'start', id: 'chatcmpl-9', model: 'qwen2.5', created: 1712345678 };

t.test('plain text: role chunk, content, finish, usage chunk, [DONE]', async (t) => {
  const input = sse(
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Hel' }),
    chunk({ content: 'lo ✓' }),
    chunk({}, 'stop'),
    usageChunk(12, 3),
    '[DONE]',
  );
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'text', text: 'Hel' },
    { type: 'text', text: 'lo ✓' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', input_tokens: 12, output_tokens: 3 },
  ]);
});

t.test('vLLM tool_calls: [] is absent (no empty tool events), usage: null ignored', async (t) => {
  const input = sse(
    chunk({ role: 'assistant', content: '', tool_calls: [] }, null, { usage: null }),
    chunk({ content: 'Hi', tool_calls: [] }, null, { usage: null }),
    chunk({ content: '', tool_calls: [] }, 'stop', { usage: null }),
    usageChunk(5, 1),
    '[DONE]',
  );
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'text', text: 'Hi' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', input_tokens: 5, output_tokens: 1 },
  ]);
});

t.test('OpenAI-style streamed tool arguments; id only on the first delta (keyed on index)', async (t) => {
  const input = sse(
    chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
    chunk({}, 'tool_calls'),
    usageChunk(40, 9),
    '[DONE]',
  );
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'tool_call', index: 0, id: 'call_a', name: 'get_weather' },
    { type: 'tool_args', index: 0, delta: '{"city":' },
    { type: 'tool_args', index: 0, delta: '"Paris"}' },
    { type: 'finish', reason: 'tool_calls' },
    { type: 'usage', input_tokens: 40, output_tokens: 9 },
  ]);
});

t.test('LM Studio: name first, whole arguments only in the last chunk (input not dropped)', async (t) => {
  const input = sse(
    chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_x', type: 'function', function: { name: 'search' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":"tokios","limit":3}' } }] }, 'tool_calls'),
    '[DONE]',
  );
  sameForEveryChunking(t, make, input, [
    { type: 'start', id: 'chatcmpl-9', model: 'qwen2.5', created: 1712345678 },
    { type: 'tool_call', index: 0, id: 'call_x', name: 'search' },
    { type: 'tool_args', index: 0, delta: '{"q":"tokios","limit":3}' },
    { type: 'finish', reason: 'tool_calls' },
  ]);
});

t.test('whole tool call in one chunk with finish_reason; no id -> generated', async (t) => {
  const input = sse(chunk({ tool_calls: [{ index: 0, type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, 'tool_calls'), '[DONE]');
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'tool_call', index: 0, id: 'call_1', name: 'f' },
    { type: 'tool_args', index: 0, delta: '{"a":1}' },
    { type: 'finish', reason: 'tool_calls' },
  ]);
});

t.test('a tool call that never gets arguments gets {} at the end', async (t) => {
  const input = sse(chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'now', arguments: '' } }] }), chunk({}, 'tool_calls'), '[DONE]');
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'tool_call', index: 0, id: 'c1', name: 'now' },
    { type: 'tool_args', index: 0, delta: '{}' },
    { type: 'finish', reason: 'tool_calls' },
  ]);
});

t.test('several tools: index increments; name repeated on every delta is not a new call', async (t) => {
  const input = sse(
    chunk({ content: 'Checking.' }),
    chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'a', arguments: '{"x"' } }] }),
    chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'a', arguments: ':1}' } }] }),
    chunk({ tool_calls: [{ index: 1, id: 'c2', type: 'function', function: { name: 'b', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: '{"y":2}' } }] }),
    chunk({}, 'stop'),
    '[DONE]',
  );
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'text', text: 'Checking.' },
    { type: 'tool_call', index: 0, id: 'c1', name: 'a' },
    { type: 'tool_args', index: 0, delta: '{"x"' },
    { type: 'tool_args', index: 0, delta: ':1}' },
    { type: 'tool_call', index: 1, id: 'c2', name: 'b' },
    { type: 'tool_args', index: 1, delta: '{"y":2}' },
    // upstream said stop on a mixed text + tool turn: corrected
    { type: 'finish', reason: 'tool_calls' },
  ]);
});

t.test('two tool calls in one delta array; upstream indexes not starting at 0', async (t) => {
  const input = sse(
    chunk({
      tool_calls: [
        { index: 3, id: 'p', type: 'function', function: { name: 'one', arguments: '{}' } },
        { index: 5, id: 'q', type: 'function', function: { name: 'two', arguments: '{"k":true}' } },
      ],
    }, 'tool_calls'),
    '[DONE]',
  );
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'tool_call', index: 0, id: 'p', name: 'one' },
    { type: 'tool_args', index: 0, delta: '{}' },
    { type: 'tool_call', index: 1, id: 'q', name: 'two' },
    { type: 'tool_args', index: 1, delta: '{"k":true}' },
    { type: 'finish', reason: 'tool_calls' },
  ]);
});

t.test('server omitting index: matched by id, then by "the last one"; object arguments accepted', async (t) => {
  const input = sse(
    chunk({ tool_calls: [{ id: 'm1', type: 'function', function: { name: 'a', arguments: '{"n":' } }] }),
    chunk({ tool_calls: [{ id: 'm1', function: { arguments: '1}' } }] }),
    chunk({ tool_calls: [{ id: 'm2', type: 'function', function: { name: 'b', arguments: { z: 0 } } }] }),
    chunk({}, 'tool_calls'),
    '[DONE]',
  );
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'tool_call', index: 0, id: 'm1', name: 'a' },
    { type: 'tool_args', index: 0, delta: '{"n":' },
    { type: 'tool_args', index: 0, delta: '1}' },
    { type: 'tool_call', index: 1, id: 'm2', name: 'b' },
    { type: 'tool_args', index: 1, delta: '{"z":0}' },
    { type: 'finish', reason: 'tool_calls' },
  ]);
});

t.test('usage on every chunk: the last one wins, never summed; the first gives the start its input count', async (t) => {
  const u = (p: number, c: number) => ({ usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c } });
  const input = sse(chunk({ content: 'a' }, null, u(10, 1)), chunk({ content: 'b' }, null, u(10, 2)), chunk({}, 'length', u(10, 3)), '[DONE]');
  sameForEveryChunking(t, make, input, [
    { ...start, input_tokens: 10 },
    { type: 'text', text: 'a' },
    { type: 'text', text: 'b' },
    { type: 'finish', reason: 'length' },
    { type: 'usage', input_tokens: 10, output_tokens: 3 },
  ]);
});

t.test('finish_reason in a chunk that also carries content: content first', async (t) => {
  const input = sse(chunk({ content: 'end.' }, 'stop'), usageChunk(2, 2), '[DONE]');
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'text', text: 'end.' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', input_tokens: 2, output_tokens: 2 },
  ]);
});

t.test('reasoning_content (vLLM, llama.cpp) and reasoning (newer vLLM) -> reasoning events', async (t) => {
  const input = sse(
    chunk({ role: 'assistant', reasoning_content: 'think' }),
    chunk({ reasoning: 'ing', reasoning_content: null }),
    chunk({ reasoning_content: 'x', reasoning: 'x' }),
    chunk({ content: 'Answer' }, 'stop'),
    '[DONE]',
  );
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'reasoning', text: 'think' },
    { type: 'reasoning', text: 'ing' },
    { type: 'reasoning', text: 'x' },
    { type: 'text', text: 'Answer' },
    { type: 'finish', reason: 'stop' },
  ]);
});

t.test('unknown finish reasons map to stop; content_filter kept; choice index != 0 ignored', async (t) => {
  const input = sse(
    { ...base, choices: [{ index: 1, delta: { content: 'other' }, finish_reason: null }] },
    chunk({ content: 'x' }, 'abort'),
    '[DONE]',
  );
  sameForEveryChunking(t, make, input, [start, { type: 'text', text: 'x' }, { type: 'finish', reason: 'stop' }]);
  sameForEveryChunking(t, make, sse(chunk({}, 'content_filter'), '[DONE]'), [start, { type: 'finish', reason: 'content_filter' }]);
});

t.test('error object mid-stream -> one error event, nothing after', async (t) => {
  const input = sse(chunk({ content: 'par' }), { error: { message: 'CUDA out of memory', type: 'server_error', code: 500 } }, chunk({ content: 'ignored' }), '[DONE]');
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'text', text: 'par' },
    { type: 'error', code: 'upstream_error', message: 'The model server failed: CUDA out of memory' },
  ]);
});

t.test('vLLM {"object":"error"} and string errors', async (t) => {
  sameForEveryChunking(t, make, sse({ object: 'error', message: 'maximum context length is 4096 tokens', type: 'BadRequestError', code: 400 }), [
    { type: 'error', code: 'upstream_error', message: 'The model server failed: maximum context length is 4096 tokens' },
  ]);
  sameForEveryChunking(t, make, sse({ error: 'boom' }), [{ type: 'error', code: 'upstream_error', message: 'The model server failed: boom' }]);
});

t.test('missing [DONE]: finish and usage at end(); cut before finish -> error', async (t) => {
  sameForEveryChunking(t, make, sse(chunk({ content: 'a' }), chunk({}, 'stop'), usageChunk(1, 1)), [
    start,
    { type: 'text', text: 'a' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', input_tokens: 1, output_tokens: 1 },
  ]);
  sameForEveryChunking(t, make, sse(chunk({ content: 'a' })), [
    start,
    { type: 'text', text: 'a' },
    { type: 'error', code: 'upstream_error', message: 'The model server closed the stream before it finished.' },
  ]);
  sameForEveryChunking(t, make, '', [{ type: 'error', code: 'upstream_error', message: 'The model server closed the stream without answering.' }]);
  sameForEveryChunking(t, make, ': keepalive\n\n', [{ type: 'error', code: 'upstream_error', message: 'The model server closed the stream without answering.' }]);
});

t.test('malformed JSON -> error; no id/created -> generated id and now', async (t) => {
  sameForEveryChunking(t, make, sse(chunk({ content: 'a' }), '{"choices":[', '[DONE]'), [
    start,
    { type: 'text', text: 'a' },
    { type: 'error', code: 'upstream_error', message: 'The model server sent a malformed stream chunk.' },
  ]);
  sameForEveryChunking(t, make, sse({ choices: [{ delta: { content: 'z' }, finish_reason: 'stop' }] }, '[DONE]'), [
    { type: 'start', id: 'chatcmpl_1', model: '', created: 1700000000 },
    { type: 'text', text: 'z' },
    { type: 'finish', reason: 'stop' },
  ]);
});

t.test('oversized event -> error; nothing after the error or after [DONE]', async (t) => {
  const d = make();
  t.strictSame(d.push(`data: ${'x'.repeat(5 * 1024 * 1024)}`), [{ type: 'error', code: 'upstream_error', message: 'The model server sent an oversized stream event.' }]);
  t.strictSame(d.push(sse(chunk({ content: 'a' }))), []);
  t.strictSame(d.end(), []);
  const e = make();
  t.strictSame(e.push(sse(chunk({}, 'stop'), '[DONE]', chunk({ content: 'late' }))), [start, { type: 'finish', reason: 'stop' }]);
  t.strictSame(e.end(), []);
});

t.test('tool call whose name never arrives -> error', async (t) => {
  sameForEveryChunking(t, make, sse(chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }, 'tool_calls'), '[DONE]'), [
    start,
    { type: 'error', code: 'upstream_error', message: 'The model server sent a tool call without a name.' },
  ]);
});

t.test('arguments before the name are kept and sent after tool_call', async (t) => {
  sameForEveryChunking(t, make, sse(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] }), chunk({ tool_calls: [{ index: 0, id: 'k', function: { name: 'late', arguments: ':1}' } }] }, 'tool_calls'), '[DONE]'), [
    start,
    { type: 'tool_call', index: 0, id: 'k', name: 'late' },
    { type: 'tool_args', index: 0, delta: '{"a":1}' },
    { type: 'finish', reason: 'tool_calls' },
  ]);
});

t.test('the stop string that ended the answer: vLLM stop_reason, SGLang matched_stop; token ids and other finishes none', async (t) => {
  const finishWith = (extra: Record<string, unknown>, finish = 'stop') => ({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finish, ...extra }] });
  const events = (finish: ChatEvent) => [start, { type: 'text', text: 'x' }, finish, { type: 'usage', input_tokens: 1, output_tokens: 1 }] as ChatEvent[];
  const run = (extra: Record<string, unknown>, finish?: string) => sse(chunk({ content: 'x' }), finishWith(extra, finish), usageChunk(1, 1), '[DONE]');
  sameForEveryChunking(t, make, run({ stop_reason: 'END' }), events({ type: 'finish', reason: 'stop', stop_sequence: 'END' }));
  sameForEveryChunking(t, make, run({ matched_stop: '\n\n' }), events({ type: 'finish', reason: 'stop', stop_sequence: '\n\n' }));
  sameForEveryChunking(t, make, run({ stop_reason: 128009 }), events({ type: 'finish', reason: 'stop' }));
  sameForEveryChunking(t, make, run({ stop_reason: null, matched_stop: 2 }), events({ type: 'finish', reason: 'stop' }));
  sameForEveryChunking(t, make, run({ stop_reason: 'END' }, 'length'), events({ type: 'finish', reason: 'length' }));
});

t.test('usage without prompt_tokens on the first chunk gives no input count', async (t) => {
  const input = sse(chunk({ content: 'a' }, null, { usage: { completion_tokens: 1 } }), chunk({}, 'stop'), '[DONE]');
  sameForEveryChunking(t, make, input, [start, { type: 'text', text: 'a' }, { type: 'finish', reason: 'stop' }, { type: 'usage', input_tokens: 0, output_tokens: 1 }]);
});

t.test('one in-stream error rule with the passthrough: a chunk that has choices is a chunk, even with an error member', async (t) => {
  const input = sse(chunk({ content: 'a' }, null, { error: null }), chunk({ content: 'b' }, null, { error: { message: 'warning' } }), chunk({}, 'stop'), '[DONE]');
  sameForEveryChunking(t, make, input, [start, { type: 'text', text: 'a' }, { type: 'text', text: 'b' }, { type: 'finish', reason: 'stop' }]);
  const failed = sse(chunk({ content: 'a' }), { error: { message: 'CUDA\nout of memory' } });
  sameForEveryChunking(t, make, failed, [start, { type: 'text', text: 'a' }, { type: 'error', code: 'upstream_error', message: 'The model server failed: CUDA out of memory' }]);
});
