import t from 'tap';
import { InfillDecoder } from '../../../src/translate/completions/infill.js';
import { OllamaGenerateDecoder } from '../../../src/translate/completions/ollama.js';
import { CompletionsStreamEncoder } from '../../../src/translate/completions/caller.js';
import { parseCompletionRequest } from '../../../src/translate/completions/request.js';
import { encodeVector } from '../../../src/translate/embeddings/ollama.js';
import { parseEmbeddingsRequest } from '../../../src/translate/embeddings/request.js';
import { TokiosError } from '../../../src/errors/registry.js';
import { fixedOptions, ndjson, sameForEveryChunking, sse } from '../support.js';

const at = '2024-05-01T10:00:00.123Z';

t.test('Ollama /api/generate: response pieces, done with length and usage, for every chunking', async (t) => {
  const input = ndjson(
    { model: 'qwen2.5-coder:7b', created_at: at, response: 'a + ', done: false },
    { model: 'qwen2.5-coder:7b', created_at: at, response: 'b ✓', done: false },
    { model: 'qwen2.5-coder:7b', created_at: at, response: '', done: true, done_reason: 'length', context: [1, 2], prompt_eval_count: 11, eval_count: 2 },
  );
  sameForEveryChunking(t, () => new OllamaGenerateDecoder(fixedOptions()), input, [
    { type: 'start', id: 'cmpl_1', model: 'qwen2.5-coder:7b', created: 1714557600 },
    { type: 'text', text: 'a + ' },
    { type: 'text', text: 'b ✓' },
    { type: 'finish', reason: 'length' },
    { type: 'usage', input_tokens: 11, output_tokens: 2 },
  ]);
});

t.test('Ollama /api/generate: an error line, or a body cut before done, is one error event', async (t) => {
  const d = new OllamaGenerateDecoder(fixedOptions());
  const events = [...d.push(ndjson({ model: 'm', created_at: at, response: 'x', done: false }, { error: 'out of memory' })), ...d.end()];
  t.match(events.at(-1), { type: 'error', code: 'upstream_error', message: /out of memory/ });
  const cut = new OllamaGenerateDecoder(fixedOptions());
  t.match([...cut.push(ndjson({ model: 'm', created_at: at, response: 'x', done: false })), ...cut.end()].at(-1), { type: 'error', message: /closed the stream/ });
});

t.test('llama.cpp /infill: content events, the stop event with stop_type and counts, for every chunking', async (t) => {
  const input = sse(
    { index: 0, content: 'return', tokens: [], stop: false, id_slot: -1, tokens_predicted: 1, tokens_evaluated: 14 },
    { index: 0, content: ' a + b', tokens: [], stop: false, id_slot: -1, tokens_predicted: 2, tokens_evaluated: 14 },
    { index: 0, content: '', stop: true, model: 'q', tokens_predicted: 2, tokens_evaluated: 14, stop_type: 'limit', timings: { prompt_n: 14, predicted_n: 2 } },
  );
  sameForEveryChunking(t, () => new InfillDecoder(fixedOptions()), input, [
    { type: 'start', id: 'cmpl_1', model: '', created: 1700000000 },
    { type: 'text', text: 'return' },
    { type: 'text', text: ' a + b' },
    { type: 'finish', reason: 'length' },
    { type: 'usage', input_tokens: 14, output_tokens: 2 },
  ]);
});

t.test('llama.cpp /infill: older servers say stopped_limit; an error event fails the stream', async (t) => {
  const old = new InfillDecoder(fixedOptions());
  const events = [...old.push(sse({ content: 'x', stop: false }, { content: '', stop: true, stopped_limit: true, tokens_predicted: 1, tokens_evaluated: 3 })), ...old.end()];
  t.match(events, [{ type: 'start' }, { type: 'text', text: 'x' }, { type: 'finish', reason: 'length' }, { type: 'usage', input_tokens: 3, output_tokens: 1 }]);
  const bad = new InfillDecoder(fixedOptions());
  t.match([...bad.push(sse({ error: { code: 500, message: 'Infill is not supported by this model', type: 'server_error' } })), ...bad.end()].at(-1), {
    type: 'error',
    message: /Infill is not supported/,
  });
});

