/**
 * Legacy completions (with `suffix` fill-in-the-middle) and embeddings through the real chain and the official
 * `openai` SDK: translated to Ollama's /api/generate and /api/embed, passed through to an OpenAI-compatible server's
 * /v1/completions and /v1/embeddings, and FIM sent to llama.cpp's /infill when the connector found llama.cpp.
 */
import t from 'tap';
import OpenAI from 'openai';
import { getGlobalDispatcher } from 'undici';
import {
  OllamaUpstream,
  OpenAIUpstream,
  probeLog,
  startConnectorProc,
  startDevStack,
  type DevStack,
  type Proc,
} from '../support/index.js';
import { defaultTextScript, vectorFor } from '../support/legacy-wire.js';

const OLLAMA = 'ollama-coder';
const VLLM = 'vllm-coder';
const LLAMACPP = 'llamacpp-coder';

let stack: DevStack;
let ollama: OllamaUpstream;
let vllm: OpenAIUpstream;
let llamacpp: OpenAIUpstream;
const procs: Proc[] = [];
const probes: Record<string, ReturnType<typeof probeLog>> = {};

t.before(async () => {
  stack = await startDevStack([OLLAMA, VLLM, LLAMACPP]);
  [ollama, vllm, llamacpp] = await Promise.all([OllamaUpstream.start(['qwen2.5-coder:7b', 'nomic-embed-text:latest']), OpenAIUpstream.start('Qwen/Qwen2.5-Coder-7B'), OpenAIUpstream.start('qwen2.5-coder-7b-q4_k_m')]);
  llamacpp.llamacpp = true;
  const start = async (name: string, config: Record<string, unknown>): Promise<void> => {
    const proc = await startConnectorProc({ tunnel_token: stack.seeded.deployments[name]!.token, gateway: stack.gateway, tunnels: 1, upstream: '', ...config }, {}, false);
    procs.push(proc);
    await proc.waitFor(/Tunnel established/, 60_000);
    await proc.waitFor(/"msg":"upstream (speaks|kind)/, 10_000);
    probes[name] = probeLog(proc.output);
  };
  await Promise.all([
    start(OLLAMA, { upstream: ollama.url, model: 'qwen2.5-coder:7b' }),
    start(VLLM, { upstream: `${vllm.url}/v1` }),
    start(LLAMACPP, { upstream: llamacpp.url }),
  ]);
});
t.teardown(async () => {
  await getGlobalDispatcher().destroy();
  await Promise.all(procs.map((p) => p.kill()));
  await Promise.all([ollama?.close(), vllm?.close(), llamacpp?.close()]);
  await stack?.close();
});

const openai = () => new OpenAI({ apiKey: stack.seeded.apiKey, baseURL: stack.baseURL, maxRetries: 0 });

t.test('the llama.cpp connector found /infill, the others did not', async (t) => {
  t.match(probes[LLAMACPP], { kind: 'openai', infill: true });
  t.match(probes[VLLM], { kind: 'openai', infill: false });
  t.match(probes[OLLAMA], { kind: 'ollama', infill: false });
});

t.test('embeddings on Ollama: the SDK default (base64) and floats, one vector per input, usage', async (t) => {
  const res = await openai().embeddings.create({ model: OLLAMA, input: ['def add(a, b):', 'return a + b'] });
  t.equal(res.object, 'list');
  t.equal(res.model, OLLAMA);
  t.same(res.data.map((d) => d.index), [0, 1]);
  t.same(res.data[0]!.embedding, vectorFor('def add(a, b):', 8), 'base64 float32 decoded by the SDK to the same numbers');
  t.same(res.data[1]!.embedding, vectorFor('return a + b', 8));
  t.same(res.usage, { prompt_tokens: 7, total_tokens: 7 });
  t.strictSame(ollama.last.body, { model: 'qwen2.5-coder:7b', input: ['def add(a, b):', 'return a + b'] });
  t.equal(ollama.last.path, '/api/embed');

  const floats = await openai().embeddings.create({ model: OLLAMA, input: 'hello', encoding_format: 'float', dimensions: 4 });
  t.same(floats.data[0]!.embedding, vectorFor('hello', 4));
  t.strictSame(ollama.last.body, { model: 'qwen2.5-coder:7b', input: ['hello'], dimensions: 4 });
});

t.test('embeddings on an OpenAI-compatible server: passed through, model renamed, base64 kept', async (t) => {
  const res = await openai().embeddings.create({ model: VLLM, input: 'fn main() {}' });
  t.same(res.data[0]!.embedding, vectorFor('fn main() {}', 8));
  t.equal(vllm.last.path, '/v1/embeddings');
  t.strictSame(vllm.last.body, { model: 'Qwen/Qwen2.5-Coder-7B', input: 'fn main() {}', encoding_format: 'base64' });
  t.same(res.usage, { prompt_tokens: 3, total_tokens: 3 });
});

t.test('embeddings: what Ollama cannot take is a 400 naming the field', async (t) => {
  const err = await openai().embeddings.create({ model: OLLAMA, input: [[1, 2, 3]] }).catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.BadRequestError);
  t.match((err as InstanceType<typeof OpenAI.BadRequestError>).error, { code: 'unsupported_parameter', param: 'input' });
  const unknown = await openai().embeddings.create({ model: OLLAMA, input: 'x', extra: 1 } as never).catch((e: unknown) => e);
  t.match((unknown as InstanceType<typeof OpenAI.BadRequestError>).error, { code: 'unsupported_parameter', param: 'extra' });
});

