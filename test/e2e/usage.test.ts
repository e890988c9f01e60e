import t from 'tap';
import OpenAI from 'openai';
import { SqliteStore } from '@tokios/shared/store';
import { OpenAIUpstream, holdWriteLock, startConnectorProc, startDevStack, usageRows, type DevStack, type Proc, type Script } from '../support/index.js';

let stack: DevStack;
let upstream: OpenAIUpstream;
let connector: Proc;

t.before(async () => {
  stack = await startDevStack(['model-a']);
  upstream = await OpenAIUpstream.start('upstream-model');
  connector = await startConnectorProc({ tunnel_token: stack.seeded.deployments['model-a']!.token, upstream: upstream.url, gateway: stack.gateway, model: 'upstream-model', max_concurrency: 32 });
});
t.teardown(async () => {
  await connector.kill();
  await upstream.close();
  await stack.close();
});

const script = (prompt: number, completion: number, chunks = ['Hel', 'lo']): Script => ({ chunks, delayMs: 0, firstDelayMs: 0, finishReason: 'stop', usage: { prompt_tokens: prompt, completion_tokens: completion } });

async function newKey(): Promise<{ secret: string; keyId: string }> {
  const store = await SqliteStore.open(stack.seeded.dataDir, { pruneIntervalMs: 0 });
  const { record, secret } = await store.createApiKey({ tenantId: stack.seeded.tenantId, name: 'usage' });
  await store.close();
  return { secret, keyId: record.id };
}

async function totals(keyId: string) {
  const store = await SqliteStore.open(stack.seeded.dataDir, { pruneIntervalMs: 0 });
  const now = Date.now();
  const report = await store.queryUsage({ tenantId: stack.seeded.tenantId, keyId, from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 60_000).toISOString(), bucketMs: 3_600_000 });
  await store.close();
  return report.totals;
}

async function waitTotals(keyId: string, requests: number, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tot = await totals(keyId);
    if (tot.requests >= requests || Date.now() > deadline) return tot;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The raw usage records of a key, as stored. */
function records(keyId: string) {
  return usageRows(stack.seeded.dataDir, keyId).map((r) => ({
    stream: r.stream === 1, ttftMs: r.ttft_ms as number | null, durationMs: r.duration_ms as number, connectorId: String(r.connector_id),
    deploymentId: String(r.deployment_id), protocol: String(r.protocol), status: r.status as number, raw: r,
  }));
}

t.test('usage totals match the requests made through the real chain', async (t) => {
  const { secret, keyId } = await newKey();
  const client = new OpenAI({ apiKey: secret, baseURL: stack.baseURL, maxRetries: 0 });
  const N = 5;
  // non-streamed: usage from the JSON answer
  upstream.script = () => script(9, 4);
  for (let i = 0; i < N; i++) {
    const res = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'secret prompt text' }] });
    t.same(res.usage, { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  }
  // streamed, caller did not ask for usage: the gateway asks the upstream and strips it from the caller's stream
  upstream.script = () => script(7, 3);
  for (let i = 0; i < N; i++) {
    const r = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const text = await r.text();
    t.notMatch(text, /usage/, 'no usage in a stream that did not ask for it');
    t.match(text, /"content":"Hel".*"content":"lo".*"finish_reason":"stop".*data: \[DONE\]\n\n$/s);
    t.equal(upstream.requests.at(-1)!.body.stream_options && (upstream.requests.at(-1)!.body.stream_options as { include_usage: boolean }).include_usage, true, 'upstream was asked for usage');
  }
  // streamed, caller asked: relayed as is, usage chunk included
  upstream.script = () => script(5, 2);
  for (let i = 0; i < N; i++) {
    const stream = await client.chat.completions.create({ model: 'model-a', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x' }] });
    let usage: unknown;
    let text = '';
    for await (const c of stream) {
      if (c.usage) usage = c.usage;
      text += c.choices[0]?.delta.content ?? '';
    }
    t.equal(text, 'Hello');
    t.same(usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
  }
  // one failure: counted as a request and an error, no tokens
  upstream.script = () => ({ ...script(0, 0), fail: { status: 500, body: { error: { message: 'boom', type: 'server_error' } } } });
  const failed = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }).then(() => 200, (e: { status?: number }) => e.status);
  t.equal(failed, 502, 'a model server 500 is a 502 from the gateway (upstream_error)');

  const tot = await waitTotals(keyId, 3 * N + 1);
  t.match(tot, { requests: 3 * N + 1, inputTokens: N * (9 + 7 + 5), outputTokens: N * (4 + 3 + 2), errors: 1, serverErrors: 1, clientErrors: 0, ttftCount: 2 * N });

  const recs = records(keyId);
  t.equal(recs.length, 3 * N + 1);
  const raw = JSON.stringify(recs);
  t.notMatch(raw, /secret prompt text|Hello|Hel/, 'no prompt or completion text in usage records');
  const streamed = recs.filter((r) => r.stream);
  t.equal(streamed.length, 2 * N);
  t.ok(streamed.every((r) => r.ttftMs !== null && r.ttftMs >= 0 && r.ttftMs <= r.durationMs), 'streamed: time to first token');
  t.ok(recs.filter((r) => !r.stream).every((r) => r.ttftMs === null), 'not streamed: no ttft');
  t.ok(recs.every((r) => r.connectorId.startsWith('con_') && r.deploymentId === stack.seeded.deployments['model-a']!.id && r.protocol === 'openai.chat'));
});

t.test('a stuck usage store never slows requests; records are written once it is back', async (t) => {
  const { secret, keyId } = await newKey();
  const client = new OpenAI({ apiKey: secret, baseURL: stack.baseURL, maxRetries: 0 });
  upstream.script = () => script(3, 2);
  const timed = async () => {
    const t0 = performance.now();
    await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
    return performance.now() - t0;
  };
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  await timed();
  const before: number[] = [];
  for (let i = 0; i < 10; i++) before.push(await timed());

  // A real fault: another process holds the database's write lock, so every recordUsage waits (up to 5 s) and fails.
  const lock = holdWriteLock(stack.seeded.dataDir);
  const written = (await totals(keyId)).requests;
  await new Promise((r) => setTimeout(r, 1_200)); // the next flush is now stuck on the lock
  const during: number[] = [];
  for (let i = 0; i < 10; i++) during.push(await timed());
  await new Promise((r) => setTimeout(r, 1_200));
  const stuck = (await totals(keyId)).requests;
  lock.release();

  t.comment(`median latency ${median(before).toFixed(1)} ms before, ${median(during).toFixed(1)} ms while the usage store is stuck`);
  t.ok(median(during) < median(before) + 20, 'requests are not slowed by the stuck store');
  t.ok(Math.max(...during) < 500, 'no request waited for the store');
  t.equal(stuck, written, 'nothing was written while the lock was held');
  const tot = await waitTotals(keyId, 21, 15_000);
  t.match(tot, { requests: 21, inputTokens: 21 * 3, outputTokens: 21 * 2, errors: 0 }, 'every record written after the store came back');
});
