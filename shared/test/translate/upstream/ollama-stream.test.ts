import t from 'tap';
import { OllamaStreamDecoder } from '../../../src/translate/upstream/ollama/index.js';
import type { ChatEvent } from '../../../src/translate/pivot.js';
import { fixedOptions, ndjson, sameForEveryChunking } from '../support.js';

const make = () => new OllamaStreamDecoder(fixedOptions());
const at = '2024-05-01T10:00:00.123Z';
const line = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  model: 'llama3.1:8b',
  created_at: at,
  message: { role: 'assistant', content: '', ...message },
  done: false,
  ...extra,
});
const done = (reason: string, p?: number, e?: number) => ({
  model: 'llama3.1:8b',
  created_at: at,
  message: { role: 'assistant', content: '' },
  done: true,
  done_reason: reason,
  total_duration: 1,
  load_duration: 1,
  ...(p === undefined ? {} : { prompt_eval_count: p }),
  ...(e === undefined ? {} : { eval_count: e }),
  eval_duration: 1,
});
const start: ChatEvent = { type: 'start', id: 'chatcmpl_1', model: 'llama3.1:8b', created: 1714557600 };

t.test('text then done: finish and usage from prompt_eval_count / eval_count', async (t) => {
  sameForEveryChunking(t, make, ndjson(line({ content: 'Bon' }), line({ content: 'jour 🌍' }), done('stop', 26, 7)), [
    start,
    { type: 'text', text: 'Bon' },
    { type: 'text', text: 'jour 🌍' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', input_tokens: 26, output_tokens: 7 },
  ]);
});

t.test('tool calls and done in separate lines: finish is tool_calls though done_reason is stop', async (t) => {
  const input = ndjson(
    line({ tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris', days: 2 } } }] }),
    done('stop', 80, 20),
  );
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'tool_call', index: 0, id: 'call_2', name: 'get_weather' },
    { type: 'tool_args', index: 0, delta: '{"city":"Paris","days":2}' },
    { type: 'finish', reason: 'tool_calls' },
    { type: 'usage', input_tokens: 80, output_tokens: 20 },
  ]);
});

t.test('mixed text + several tools across lines: indexes 0,1,2; Ollama ids kept; empty arguments -> {}', async (t) => {
  const input = ndjson(
    line({ content: 'Let me check.' }),
    line({ tool_calls: [{ id: 'call_ol1', function: { index: 0, name: 'a', arguments: {} } }, { function: { index: 1, name: 'b', arguments: { x: [1] } } }] }),
    line({ tool_calls: [{ function: { name: 'c' } }] }),
    done('stop', 1, 2),
  );
  sameForEveryChunking(t, make, input, [
    start,
    { type: 'text', text: 'Let me check.' },
    { type: 'tool_call', index: 0, id: 'call_ol1', name: 'a' },
    { type: 'tool_args', index: 0, delta: '{}' },
    { type: 'tool_call', index: 1, id: 'call_2', name: 'b' },
    { type: 'tool_args', index: 1, delta: '{"x":[1]}' },
    { type: 'tool_call', index: 2, id: 'call_3', name: 'c' },
    { type: 'tool_args', index: 2, delta: '{}' },
    { type: 'finish', reason: 'tool_calls' },
    { type: 'usage', input_tokens: 1, output_tokens: 2 },
  ]);
});

t.test('thinking -> reasoning, before content within a line', async (t) => {
  sameForEveryChunking(t, make, ndjson(line({ thinking: 'Hmm' }), line({ thinking: '.', content: 'Yes' }), done('stop', 3, 4)), [
    start,
    { type: 'reasoning', text: 'Hmm' },
    { type: 'reasoning', text: '.' },
    { type: 'text', text: 'Yes' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', input_tokens: 3, output_tokens: 4 },
  ]);
});

t.test('done_reason length; missing prompt_eval_count (prompt cached) counts 0; load -> stop', async (t) => {
  sameForEveryChunking(t, make, ndjson(line({ content: 'a' }), done('length', undefined, 5)), [
    start,
    { type: 'text', text: 'a' },
    { type: 'finish', reason: 'length' },
    { type: 'usage', input_tokens: 0, output_tokens: 5 },
  ]);
  sameForEveryChunking(t, make, ndjson(done('load')), [start, { type: 'finish', reason: 'stop' }, { type: 'usage', input_tokens: 0, output_tokens: 0 }]);
});

t.test('mid-stream {"error"} after a 200 -> error event; nothing after', async (t) => {
  sameForEveryChunking(t, make, ndjson(line({ content: 'a' }), { error: 'an error was encountered while running the model: unexpected EOF' }, line({ content: 'b' })), [
    start,
    { type: 'text', text: 'a' },
    { type: 'error', code: 'upstream_error', message: 'The model server failed: an error was encountered while running the model: unexpected EOF' },
  ]);
});

t.test('malformed line, non-object line, cut stream, empty body', async (t) => {
  sameForEveryChunking(t, make, ndjson(line({ content: 'a' }), '{"model":'), [
    start,
    { type: 'text', text: 'a' },
    { type: 'error', code: 'upstream_error', message: 'The model server sent a malformed stream line.' },
  ]);
  sameForEveryChunking(t, make, ndjson('[1,2]'), [{ type: 'error', code: 'upstream_error', message: 'The model server sent a malformed stream line.' }]);
  sameForEveryChunking(t, make, ndjson(line({ content: 'a' })), [
    start,
    { type: 'text', text: 'a' },
    { type: 'error', code: 'upstream_error', message: 'The model server closed the stream before it finished.' },
  ]);
  sameForEveryChunking(t, make, '', [{ type: 'error', code: 'upstream_error', message: 'The model server closed the stream without answering.' }]);
});

t.test('tool call without a name -> error; lines after done ignored', async (t) => {
  sameForEveryChunking(t, make, ndjson(line({ tool_calls: [{ function: { arguments: {} } }] })), [
    start,
    { type: 'error', code: 'upstream_error', message: 'The model server sent a tool call without a name.' },
  ]);
  sameForEveryChunking(t, make, ndjson(done('stop', 1, 1), line({ content: 'late' })), [
    start,
    { type: 'finish', reason: 'stop' },
    { type: 'usage', input_tokens: 1, output_tokens: 1 },
  ]);
});

t.test('invalid created_at falls back to now', async (t) => {
  sameForEveryChunking(t, make, ndjson({ model: 'm', created_at: 'nope', message: { role: 'assistant', content: 'x' }, done: true, done_reason: 'stop', eval_count: 1, prompt_eval_count: 2 }), [
    { type: 'start', id: 'chatcmpl_1', model: 'm', created: 1700000000 },
    { type: 'text', text: 'x' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', input_tokens: 2, output_tokens: 1 },
  ]);
});
