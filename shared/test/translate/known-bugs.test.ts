/**
 * The bugs other gateways shipped (notes/protocol-translation.md, last section), each as a golden vector through
 * upstream decoder -> OpenAI Chat encoder, fed whole, byte by byte and split at every byte.
 */
import t, { type Test } from 'tap';
import type { UpstreamDecoder } from '../../src/translate/adapter.js';
import { OpenAIChatStreamEncoder } from '../../src/translate/caller/openai-chat/index.js';
import { OllamaStreamDecoder } from '../../src/translate/upstream/ollama/index.js';
import { OpenAIStreamDecoder } from '../../src/translate/upstream/openai/index.js';
import { chunkings } from '../codec/feed.js';
import { fixedOptions, ndjson, sse } from './support.js';

function pipe(make: () => UpstreamDecoder, chunks: Uint8Array[]): string {
  const d = make();
  const e = new OpenAIChatStreamEncoder({ model: 'dep', requestId: 'r', includeUsage: true });
  let out = '';
  for (const c of chunks) for (const ev of d.push(c)) out += ev.type === 'error' ? e.fail(ev) : e.push(ev);
  for (const ev of d.end()) out += ev.type === 'error' ? e.fail(ev) : e.push(ev);
  return out + e.end();
}

function golden(t: Test, make: () => UpstreamDecoder, input: string, expected: string): void {
  let bad = 0;
  for (const { name, chunks } of chunkings(input)) {
    const got = pipe(make, chunks);
    if (got !== expected && bad++ === 0) t.equal(got, expected, name);
  }
  t.equal(bad, 0, 'same bytes for every chunking');
}

const oa = () => new OpenAIStreamDecoder(fixedOptions());
const ol = () => new OllamaStreamDecoder(fixedOptions());
const H = 'data: {"id":"chatcmpl-r","object":"chat.completion.chunk","created":7,"model":"dep","choices":';
const c = (delta: string, finish: string | null = null) => `${H}[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}],"usage":null}\n\n`;
const ROLE = c('{"role":"assistant","content":""}');
const usage = (p: number, q: number) => `${H}[],"usage":{"prompt_tokens":${p},"completion_tokens":${q},"total_tokens":${p + q}}}\n\n`;
const DONE = 'data: [DONE]\n\n';
const k = (delta: unknown, finish: string | null = null, extra: object = {}) => ({ id: 'u', object: 'chat.completion.chunk', created: 7, model: 'up', choices: [{ index: 0, delta, finish_reason: finish }], ...extra });
const olLine = (message: object, extra: object = {}) => ({ model: 'm', created_at: '1970-01-01T00:00:07Z', message: { role: 'assistant', content: '', ...message }, done: false, ...extra });

t.test('first chunk always carries role, exactly once (no duplicate start)', async (t) => {
  golden(t, oa, sse(k({ content: 'a' }), k({ role: 'assistant', content: 'b' }), k({}, 'stop'), '[DONE]'), ROLE + c('{"content":"a"}') + c('{"content":"b"}') + c('{}', 'stop') + DONE);
});

t.test('thinking stays out of the text: reasoning_content deltas, separate from content', async (t) => {
  golden(t, ol, ndjson(olLine({ thinking: 'plan' }), olLine({ content: 'answer' }), { ...olLine({}), done: true, done_reason: 'stop', prompt_eval_count: 1, eval_count: 2 }),
    ROLE + c('{"reasoning_content":"plan"}') + c('{"content":"answer"}') + c('{}', 'stop') + usage(1, 2) + DONE);
});

t.test('tool arguments that come only at the end are not dropped; no arguments at all -> {}', async (t) => {
  golden(t, oa, sse(k({ tool_calls: [{ index: 0, id: 't', type: 'function', function: { name: 'f' } }] }), k({ tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] }, 'tool_calls'), '[DONE]'),
    ROLE + c('{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":""}}]}') + c('{"tool_calls":[{"index":0,"function":{"arguments":"{\\"a\\":1}"}}]}') + c('{}', 'tool_calls') + DONE);
  golden(t, oa, sse(k({ tool_calls: [{ index: 0, id: 't', type: 'function', function: { name: 'f', arguments: '' } }] }, 'tool_calls'), '[DONE]'),
    ROLE + c('{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":""}}]}') + c('{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}') + c('{}', 'tool_calls') + DONE);
});

