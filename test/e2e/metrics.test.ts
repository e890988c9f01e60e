// Issue 9 item 1: /metrics on every tier (ingress, terminator, connector on its optional local port), scraped
// before and after real requests through real processes; values change as the traffic says, labels stay bounded.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { freePort } from '../support/ports.js';
import { SqliteStore } from '@tokios/shared/store';
import { ROOT, TestFabric, metric, quickScript, scrape, slowScript, until, type Sample } from '../support/index.js';

const METRICS_TOKEN = 'metrics-token-0123456789';

t.test('metrics of ingress, terminator and connector follow the traffic', async (t) => {
  const f = await TestFabric.start(t);
  const dep = f.seeded.deployments['model-a']!.id;
  const connectorPort = await freePort();
  const [ingress, term, up] = await Promise.all([f.ingress(), f.terminator({ TOKIOS_METRICS_TOKEN: METRICS_TOKEN }), f.upstream()]);
  const connector = await f.connector('model-a', up, term.url, {}, { TOKIOS_METRICS_PORT: String(connectorPort) });
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
