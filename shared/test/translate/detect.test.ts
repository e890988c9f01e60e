import t from 'tap';
import { chooseUpstreamModel, detectUpstreamKind } from '../../src/translate/index.js';

const ollamaTags = { status: 200, body: JSON.stringify({ models: [{ name: 'llama3.1:8b', model: 'llama3.1:8b', size: 1 }, { name: 'qwen2.5:7b' }, { name: 'llama3.1:8b' }] }) };
const openaiModels = { status: 200, body: JSON.stringify({ object: 'list', data: [{ id: 'Qwen/Qwen2.5-7B-Instruct', object: 'model' }] }) };

t.test('Ollama: /api/version answers -> ollama, models from /api/tags (deduplicated)', async (t) => {
  t.strictSame(detectUpstreamKind({ ollamaVersion: { status: 200, body: '{"version":"0.6.2"}' }, ollamaTags, openaiModels: { status: 200, body: '{"object":"list","data":[{"id":"llama3.1:8b"}]}' } }), {
    kind: 'ollama',
    models: ['llama3.1:8b', 'qwen2.5:7b'],
    version: '0.6.2',
  });
});

t.test('OpenAI-compatible: /api/version 404, /v1/models answers', async (t) => {
  t.strictSame(detectUpstreamKind({ ollamaVersion: { status: 404, body: '{"detail":"Not Found"}' }, ollamaTags: { status: 404, body: '' }, openaiModels }), {
    kind: 'openai',
    models: ['Qwen/Qwen2.5-7B-Instruct'],
  });
  // An HTML page with 200 (SPA behind a proxy) is not an Ollama version answer
  t.strictSame(detectUpstreamKind({ ollamaVersion: { status: 200, body: '<html></html>' }, openaiModels }), { kind: 'openai', models: ['Qwen/Qwen2.5-7B-Instruct'] });
});

t.test('old Ollama with only /api/tags; nothing found -> reason', async (t) => {
  t.strictSame(detectUpstreamKind({ ollamaVersion: { status: 0, body: '' }, ollamaTags, openaiModels: { status: 404, body: '' } }), { kind: 'ollama', models: ['llama3.1:8b', 'qwen2.5:7b'] });
  t.strictSame(detectUpstreamKind({ ollamaVersion: { status: 0, body: '' }, ollamaTags: { status: 500, body: 'x' }, openaiModels: { status: 200, body: 'nope' } }), {
    kind: null,
    reason: 'No Ollama or OpenAI-compatible API found (/api/version: no answer; /api/tags: HTTP 500; /v1/models: unexpected body).',
  });
  t.strictSame(detectUpstreamKind({}), { kind: null, reason: 'No Ollama or OpenAI-compatible API found (/api/version not probed; /api/tags not probed; /v1/models not probed).' });
});

t.test('model lists are capped at 256 names of at most 256 characters', async (t) => {
  const data = Array.from({ length: 300 }, (_, i) => ({ id: `m${i}` }));
  data.unshift({ id: 'x'.repeat(257) });
  const r = detectUpstreamKind({ openaiModels: { status: 200, body: JSON.stringify({ data }) } });
  t.equal(r.kind, 'openai');
  if (r.kind === 'openai') {
    t.equal(r.models.length, 256);
    t.equal(r.models[0], 'm0');
  }
});

t.test('chooseUpstreamModel', async (t) => {
  t.equal(chooseUpstreamModel('llama3.1:70b', 'team', ['a']), 'llama3.1:70b');
  t.equal(chooseUpstreamModel(undefined, 'qwen2.5:7b', ['llama3.1:8b', 'qwen2.5:7b']), 'qwen2.5:7b');
  t.equal(chooseUpstreamModel(null, 'qwen2.5', ['llama3.1:8b', 'qwen2.5:latest']), 'qwen2.5');
  t.equal(chooseUpstreamModel('', 'team', ['Qwen/Qwen2.5-7B-Instruct']), 'Qwen/Qwen2.5-7B-Instruct');
  t.equal(chooseUpstreamModel(undefined, 'team', ['a', 'b']), 'team');
  t.equal(chooseUpstreamModel(undefined, 'team', []), 'team');
});