t.test('completions on Ollama, not streamed: raw prompt, default 16 tokens, text_completion', async (t) => {
  ollama.textScript = () => ({ ...defaultTextScript(), chunks: ['world', '!'], usage: { prompt: 4, completion: 2 } });
  const res = await openai().completions.create({ model: OLLAMA, prompt: 'Hello ', temperature: 0.1, stop: ['\n'] });
  t.equal(res.object, 'text_completion');
  t.equal(res.model, OLLAMA);
  t.match(res.id, /^cmpl-/);
  t.same(res.choices, [{ text: 'world!', index: 0, logprobs: null, finish_reason: 'stop' }]);
  t.same(res.usage, { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
  t.equal(ollama.last.path, '/api/generate');
  t.strictSame(ollama.last.body, { model: 'qwen2.5-coder:7b', prompt: 'Hello ', stream: true, raw: true, options: { num_predict: 16, temperature: 0.1, stop: ['\n'] } });
});

t.test('completions on Ollama, streamed fill-in-the-middle: suffix sent, template on, usage chunk last', async (t) => {
  ollama.textScript = () => ({ ...defaultTextScript(), chunks: ['a + ', 'b'], finish: 'length', usage: { prompt: 11, completion: 2 } });
  const stream = await openai().completions.create({
    model: OLLAMA,
    prompt: 'def add(a, b):\n    return ',
    suffix: '\n\nprint(add(1, 2))',
    max_tokens: 2,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks: OpenAI.Completion[] = [];
  for await (const c of stream) chunks.push(c);
  t.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id for the whole stream');
  t.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), 'a + b');
  t.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'length');
  t.same(chunks.at(-1)?.choices, []);
  t.same(chunks.at(-1)?.usage, { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 });
  t.strictSame(ollama.last.body, { model: 'qwen2.5-coder:7b', prompt: 'def add(a, b):\n    return ', stream: true, suffix: '\n\nprint(add(1, 2))', options: { num_predict: 2 } });
});

t.test('completions on Ollama: what it cannot honour is a 400 naming the field', async (t) => {
  for (const [body, param] of [
    [{ n: 2 }, 'n'],
    [{ echo: true }, 'echo'],
    [{ logprobs: 2 }, 'logprobs'],
    [{ prompt: ['one', 'two'] }, 'prompt'],
  ] as const) {
    const err = await openai().completions.create({ model: OLLAMA, prompt: 'x', ...body } as never).catch((e: unknown) => e);
    t.ok(err instanceof OpenAI.BadRequestError, param);
    t.match((err as InstanceType<typeof OpenAI.BadRequestError>).error, { code: 'unsupported_parameter', param }, param);
  }
});

t.test('completions on an OpenAI-compatible server: passthrough, streamed and not, suffix forwarded', async (t) => {
  vllm.textScript = () => ({ ...defaultTextScript(), chunks: ['x', 'y'], usage: { prompt: 3, completion: 2 } });
  const whole = await openai().completions.create({ model: VLLM, prompt: 'ab', suffix: 'z', max_tokens: 5 });
  t.equal(whole.choices[0]?.text, 'xy');
  t.equal(vllm.last.path, '/v1/completions');
  t.strictSame(vllm.last.body, { model: 'Qwen/Qwen2.5-Coder-7B', prompt: 'ab', suffix: 'z', max_tokens: 5 });
  t.same(whole.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });

  const stream = await openai().completions.create({ model: VLLM, prompt: 'ab', stream: true });
  const chunks: OpenAI.Completion[] = [];
  for await (const c of stream) chunks.push(c);
  t.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), 'xy');
  t.ok(chunks.every((c) => c.choices.length === 1 && !('usage' in c)), 'the usage the gateway asked for is taken out again');
  t.match(vllm.last.body, { stream: true, stream_options: { include_usage: true } }, 'the server was asked for usage');
});