t.test('text_completion stream: one envelope, empty finish chunk, usage chunk only when asked, [DONE]', async (t) => {
  const enc = new CompletionsStreamEncoder({ model: 'dep', requestId: 'r1', includeUsage: true }, () => 1714557600000);
  let out = enc.push({ type: 'start', id: 'x', model: 'm', created: 1714557600 });
  out += enc.push({ type: 'text', text: 'hi' });
  out += enc.push({ type: 'reasoning', text: 'never shown' });
  out += enc.push({ type: 'finish', reason: 'length' });
  out += enc.push({ type: 'usage', input_tokens: 2, output_tokens: 1 });
  out += enc.end();
  const events = out.split('\n\n').filter((e) => e.length > 0).map((e) => e.replace(/^data: /, ''));
  t.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, unknown>);
  t.strictSame(chunks, [
    { id: 'cmpl-r1', object: 'text_completion', created: 1714557600, model: 'dep', choices: [{ text: 'hi', index: 0, logprobs: null, finish_reason: null }], usage: null },
    { id: 'cmpl-r1', object: 'text_completion', created: 1714557600, model: 'dep', choices: [{ text: '', index: 0, logprobs: null, finish_reason: 'length' }], usage: null },
    { id: 'cmpl-r1', object: 'text_completion', created: 1714557600, model: 'dep', choices: [], usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 } },
  ]);
});

t.test('completion requests: defaults, one prompt, neutral values accepted, the rest named', async (t) => {
  t.strictSame(parseCompletionRequest({ model: 'm', prompt: ['only'], n: 1, echo: false, logprobs: null, best_of: 1 }), { prompt: 'only', stream: false, includeUsage: false, max_tokens: 16 });
  t.strictSame(parseCompletionRequest({ model: 'm' }).prompt, '', 'no prompt: from the start');
  const param = (body: Record<string, unknown>): string | null => {
    try {
      parseCompletionRequest({ model: 'm', ...body });
      return 'accepted';
    } catch (err) {
      return err instanceof TokiosError ? err.param : 'other';
    }
  };
  t.equal(param({ prompt: [1, 2, 3] }), 'prompt');
  t.equal(param({ prompt: [] }), 'prompt');
  t.equal(param({ logit_bias: { '50256': -100 } }), 'logit_bias');
  t.equal(param({ temperature: 3 }), 'temperature');
  t.equal(param({ stream_options: { include_usage: true } }), 'stream_options');
  t.equal(param({ best_of: 3 }), 'best_of');
});

t.test('embeddings: base64 is little-endian float32; requests keep input order', async (t) => {
  const b64 = encodeVector([1, -0.5], 'base64') as string;
  const bytes = Buffer.from(b64, 'base64');
  t.same([bytes.readFloatLE(0), bytes.readFloatLE(4)], [1, -0.5]);
  t.same(encodeVector([0.25], 'float'), [0.25]);
  t.strictSame(parseEmbeddingsRequest({ model: 'm', input: 'a' }), { input: ['a'], encoding: 'float' });
  t.strictSame(parseEmbeddingsRequest({ model: 'm', input: ['a', 'b'], encoding_format: 'base64', dimensions: 3, user: 'u' }), { input: ['a', 'b'], encoding: 'base64', dimensions: 3 });
  t.throws(() => parseEmbeddingsRequest({ model: 'm', input: [] }), { code: 'invalid_request', param: 'input' } as never, 'an empty input list is refused');
});

t.test('embeddings to an OpenAI-compatible server are never turned into a stream request', async (t) => {
  const { planTranslation } = await import('../../../src/translate/plan.js');
  const plan = planTranslation({ rid: 'r', protocol: 'openai.embeddings', model: 'dep', stream: true }, Buffer.from(JSON.stringify({ model: 'dep', input: 'x', stream: true })), { kind: 'openai', model: 'bge-m3' });
  t.equal(plan.path, '/v1/embeddings');
  t.strictSame(JSON.parse(plan.body.toString()), { model: 'bge-m3', input: 'x', stream: true }, 'model renamed, no stream_options added');
});
