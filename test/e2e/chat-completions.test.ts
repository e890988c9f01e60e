import t from 'tap';
import OpenAI from 'openai';
import { OpenAIUpstream, startConnectorProc, startDevStack, testFabricKey, type DevStack, type Proc } from '../support/index.js';

let stack: DevStack;
const upstreams: Record<string, OpenAIUpstream> = {};
const connectors: Proc[] = [];

t.before(async () => {
  stack = await startDevStack(['model-a', 'model-b', 'model-offline']);
  for (const name of ['model-a', 'model-b']) {
    const up = await OpenAIUpstream.start(`upstream-of-${name}`);
    upstreams[name] = up;
    connectors.push(
      await startConnectorProc({ tunnel_token: stack.seeded.deployments[name]!.token, upstream: up.url, gateway: stack.gateway, model: `upstream-of-${name}` }),
    );
  }
});

t.teardown(async () => {
  await Promise.all(connectors.map((c) => c.kill()));
  for (const u of Object.values(upstreams)) await u.close();
  await stack.close();
});

const client = (overrides: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) =>
  new OpenAI({ apiKey: stack.seeded.apiKey, baseURL: stack.baseURL, maxRetries: 0, ...overrides });

t.test('non-streamed completion arrives whole', async (t) => {
  upstreams['model-a']!.script = () => ({ chunks: ['The', ' answer', ' is', ' 42.'], delayMs: 0, firstDelayMs: 0, finishReason: 'stop', usage: { prompt_tokens: 9, completion_tokens: 4 } });
  const res = await client().chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'question' }] });
  t.equal(res.choices[0]?.message.content, 'The answer is 42.');
  t.equal(res.choices[0]?.finish_reason, 'stop');
  t.same(res.usage, { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  t.equal(res.model, 'model-a', 'the answer names the deployment, not the upstream model');
  const seen = upstreams['model-a']!.requests.at(-1)!;
  t.equal(seen.body.model, 'upstream-of-model-a', 'upstream gets the model name from tokios.json');
  t.same(seen.body.messages, [{ role: 'user', content: 'question' }], 'body forwarded intact');
});

t.test('streamed chunks arrive in order and before the upstream has finished', async (t) => {
  const up = upstreams['model-a']!;
  const pieces = Array.from({ length: 20 }, (_, i) => `t${i} `);
  up.script = () => ({ chunks: pieces, delayMs: 40, firstDelayMs: 0, finishReason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 20 } });
  const finished = up.next('finished');
  let upstreamDone = false;
  void finished.then(() => (upstreamDone = true));
  const stream = await client().chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'count' }] });
  let text = '';
  let firstContentBeforeUpstreamDone: boolean | undefined;
  let finish: string | null | undefined;
  const models = new Set<string>();
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (c?.delta.content) {
      firstContentBeforeUpstreamDone ??= !upstreamDone;
      text += c.delta.content;
    }
    if (c?.finish_reason) finish = c.finish_reason;
    models.add(chunk.model);
  }
  t.same([...models], ['model-a'], 'every chunk names the deployment, not the upstream model');
  t.equal(text, pieces.join(''), 'all chunks, in order');
  t.equal(finish, 'stop');
  t.equal(firstContentBeforeUpstreamDone, true, 'first chunk reached the client while the upstream was still generating');
});

t.test('routing by model: each deployment reaches its own upstream', async (t) => {
  for (const name of ['model-a', 'model-b']) {
    upstreams[name]!.script = () => ({ chunks: [`from ${name}`], delayMs: 0, firstDelayMs: 0, finishReason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 } });
  }
  const a = await client().chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
  const b = await client().chat.completions.create({ model: 'model-b', messages: [{ role: 'user', content: 'x' }] });
  t.equal(a.choices[0]?.message.content, 'from model-a');
  t.equal(b.choices[0]?.message.content, 'from model-b');
});

t.test('OPENAI_BASE_URL without /v1 works too', async (t) => {
  const res = await client({ baseURL: stack.baseURL.replace(/\/v1$/, '') }).chat.completions.create({ model: 'model-b', messages: [{ role: 'user', content: 'x' }] });
  t.equal(res.choices[0]?.message.content, 'from model-b');
});

