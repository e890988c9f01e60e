/**
 * POST /v1/messages/count_tokens (and `?beta=true`) through the real chain with the official Anthropic SDK: counted by
 * the model server where it can (Ollama: a zero-token generation's prompt_eval_count; vLLM: /tokenize), the documented
 * estimate otherwise; validated by the Messages policy; errors in Anthropic's shape.
 */
import t from 'tap';
import Anthropic from '@anthropic-ai/sdk';
import { MISSING_DEP, OLLAMA_DEP, OPENAI_DEP, defaultOllamaScript, startTranslateStack, type TranslateStack } from '../support/index.js';

let s: TranslateStack;
t.before(async () => {
  s = await startTranslateStack();
});
t.teardown(() => s?.close());

const client = () => new Anthropic({ apiKey: s.apiKey, baseURL: s.origin, maxRetries: 0 });
const body = (model: string) => ({
  model,
  system: [{ type: 'text' as const, text: 'Be brief.', cache_control: { type: 'ephemeral' as const } }],
  messages: [{ role: 'user' as const, content: 'How many tokens is this prompt? '.repeat(8) }],
  tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }],
});

t.test('Ollama counts: a generation of zero tokens, its prompt_eval_count', async (t) => {
  s.ollama.script = () => ({ ...defaultOllamaScript(), chunks: [], usage: { prompt_eval_count: 123, eval_count: 0 } });
  try {
    const got = await client().messages.countTokens(body(OLLAMA_DEP));
    t.same(got, { input_tokens: 123 });
    const sent = s.ollama.requests.at(-1)!.body;
    t.match(sent, { stream: false, options: { num_predict: 0 }, tools: [{ function: { name: 'get_weather' } }] }, 'nothing generated; tools counted');
    const beta = await client().beta.messages.countTokens({ ...body(OLLAMA_DEP), betas: ['token-counting-2024-11-01'] });
    t.same(beta, { input_tokens: 123 }, '?beta=true');
  } finally {
    s.ollama.script = () => defaultOllamaScript();
  }
});

t.test('an OpenAI-compatible server counts with /tokenize; without it, the estimate', async (t) => {
  const estimate = await client().messages.countTokens(body(OPENAI_DEP));
  t.ok(estimate.input_tokens > 20 && estimate.input_tokens < 200, `estimate ${estimate.input_tokens} (about 4 characters a token)`);
  s.openai.tokenizeCount = 77;
  try {
    t.same(await client().messages.countTokens(body(OPENAI_DEP)), { input_tokens: 77 });
    const sent = s.openai.requests.at(-1)!;
    t.equal(sent.path, '/tokenize');
    t.match(sent.body, { model: String, add_generation_prompt: true, messages: [{ role: 'system' }, { role: 'user' }], content: /How many tokens/ });
  } finally {
    s.openai.tokenizeCount = null;
  }
});

t.test('validated like Messages; errors in Anthropic shape; a model Ollama lacks is a 404', async (t) => {
  const bad = await client().messages.countTokens({ model: OLLAMA_DEP, messages: [] }).catch((e: unknown) => e);
  t.ok(bad instanceof Anthropic.BadRequestError, '400');
  t.match((bad as InstanceType<typeof Anthropic.BadRequestError>).error, { type: 'error', error: { type: 'invalid_request_error', message: /messages/ } });
  const missing = await client().messages.countTokens(body(MISSING_DEP)).catch((e: unknown) => e);
  t.ok(missing instanceof Anthropic.NotFoundError, '404');
  const r = await fetch(`${s.origin}/v1/messages/count_tokens?beta=true`, {
    method: 'POST',
    headers: { 'x-api-key': s.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ ...body(OLLAMA_DEP), context_management: { edits: [] } }),
  });
  t.equal(r.status, 200);
  t.match(r.headers.get('tokios-ignored'), /context_management/, 'advisory fields reported as on /messages');
});
