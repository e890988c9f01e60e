// Issue 9 item 1: /metrics on every tier (ingress, terminator, connector on its optional local port), scraped
// before and after real requests through real processes; values change as the traffic says, labels stay bounded.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { SqliteStore } from '@tokios/shared/store';
import { ROOT, SERVICE_START_MS, TestFabric, metric, quickScript, scrape, slowScript, startConnectorProc, until, type Proc, type Sample } from '../support/index.js';

const METRICS_TOKEN = 'metrics-token-0123456789';

/** The connector's metrics port, from its `metrics listening` line (it is started with TOKIOS_METRICS_PORT=0). */
const metricsPort = async (p: Proc): Promise<number> => Number((await p.waitFor(/"port":(\d+)[^\n]*"msg":"metrics listening"/, SERVICE_START_MS))[1]);

t.test('metrics of ingress, terminator and connector follow the traffic', async (t) => {
  const f = await TestFabric.start(t);
  const dep = f.seeded.deployments['model-a']!.id;
  const [ingress, term, up] = await Promise.all([f.ingress(), f.terminator({ TOKIOS_METRICS_TOKEN: METRICS_TOKEN }), f.upstream()]);
  // Port 0: the connector picks a free one and logs it (a port picked here first was once taken before it bound).
  const connector = await f.connector('model-a', up, term.url, {}, { TOKIOS_METRICS_PORT: '0' });
  const connectorPort = await metricsPort(connector);
  const termBase = `http://127.0.0.1:${term.port}`;
  const connBase = `http://127.0.0.1:${connectorPort}`;
  const all = async (): Promise<{ i: Sample[]; tr: Sample[]; c: Sample[] }> => {
    const [i, tr, c] = await Promise.all([scrape(ingress.url), scrape(termBase, METRICS_TOKEN), scrape(connBase)]);
    return { i: i.samples, tr: tr.samples, c: c.samples };
  };

  await t.test('the terminator metrics need the token when TOKIOS_METRICS_TOKEN is set', async (t) => {
    t.equal((await fetch(`${termBase}/metrics`)).status, 401, 'no token: 401');
    t.equal((await fetch(`${termBase}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401, 'wrong token: 401');
    t.equal((await fetch(`${termBase}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 200, 'token: 200');
  });

  // Both tunnels of the connector are up on the one terminator.
  await until(async () => metric((await scrape(termBase, METRICS_TOKEN)).samples, 'tokios_terminator_tunnels', { state: 'routable' }) === 2, 10_000, 'two routable tunnels');
  const before = await all();
  t.equal(metric(before.i, 'tokios_build_info', { service: 'ingress' }), 1, 'ingress: tokios_build_info');
  t.equal(metric(before.tr, 'tokios_build_info', { service: 'terminator', id: term.id }), 1, 'terminator: tokios_build_info with its id');
  t.equal(metric(before.c, 'tokios_build_info', { service: 'connector' }), 1, 'connector: tokios_build_info');
  t.equal(metric(before.i, 'tokios_nats_connected', { connection: 'ingress' }), 1, 'ingress: NATS connected');
  t.equal(metric(before.tr, 'tokios_nats_connected', { connection: 'terminator' }), 1, 'terminator: NATS connected');
  t.equal(metric(before.tr, 'tokios_terminator_deployments'), 1, 'terminator serves one deployment');
  t.equal(metric(before.c, 'tokios_connector_tunnels', { state: 'up' }), 2, 'connector: 2 tunnels up');
  t.equal(metric(before.c, 'tokios_connector_upstream_healthy'), 1, 'connector: upstream healthy');
  t.ok(before.i.some((s) => s.name === 'process_cpu_user_seconds_total'), 'default process metrics');
  t.equal(metric(before.i, 'tokios_ingress_in_flight'), 0, 'nothing in flight');
  t.ok(before.i.some((s) => s.name === 'tokios_ingress_usage_buffered'), 'usage backlog gauge');

  const client = f.client(ingress);
  up.script = () => quickScript('hi');
  await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
  up.script = () => slowScript(5, 5);
  const s = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'y' }] });
  for await (const _ of s) void _;

  // A request in flight shows in the in-flight gauges of all three tiers.
  up.script = () => slowScript(40, 50);
  const reached = up.next('request');
  const long = client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'long' }] });
  await reached;
  const during = await all();
  t.equal(metric(during.i, 'tokios_ingress_in_flight'), 1, 'ingress: 1 in flight');
  t.equal(metric(during.tr, 'tokios_terminator_streams'), 1, 'terminator: 1 stream');
  t.equal(metric(during.c, 'tokios_connector_in_flight'), 1, 'connector: 1 in flight');
  for await (const _ of await long) void _;

  const after = await all();
  const ok = { protocol: 'openai.chat', deployment: dep, status: '200' };
  t.equal(metric(after.i, 'tokios_ingress_requests_total', ok) - metric(before.i, 'tokios_ingress_requests_total', ok), 3, 'ingress: 3 requests 200 for the deployment');
  t.equal(metric(after.i, 'tokios_ingress_time_to_first_token_seconds_count', { deployment: dep }), 2, 'ingress: TTFT observed for the 2 streams');
  t.equal(metric(after.i, 'tokios_ingress_request_duration_seconds_count', { deployment: dep, stream: 'false' }), 1, 'ingress: duration of the whole answer');
  t.equal(metric(after.i, 'tokios_ingress_queue_wait_seconds_count', { deployment: dep }), 3, 'ingress: queue wait per request');
  t.equal(metric(after.i, 'tokios_ingress_in_flight'), 0, 'ingress: nothing in flight after');
  t.equal(metric(after.tr, 'tokios_terminator_streams_total', { result: 'ok' }), 3, 'terminator: 3 streams ok');
  t.equal(metric(after.c, 'tokios_connector_requests_total', { outcome: 'ok' }), 3, 'connector: 3 ok');
  t.equal(metric(after.c, 'tokios_connector_upstream_first_byte_seconds_count'), 3, 'connector: first byte timed');

  await t.test('upstream 500 and a crash mid-stream count as errors on every tier', async (t) => {
    up.script = () => ({ ...quickScript('x'), fail: { status: 500, body: { error: { message: 'boom', type: 'server_error' } } } });
    const status = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }).then(() => 200, (e: { status?: number }) => e.status);
    t.equal(status, 502, 'caller gets 502');
    up.script = () => ({ ...slowScript(10, 5), crashAfterChunks: 3 });
    const crashed = await (async () => {
      const st = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'y' }] });
      for await (const _ of st) void _;
    })().then(() => 'completed', (e: Error) => e.message);
    t.not(crashed, 'completed', `the stream ends with an error event: ${crashed}`);
    const m = await all();
    t.equal(metric(m.i, 'tokios_ingress_requests_total', { deployment: dep, status: '502' }), 2, 'ingress: both counted 502 (the stream had sent 200)');
    t.equal(metric(m.i, 'tokios_ingress_errors_total', { code: 'upstream_error' }), 2, 'ingress: 2 upstream_error');
    t.equal(metric(m.tr, 'tokios_terminator_streams_total', { result: 'error' }), 2, 'terminator: 2 streams ended in error');
    t.equal(metric(m.c, 'tokios_connector_upstream_errors_total', { kind: 'http_5xx' }), 1, 'connector: one upstream 5xx');
    t.equal(metric(m.c, 'tokios_connector_upstream_errors_total', { kind: 'stream' }), 1, 'connector: one broken stream');
    t.equal(metric(m.c, 'tokios_connector_requests_total', { outcome: 'upstream_error' }), 2, 'connector: 2 upstream_error');
  });

  await t.test('refusals: bad key (no deployment yet) and a rate limit', async (t) => {
    const store = await SqliteStore.open(f.seeded.dataDir, { pruneIntervalMs: 0 });
    const limited = await store.createApiKey({ tenantId: f.seeded.tenantId, name: 'limited', limits: { requestsPerMinute: 1 } });
    await store.close();
    const bad = await f.client(ingress, { apiKey: 'sk-tokios-not-a-key' }).chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }).then(() => 200, (e: { status?: number }) => e.status);
    t.equal(bad, 401);
    const lc = f.client(ingress, { apiKey: limited.secret });
    up.script = () => quickScript('one');
    await lc.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] });
    const second = await lc.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }).then(() => 200, (e: { status?: number }) => e.status);
    t.equal(second, 429);
    const m = (await scrape(ingress.url)).samples;
    t.equal(metric(m, 'tokios_ingress_requests_total', { deployment: 'none', status: '401' }), 1, 'bad key: deployment "none", 401');
    t.equal(metric(m, 'tokios_ingress_errors_total', { code: 'invalid_api_key' }), 1, 'bad key: invalid_api_key');
    t.equal(metric(m, 'tokios_ingress_rate_limited_total', { kind: 'requests' }), 1, 'one rate-limit hit');
    t.equal(metric(m, 'tokios_ingress_requests_total', { deployment: dep, status: '429' }), 1, '429 counted for the deployment');
    // Bounded labels: no label value carries a key or a prompt.
    const text = (await scrape(ingress.url)).text;
    t.notOk(text.includes(limited.secret) || text.includes(f.seeded.apiKey) || text.includes('sk-tokios'), 'no API key in the metrics');
  });

  await t.test('every tokios_ metric is documented in docs/operations.md, and the dashboard uses documented ones', async (t) => {
    const docs = await readFile(join(ROOT, 'docs/operations.md'), 'utf8');
    const documented = new Set([...docs.matchAll(/`(tokios_[a-z_]+)`/g)].map((m) => m[1]!));
    const texts = await Promise.all([scrape(ingress.url), scrape(termBase, METRICS_TOKEN), scrape(connBase)]);
    const exported = new Set(texts.flatMap(({ text }) => [...text.matchAll(/^# TYPE (tokios_[a-z_]+) /gm)].map((m) => m[1]!)));
    t.ok(exported.size >= 30, `${exported.size} tokios_ metrics exported by the three tiers`);
    t.same([...exported].filter((n) => !documented.has(n)), [], 'no undocumented metric');
    const dashboard = await readFile(join(ROOT, 'infra/grafana/tokios-dashboard.json'), 'utf8');
    JSON.parse(dashboard);
    const used = new Set([...dashboard.matchAll(/(tokios_[a-z_]+?)(?:_bucket|_count|_sum)?\b/g)].map((m) => m[1]!).filter((n) => n !== 'tokios_overview'));
    t.same([...used].filter((n) => !documented.has(n) && !exported.has(n)), [], 'the dashboard queries only documented metrics');
  });

  void connector;
});

// The connector's own counts: an error event inside a 200 passthrough stream is an error outcome (the one rule of the
// translation: End.error, which the ingress counts too); a request refused at the connector's cap is counted as
// `busy`; a connector serving several deployments counts each under its own `deployment` label on one /metrics.
t.test('connector: in-stream errors, busy refusals and every deployment of a multi-deployment connector', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-a', 'model-b'] });
  const depA = f.seeded.deployments['model-a']!;
  const depB = f.seeded.deployments['model-b']!;
  const [ingress, term1, term2, up] = await Promise.all([f.ingress(), f.terminator(), f.terminator(), f.upstream()]);
  const connector = await startConnectorProc(
    {
      upstream: up.url,
      gateway: term1.url,
      upstream_kind: 'openai',
      deployments: [
        { tunnel_token: depA.token, max_concurrency: 1, tunnels: 2 },
        { tunnel_token: depB.token, tunnels: 1 },
      ],
    },
    { TOKIOS_METRICS_PORT: '0' },
    false,
  );
  f.procs.push(connector);
  const port = await metricsPort(connector);
  const connBase = `http://127.0.0.1:${port}`;
  const c = async (): Promise<Sample[]> => (await scrape(connBase)).samples;
  // model-a's two tunnels spread over both terminators (each sees only its own tunnel's load, so the second one
  // can hand the connector a request while it is at its cap); model-b's one tunnel is up.
  await until(async () => metric(await c(), 'tokios_connector_tunnels', { deployment: '0', state: 'up' }) === 2 && metric(await c(), 'tokios_connector_tunnels', { deployment: '1', state: 'up' }) === 1, 30_000, 'every tunnel up');
  await until(async () => metric((await scrape(`http://127.0.0.1:${term2.port}`)).samples, 'tokios_terminator_tunnels', { state: 'routable' }) === 1, 30_000, "one of model-a's tunnels on the second terminator");
  const first = await c();
  t.equal(metric(first, 'tokios_connector_deployment_info', { deployment: '0', deployment_id: depA.id }), 1, 'deployment "0" is model-a');
  t.equal(metric(first, 'tokios_connector_deployment_info', { deployment: '1', deployment_id: depB.id }), 1, 'deployment "1" is model-b');
  t.equal(metric(first, 'tokios_connector_upstream_healthy', { deployment: '1' }), 1, 'model-b: upstream healthy');

  const client = f.client(ingress);
  up.script = () => quickScript('fine');
  for (const model of ['model-a', 'model-b']) await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] });
  const served = await c();
  t.equal(metric(served, 'tokios_connector_requests_total', { deployment: '0', outcome: 'ok' }), 1, 'model-a: 1 ok under deployment "0"');
  t.equal(metric(served, 'tokios_connector_requests_total', { deployment: '1', outcome: 'ok' }), 1, 'model-b: 1 ok under deployment "1" (not only the first deployment is counted)');

  await t.test('an error event inside a 200 passthrough stream is an error on the connector and the ingress', async (t) => {
    up.script = () => ({ ...quickScript('partial'), streamError: { afterChunks: 1, body: { error: { message: 'CUDA out of memory', type: 'server_error' } } } });
    const failed = await (async () => {
      const st = await client.chat.completions.create({ model: 'model-b', stream: true, messages: [{ role: 'user', content: 'y' }] });
      for await (const _ of st) void _;
    })().then(() => 'completed', (e: Error) => e.message);
    t.match(failed, /CUDA out of memory/, 'the caller gets the error event');
    const m = await c();
    t.equal(metric(m, 'tokios_connector_requests_total', { deployment: '1', outcome: 'upstream_error' }), 1, 'connector: counted upstream_error, not ok');
    t.equal(metric(m, 'tokios_connector_requests_total', { deployment: '1', outcome: 'ok' }), 1, 'connector: no second ok');
    t.equal(metric(m, 'tokios_connector_upstream_errors_total', { deployment: '1', kind: 'stream' }), 1, 'connector: one upstream stream error');
    await connector.waitFor(/"outcome":"upstream_error"[^\n]*"msg":"request done"/);
    t.pass('the connector\'s request line says upstream_error');
    const i = (await scrape(ingress.url)).samples;
    t.equal(metric(i, 'tokios_ingress_requests_total', { deployment: depB.id, status: '502' }), 1, 'ingress: the stream counted 502 (its 200 had gone out)');
  });

  await t.test('a request the connector refuses at its cap is counted as busy', async (t) => {
    up.script = () => slowScript(20, 50);
    const reached = up.next('request');
    const held = client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'hold' }] });
    await reached;
    // NATS hands the next request to either terminator; the one without the busy tunnel passes it on, the connector
    // refuses it (busy) and the ingress places it again until the first is done.
    const queued = client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'wait' }] });
    await until(async () => metric(await c(), 'tokios_connector_requests_total', { deployment: '0', outcome: 'busy' }) >= 1, 30_000, 'a busy refusal counted');
    for await (const _ of await held) void _;
    await queued;
    const m = await c();
    t.ok(metric(m, 'tokios_connector_requests_total', { deployment: '0', outcome: 'busy' }) >= 1, 'busy refusals counted under their own outcome');
    t.equal(metric(m, 'tokios_connector_requests_total', { deployment: '0', outcome: 'ok' }), 3, 'both requests served in the end');
    t.equal(metric(m, 'tokios_connector_requests_total', { deployment: '1', outcome: 'busy' }), 0, 'model-b refused nothing');
  });
});