t.test('errors come back in OpenAI shape and the process keeps serving', async (t) => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.seeded.apiKey}`, 'content-type': 'application/json', ...headers },
      body,
    });

  let r = await post(JSON.stringify({ model: 'no-such-model', messages: [] }));
  t.equal(r.status, 404);
  t.same(await r.json(), {
    error: { message: 'The model `no-such-model` does not exist or you do not have access to it.', type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
  });

  r = await post(JSON.stringify({ model: 'model-offline', messages: [] }));
  t.equal(r.status, 503);
  t.same(await r.json(), {
    error: { message: 'No connector is online for deployment "model-offline".', type: 'server_error', param: null, code: 'no_tunnel' },
  });

  r = await post(JSON.stringify({ model: 'model-a', messages: [] }), { authorization: 'Bearer sk-tokios-wrong' });
  t.equal(r.status, 401);
  t.match(await r.json(), { error: { code: 'invalid_api_key', type: 'invalid_request_error' } });

  r = await fetch(`${stack.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(r.status, 401);
  t.match(await r.json(), { error: { code: 'missing_api_key' } });

  r = await post('{"model": "model-a", "messages": [');
  t.equal(r.status, 400);
  t.same(await r.json(), { error: { message: 'The request body is not valid JSON.', type: 'invalid_request_error', param: null, code: 'invalid_json' } });

  r = await post(JSON.stringify({ messages: [] }));
  t.equal(r.status, 400);
  t.match(await r.json(), { error: { code: 'invalid_request', param: 'model' } });

  r = await post(JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }] }));
  t.equal(r.status, 413);
  t.same(await r.json(), { error: { message: 'The request body is over the size limit.', type: 'invalid_request_error', param: null, code: 'body_too_large' } });

  r = await fetch(`${stack.baseURL}/nothing-here`, { method: 'POST' });
  t.equal(r.status, 404);
  t.match(await r.json(), { error: { code: 'route_not_found' } });

  const ok = await client().chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'still there?' }] });
  t.equal(ok.choices[0]?.finish_reason, 'stop', 'still serving after bad input');
});

t.test('a JSON body is read whatever content type names it, and the size limit holds for each', async (t) => {
  upstreams['model-a']!.script = () => ({ chunks: ['any type'], delayMs: 0, firstDelayMs: 0, finishReason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 } });
  const post = (body: string, contentType: string | undefined) =>
    fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.seeded.apiKey}`, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
      // Bytes, not a string: fetch would name a string body text/plain itself.
      body: Buffer.from(body),
    });
  const small = JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
  const large = JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }] });
  // Twice each: Fastify finds a parser by name once, then from its cache.
  for (const type of ['application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'text/plain', undefined]) {
    const r = await post(small, type);
    t.equal(r.status, 200, `${type ?? 'no content type'}: answered`);
    t.equal(((await r.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content, 'any type');
  }
  for (const type of ['application/json', 'application/json; charset=utf-8', 'text/plain']) {
    const r = await post(large, type);
    t.equal(r.status, 413, `${type}: over the limit`);
    t.match(await r.json(), { error: { code: 'body_too_large' } });
  }
});

t.test('a revoked key is rejected', async (t) => {
  const { SqliteStore } = await import('@tokios/shared/store');
  const store = await SqliteStore.open(stack.seeded.dataDir, { pruneIntervalMs: 0 });
  const { record, secret } = await store.createApiKey({ tenantId: stack.seeded.tenantId, name: 'short-lived' });
  const c = client({ apiKey: secret });
  const ok = await c.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
  t.ok(ok.id, 'works before revocation');
  await store.revokeApiKey(record.id);
  await store.close();
  // The ingress caches keys; revocation reaches it as a control event (published by the control service / tokios admin).
  const { connect } = await import('nats');
  const { publishControlEvent } = await import('@tokios/shared/control');
  const { hashSecret } = await import('@tokios/shared/store');
  const nc = await connect({ servers: stack.nats.url });
  publishControlEvent(nc, testFabricKey(), 'key_revoked', { keyId: record.id, hash: hashSecret(secret) });
  await nc.flush();
  await nc.close();
  await new Promise((r) => setTimeout(r, 100));
  const status = await c.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }).then(
    () => 200,
    (err: { status?: number }) => err.status ?? -1,
  );
  t.equal(status, 401);
});

t.test('GET /v1/models lists the deployments with whether a tunnel is live', async (t) => {
  const ids: Record<string, boolean> = {};
  for await (const m of client().models.list()) ids[m.id] = (m as unknown as { online: boolean }).online;
  t.same(ids, { 'model-a': true, 'model-b': true, 'model-offline': false });
  const bare = await fetch(`${stack.baseURL.replace(/\/v1$/, '')}/models`, { headers: { authorization: `Bearer ${stack.seeded.apiKey}` } });
  t.equal(bare.status, 200, 'also without /v1');
  const anon = await fetch(`${stack.baseURL}/models`);
  t.equal(anon.status, 401);
  t.match(await anon.json(), { error: { code: 'missing_api_key' } });
});