t.test('completions on llama.cpp: suffix goes to /infill (streamed and not), plain prompts to /v1/completions', async (t) => {
  llamacpp.textScript = () => ({ ...defaultTextScript(), chunks: ['return', ' a + b'], usage: { prompt: 14, completion: 2 } });
  const stream = await openai().completions.create({ model: LLAMACPP, prompt: 'def add(a, b):\n    ', suffix: '\n', stream: true, stream_options: { include_usage: true }, top_k: 20 } as never);
  const chunks: OpenAI.Completion[] = [];
  for await (const c of stream as unknown as AsyncIterable<OpenAI.Completion>) chunks.push(c);
  t.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), 'return a + b');
  t.same(chunks.at(-1)?.usage, { prompt_tokens: 14, completion_tokens: 2, total_tokens: 16 });
  t.equal(llamacpp.last.path, '/infill');
  t.strictSame(llamacpp.last.body, { input_prefix: 'def add(a, b):\n    ', input_suffix: '\n', prompt: '', n_predict: 16, stream: true, top_k: 20 });

  llamacpp.textScript = () => ({ ...defaultTextScript(), chunks: ['pass'], finish: 'length', usage: { prompt: 5, completion: 1 } });
  const whole = await openai().completions.create({ model: LLAMACPP, prompt: 'def f():\n    ', suffix: '\n', max_tokens: 1 });
  t.same(whole.choices, [{ text: 'pass', index: 0, logprobs: null, finish_reason: 'length' }]);
  t.equal(llamacpp.last.path, '/infill');

  await openai().completions.create({ model: LLAMACPP, prompt: 'Once upon' });
  t.equal(llamacpp.last.path, '/v1/completions', 'no suffix: the OpenAI-compatible endpoint');
});

t.test('an upstream error comes back in OpenAI shape with its status', async (t) => {
  ollama.textScript = () => ({ ...defaultTextScript(), fail: { status: 400, body: { error: 'registry.ollama.ai/library/llama3:latest does not support insert' } } });
  const err = await openai().completions.create({ model: OLLAMA, prompt: 'a', suffix: 'b' }).catch((e: unknown) => e);
  t.ok(err instanceof OpenAI.BadRequestError);
  t.match((err as InstanceType<typeof OpenAI.BadRequestError>).error, { code: 'invalid_request', message: /does not support insert/ });
  ollama.textScript = () => defaultTextScript();
});