t.test('tool_calls: [] never yields an empty tool delta', async (t) => {
  golden(t, oa, sse(k({ content: 'x', tool_calls: [] }), k({ tool_calls: [] }, 'stop'), '[DONE]'), ROLE + c('{"content":"x"}') + c('{}', 'stop') + DONE);
});

t.test('mixed text + tool turn ends with tool_calls, not stop', async (t) => {
  golden(t, oa, sse(k({ content: 'Sure.' }), k({ tool_calls: [{ index: 0, id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] }), k({}, 'stop'), '[DONE]'),
    ROLE + c('{"content":"Sure."}') + c('{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":""}}]}') + c('{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}') + c('{}', 'tool_calls') + DONE);
});

t.test('several tools: index increments (Ollama, one line each)', async (t) => {
  golden(t, ol, ndjson(olLine({ tool_calls: [{ function: { name: 'a', arguments: {} } }] }), olLine({ tool_calls: [{ function: { name: 'b', arguments: { q: 1 } } }] }), { ...olLine({}), done: true, done_reason: 'stop', prompt_eval_count: 5, eval_count: 6 }),
    ROLE +
      c('{"tool_calls":[{"index":0,"id":"call_2","type":"function","function":{"name":"a","arguments":""}}]}') + c('{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}') +
      c('{"tool_calls":[{"index":1,"id":"call_3","type":"function","function":{"name":"b","arguments":""}}]}') + c('{"tool_calls":[{"index":1,"function":{"arguments":"{\\"q\\":1}"}}]}') +
      c('{}', 'tool_calls') + usage(5, 6) + DONE);
});

t.test('usage present and not zero; usage on every chunk not summed', async (t) => {
  const u = (n: number) => ({ usage: { prompt_tokens: 9, completion_tokens: n, total_tokens: 9 + n } });
  golden(t, oa, sse(k({ content: 'a' }, null, u(1)), k({ content: 'b' }, null, u(2)), k({}, 'stop', u(2)), '[DONE]'), ROLE + c('{"content":"a"}') + c('{"content":"b"}') + c('{}', 'stop') + usage(9, 2) + DONE);
});

t.test('Ollama tool calls and done in separate lines -> tool_calls', async (t) => {
  golden(t, ol, ndjson(olLine({ tool_calls: [{ function: { name: 'f', arguments: { x: 'y' } } }] }), { ...olLine({}), done: true, done_reason: 'stop', prompt_eval_count: 3, eval_count: 4 }),
    ROLE + c('{"tool_calls":[{"index":0,"id":"call_2","type":"function","function":{"name":"f","arguments":""}}]}') + c('{"tool_calls":[{"index":0,"function":{"arguments":"{\\"x\\":\\"y\\"}"}}]}') + c('{}', 'tool_calls') + usage(3, 4) + DONE);
});

t.test('only the first tool delta carries id: later deltas are kept (keyed on index)', async (t) => {
  golden(t, oa, sse(
    k({ tool_calls: [{ index: 0, id: 'first', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }),
    k({ tool_calls: [{ index: 0, function: { arguments: ':' } }] }),
    k({ tool_calls: [{ index: 0, id: null, function: { arguments: '2}' } }] }),
    k({}, 'tool_calls'),
    '[DONE]',
  ),
    ROLE + c('{"tool_calls":[{"index":0,"id":"first","type":"function","function":{"name":"f","arguments":""}}]}') +
      c('{"tool_calls":[{"index":0,"function":{"arguments":"{\\"a\\""}}]}') + c('{"tool_calls":[{"index":0,"function":{"arguments":":"}}]}') + c('{"tool_calls":[{"index":0,"function":{"arguments":"2}"}}]}') +
      c('{}', 'tool_calls') + DONE);
});
