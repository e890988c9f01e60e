import t from 'tap';
import { SqliteStore } from '@tokios/shared/store';
import { chat, startReplicas, type Replicas } from '../support/index.js';

let r: Replicas;
t.before(async () => {
  // Three replicas, with the default sync (1 s): the publish-near-the-limit rule alone must hold the total.
  r = await startReplicas(3);
  // Each replica knows the two others (the dev stack's own ingress may make a fourth) before any request.
  await Promise.all(r.ingress.map((i) => i.proc.waitFor(/"replicas":[3-9][^\n]*joined quota sharing/, 15_000)));
  // every completion costs 10 tokens (6 in + 4 out)
  r.upstream.script = () => ({ chunks: ['a', 'b', 'c', 'd'], delayMs: 0, firstDelayMs: 0, finishReason: 'stop', usage: { prompt_tokens: 6, completion_tokens: 4 } });
});
t.teardown(() => r.close());

async function keyWith(limits: { requestsPerMinute?: number; tokensPerMinute?: number }): Promise<string> {
  const store = await SqliteStore.open(r.stack.seeded.dataDir, { pruneIntervalMs: 0 });
  const { secret } = await store.createApiKey({ tenantId: r.stack.seeded.tenantId, name: 'limited', limits });
  await store.close();
  return secret;
}

/** `total` requests, alternating replicas, `concurrency` at a time. */
async function fire(secret: string, total: number, concurrency: number) {
  const results: Awaited<ReturnType<typeof chat>>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const n = next++;
        results.push(await chat(r.ingress[n % r.ingress.length]!.url, secret, {}));
      }
    }),
  );
  return results;
}

t.test('requests/min is enforced across 3 replicas within 10 %', async (t) => {
  const secret = await keyWith({ requestsPerMinute: 60 });
  const t0 = Date.now();
  const results = await fire(secret, 150, 20);
  const ok = results.filter((x) => x.status === 200).length;
  const limited = results.filter((x) => x.status === 429);
  t.comment(`150 requests in ${Date.now() - t0} ms: ${ok} accepted, ${limited.length} limited`);
  // Near the limit a replica's requests wait for its peers' answers (sync rounds), so deltas late on a busy host no
  // longer let each replica admit the rest of a stale headroom: 60-61 here with two CPU hogs beside the stack
  // (before the rounds, 77-84 in about 1 run of 6 on a busy 2-core host).
  t.ok(ok >= 60 && ok <= 66, `accepted ${ok} within [60, 66]`);
  t.equal(ok + limited.length, 150, 'nothing else than 200 or 429');
  const e = limited[0]!;
  const retry = Number(e.headers.get('retry-after'));
  t.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `retry-after ${retry}`);
  t.equal(e.headers.get('x-ratelimit-limit-requests'), '60');
  t.equal(e.headers.get('x-ratelimit-remaining-requests'), '0');
  t.match(e.headers.get('x-ratelimit-reset-requests'), /^\d+s$/);
  t.same(Object.keys(e.body.error).sort(), ['code', 'message', 'param', 'type']);
  t.match(e.body, { error: { type: 'requests', code: 'rate_limit_exceeded', param: null } });
  t.match(e.body.error.message, /^Rate limit reached for model-a with API key key_[0-9a-f]+ on requests per min \(RPM\): Limit 60, Used \d+, Requested 1\. Please try again in \d+s\.$/);
});

t.test('tokens/min is enforced across 3 replicas within 10 %', async (t) => {
  const secret = await keyWith({ tokensPerMinute: 600 });
  const results = await fire(secret, 150, 2);
  const ok = results.filter((x) => x.status === 200);
  const tokens = ok.reduce((s, x) => s + (x.body.usage.total_tokens as number), 0);
  t.comment(`${ok.length} accepted for ${tokens} tokens`);
  t.ok(tokens >= 600 && tokens <= 660, `tokens ${tokens} within [600, 660]`);
  const e = results.find((x) => x.status === 429)!;
  t.match(e.body, { error: { type: 'tokens', code: 'rate_limit_exceeded' } });
  t.match(e.body.error.message, /on tokens per min \(TPM\): Limit 600/);
  t.equal(e.headers.get('x-ratelimit-limit-tokens'), '600');
});

t.test('keys without limits are never limited', async (t) => {
  const results = await fire(r.stack.seeded.apiKey, 100, 8);
  t.equal(results.filter((x) => x.status === 200).length, 100);
});
