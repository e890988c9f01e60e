// Issue 9 item 4: one request id through ingress, terminator and connector logs (the caller's x-request-id when valid),
// one info line per request per tier with the outcome of the final result (an upstream 500 or a crash mid-stream is
// an error, in the logs and in usage), no prompt or completion text anywhere, connector connection errors at warn
// with their cause and rate-limited, and a shutdown line.
import t from 'tap';
import { freePort } from '../support/ports.js';
import { SqliteStore } from '@tokios/shared/store';
import { TestFabric, logLines, quickScript, slowScript, until, type Proc } from '../support/index.js';

const PROMPT = 'PROMPT-TEXT-THAT-MUST-NOT-BE-LOGGED';
const ANSWER = 'ANSWER-TEXT-THAT-MUST-NOT-BE-LOGGED';

const doneLines = (p: Proc, reqId: string): Record<string, unknown>[] => logLines(p).filter((l) => l.msg === 'request done' && l.reqId === reqId);

t.test('request ids, outcomes and log hygiene across the three tiers', async (t) => {
  const f = await TestFabric.start(t);
  const [ingress, term, up] = await Promise.all([f.ingress(), f.terminator(), f.upstream()]);
  const connector = await f.connector('model-a', up, term.url);
  const tiers = { ingress: ingress.proc, terminator: term.proc, connector };
  const post = (headers: Record<string, string>, body: Record<string, unknown>): Promise<Response> =>
    fetch(`${ingress.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.seeded.apiKey}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: PROMPT }], ...body }),
    });

  await t.test('a valid x-request-id is returned and logged once at info by every tier', async (t) => {
    up.script = () => quickScript(ANSWER);
    const id = 'trace-7f3a.b2:c9@edge';
    const r = await post({ 'x-request-id': id }, {});
    t.equal(r.status, 200);
    t.equal(r.headers.get('x-request-id'), id, 'echoed');
    t.match(await r.text(), ANSWER);
    for (const [name, p] of Object.entries(tiers)) {
      await until(() => doneLines(p, id).length > 0, 10_000, `${name}'s request line`);
      const lines = doneLines(p, id);
      t.equal(lines.length, 1, `${name}: one "request done" line`);
      t.equal(lines[0]!.level, 30, `${name}: at info`);
    }
    t.equal(doneLines(ingress.proc, id)[0]!.outcome, 'ok');
    t.equal(doneLines(term.proc, id)[0]!.result, 'ok');
    t.equal(doneLines(connector, id)[0]!.outcome, 'ok');
  });

  await t.test('every answer carries the request id: refusals, not-found, ops routes and streams', async (t) => {
    up.script = () => quickScript('x');
    const answers: [string, Promise<Response>][] = [
      ['401 without a key', fetch(`${ingress.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'ids-401' }, body: '{}' })],
      ['400 bad JSON', fetch(`${ingress.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${f.seeded.apiKey}`, 'content-type': 'application/json', 'x-request-id': 'ids-400' }, body: '{' })],
      ['404 no route', fetch(`${ingress.url}/v1/no-such-route`, { headers: { 'x-request-id': 'ids-404' } })],
      ['404 unknown model', post({ 'x-request-id': 'ids-model' }, { model: 'no-such-model' })],
      ['/healthz', fetch(`${ingress.url}/healthz`, { headers: { 'x-request-id': 'ids-health' } })],
      ['/v1/models', fetch(`${ingress.url}/v1/models`, { headers: { authorization: `Bearer ${f.seeded.apiKey}`, 'x-request-id': 'ids-models' } })],
      ['a stream', post({ 'x-request-id': 'ids-stream' }, { stream: true })],
    ];
    const expected: Record<string, number> = { '401 without a key': 401, '400 bad JSON': 400, '404 no route': 404, '404 unknown model': 404, '/healthz': 200, '/v1/models': 200, 'a stream': 200 };
    for (const [what, pending] of answers) {
      const r = await pending;
      await r.text();
      t.equal(r.status, expected[what], `${what}: status`);
      t.match(r.headers.get('x-request-id') ?? '', /^ids-/, `${what}: carries the caller's request id`);
    }
    const r = await fetch(`${ingress.url}/v1/no-such-route`);
    await r.text();
    t.match(r.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{12}[0-9a-z]+$/, 'a 404 without one gets a made-up id');
  });

  await t.test('an invalid x-request-id is replaced, and appears nowhere', async (t) => {
    up.script = () => quickScript('x');
    for (const bad of ['has spaces in it', 'x'.repeat(129), '"quoted"', '-starts-with-a-dash']) {
      const r = await post({ 'x-request-id': bad }, {});
      const given = r.headers.get('x-request-id') ?? '';
      t.match(given, /^req_[0-9a-f]{12}[0-9a-z]+$/, `replaced: ${JSON.stringify(bad.slice(0, 20))} -> ${given}`);
      await r.text();
      await until(() => doneLines(connector, given).length === 1, 10_000, 'the connector line of the replaced id');
      for (const p of Object.values(tiers)) t.notOk(p.output.includes(bad), 'the refused value is not logged');
    }
  });

  await t.test('two callers sending the same x-request-id at once each get their own answer', async (t) => {
    up.script = (body) => quickScript(`answer for ${String((body.messages as { content: string }[])[0]?.content)}`);
    const ask = (who: string) =>
      fetch(`${ingress.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.seeded.apiKey}`, 'content-type': 'application/json', 'x-request-id': 'same-id' },
        body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: who }] }),
      }).then((r) => r.json() as Promise<{ choices: { message: { content: string } }[] }>);
    const [a, b] = await Promise.all([ask('alice'), ask('bob')]);
    t.equal(a.choices[0]?.message.content, 'answer for alice');
    t.equal(b.choices[0]?.message.content, 'answer for bob');
  });

  await t.test('upstream 500 and a model crash mid-stream: errors in every tier\'s line and in usage', async (t) => {
    up.script = () => ({ ...quickScript('x'), fail: { status: 500, body: { error: { message: 'model exploded', type: 'server_error' } } } });
    const r = await post({ 'x-request-id': 'upstream-500' }, {});
    t.equal(r.status, 502);
    await r.text();
    up.script = () => ({ ...slowScript(10, 5, ANSWER), crashAfterChunks: 3 });
    const s = await post({ 'x-request-id': 'crash-mid-stream' }, { stream: true });
    t.equal(s.status, 200, 'the stream had started');
    t.match(await s.text(), /upstream_error/, 'the caller got the error event');
    for (const id of ['upstream-500', 'crash-mid-stream']) {
      for (const [name, p] of Object.entries(tiers)) await until(() => doneLines(p, id).length === 1, 10_000, `${name}'s line for ${id}`);
      const ing = doneLines(ingress.proc, id)[0]!;
      t.equal(ing.status, 502, `${id}: ingress logs 502`);
      t.equal(ing.outcome, 'upstream_error', `${id}: ingress outcome upstream_error, not ok`);
      t.equal(doneLines(term.proc, id)[0]!.result, 'error', `${id}: terminator result error`);
      t.equal(doneLines(connector, id)[0]!.outcome, 'upstream_error', `${id}: connector outcome upstream_error`);
    }
    t.equal(doneLines(ingress.proc, 'crash-mid-stream')[0]!.httpStatus, 200, 'the line also says the 200 that went out');
    // Usage: both are server errors (written off the hot path: wait for the flush).
    const store = await SqliteStore.open(f.seeded.dataDir, { pruneIntervalMs: 0 });
    t.teardown(() => store.close());
    const now = Date.now();
    const q = { tenantId: f.seeded.tenantId, from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 3_600_000).toISOString(), bucketMs: 3_600_000 };
    await until(async () => (await store.queryUsage(q)).totals.serverErrors >= 2, 10_000, 'usage to record both as 5xx');
    t.equal((await store.queryUsage(q)).totals.serverErrors, 2, 'usage counts 2 server errors');
  });

  await t.test('no prompt or completion text in any log line', async (t) => {
    for (const [name, p] of Object.entries(tiers)) {
      t.notOk(p.output.includes(PROMPT), `${name}: no prompt text`);
      t.notOk(p.output.includes(ANSWER), `${name}: no completion text`);
    }
  });

  await t.test('a shutdown line on SIGTERM', async (t) => {
    term.proc.signal('SIGTERM');
    await term.proc.waitFor(/"msg":"stopped"/, 60_000);
    const lines = logLines(term.proc);
    t.ok(lines.some((l) => l.msg === 'shutting down' && l.reason === 'SIGTERM'), '"shutting down" with the signal');
  });
});

t.test('connector: an unreachable gateway is a warning with its cause, rate-limited', async (t) => {
  const f = await TestFabric.start(t);
  const up = await f.upstream();
  const dead = await freePort();
  // debug shows every failed attempt; warnings must not.
  const c = await f.connector('model-a', up, `ws://127.0.0.1:${dead}/v1/tunnel`, { tunnels: 1 }, { LOG_LEVEL: 'debug' }, false);
  await until(() => logLines(c).filter((l) => l.msg === 'tunnel socket error').length >= 4, 30_000, 'four failed attempts');
  const warns = logLines(c).filter((l) => l.msg === 'cannot open the tunnel; retrying');
  t.equal(warns.length, 1, `one warning for ${logLines(c).filter((l) => l.msg === 'tunnel socket error').length} failed attempts`);
  t.equal(warns[0]!.level, 40, 'at warn');
  t.match(String(warns[0]!.cause), /ECONNREFUSED/, `with the cause: ${String(warns[0]!.cause)}`);
});
