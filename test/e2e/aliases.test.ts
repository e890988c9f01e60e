// Issue 12 item 2: aliases with fallback, through the real chain (CLI → store + control events → two ingress
// replicas → NATS → terminator → connector processes → scripted model servers). The alias is made and changed with
// `tokios admin alias …`; which deployment served is read from the `tokios-deployment` header and the usage records.
import t from 'tap';
import { APIError } from 'openai';
import { runAdmin } from 'tokios';
import { SqliteStore } from '@tokios/shared/store';
import { TestFabric, metric, scrape, quickScript, slowScript, terminatorHealth, until, within, type IngressInfo, type OpenAIUpstream, type Proc } from '../support/index.js';

async function admin(f: TestFabric, args: string[]): Promise<any> {
  let out = '';
  let err = '';
  const code = await runAdmin([...args, '--json'], { PATH: process.env.PATH, ...f.env() }, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
  if (code !== 0) throw new Error(`tokios admin ${args.join(' ')} exited ${code}: ${err}`);
  return JSON.parse(out);
}

/** One non-streamed call: which deployment served (header), the text, the status. */
async function ask(f: TestFabric, ingress: IngressInfo, model: string): Promise<{ served: string | null; text: string }> {
  const { data, response } = await f.client(ingress).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  return { served: response.headers.get('tokios-deployment'), text: data.choices[0]?.message.content ?? '' };
}

async function usageOf(f: TestFabric, callCount: number): Promise<{ deploymentId: string; aliasId?: string | null | undefined; status: number }[]> {
  const store = await SqliteStore.open(f.seeded.dataDir, { pruneIntervalMs: 0 });
  try {
    const now = Date.now();
    const recs = await store.listUsageRecords({ tenantId: f.seeded.tenantId, from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 60_000).toISOString(), limit: 1000 });
    return recs.length >= callCount ? recs : [];
  } finally {
    await store.close();
  }
}

t.test('ordered alias: fallback while the first is down, back to it, both down, never mid-stream', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['big', 'small'] });
  const [i1, i2, term, upBig, upSmall] = await Promise.all([f.ingress({ TOKIOS_USAGE_FLUSH_MS: '50' }), f.ingress({ TOKIOS_USAGE_FLUSH_MS: '50' }), f.terminator(), f.upstream('big'), f.upstream('small')]);
  upBig.script = () => quickScript('from big');
  upSmall.script = () => quickScript('from small');
  const big = f.seeded.deployments.big!.id;
  const small = f.seeded.deployments.small!.id;

  const created = await admin(f, ['alias', 'create', '--tenant', f.seeded.tenantId, '--name', 'coder', '--target', 'big', '--target', 'small']);
  t.match(created, { name: 'coder', mode: 'ordered', targets: [{ deploymentId: big, name: 'big', weight: 1 }, { deploymentId: small, name: 'small', weight: 1 }] });

  // Only the second target has a connector: every call through the alias falls back to it, on both replicas.
  let cSmall: Proc = await f.connector('small', upSmall, term.url);
  for (const i of [i1, i2]) {
    const r = await ask(f, i, 'coder');
    t.same(r, { served: 'small', text: 'from small' }, 'the first target has no tunnel: the second serves, and the header says so');
  }
  t.equal(upBig.requests.length, 0);
  t.ok(metric((await scrape(i1.url)).samples, 'tokios_ingress_alias_fallbacks_total', { reason: 'no_responders' }) >= 1, 'the fallback is counted (no responders)');

  // The first target comes back: it serves again (once the terminator has subscribed it).
  const cBig = await f.connector('big', upBig, term.url, { max_concurrency: 1 });
  await until(async () => (await ask(f, i1, 'coder')).served === 'big', 5_000, 'the first target to serve again');
  t.same(await ask(f, i2, 'coder'), { served: 'big', text: 'from big' }, 'on the other replica too');

  // Usage names the deployment that served and the alias.
  const calls = upBig.requests.length + upSmall.requests.length;
  let recs: Awaited<ReturnType<typeof usageOf>> = [];
  await until(async () => (recs = await usageOf(f, calls)).length > 0, 5_000, 'the usage records to be written');
  const created2 = created as { id: string };
  t.ok(recs.every((r) => r.aliasId === created2.id), 'every record names the alias');
  t.equal(recs.filter((r) => r.deploymentId === small).length, upSmall.requests.length, 'the fallback’s calls are counted on it');
  t.equal(recs.filter((r) => r.deploymentId === big).length, upBig.requests.length, 'the first target’s on it');

  // The first target saturated (its one slot taken): the call goes to the second at once instead of queueing.
  upBig.script = () => slowScript(20, 25);
  const reached = upBig.next('request');
  const held = await f.client(i1).chat.completions.create({ model: 'big', stream: true, messages: [{ role: 'user', content: 'hold' }] });
  const holding = (async () => {
    for await (const _ of held) void _;
  })();
  await reached;
  t.same(await ask(f, i2, 'coder'), { served: 'small', text: 'from small' }, 'the first target is busy: the second serves');
  t.ok(metric((await scrape(i2.url)).samples, 'tokios_ingress_alias_fallbacks_total', { reason: 'busy' }) >= 1, 'the fallback is counted (busy)');
  await holding;

  // A stream that fails mid-way on the first target is not retried on the second: it fails as on a plain deployment.
  upBig.script = () => slowScript(100, 50);
  const smallBefore = upSmall.requests.length;
  const stream = await f.client(i1).chat.completions.create({ model: 'coder', stream: true, messages: [{ role: 'user', content: 'long' }] });
  let chunks = 0;
  const consumed = (async () => {
    for await (const c of stream) {
      if (c.choices[0]?.delta.content && ++chunks === 3) void cBig.kill('SIGKILL');
    }
  })().then(() => undefined, (e: unknown) => e as Error);
  const { value: err } = await within(consumed, 10_000, 'the stream to end');
  t.ok(err instanceof Error, `the stream failed: ${err?.message}`);
  t.ok(chunks >= 3 && chunks < 100, 'after the first chunks, without completing');
  t.equal(upSmall.requests.length, smallBefore, 'the second target never saw the request');

  // Both down: the protocol's no_tunnel error.
  await cSmall.kill('SIGKILL');
  await until(async () => (await terminatorHealth(term)).tunnels === 0, 5_000, 'the terminator to drop every tunnel');
  const down = await ask(f, i2, 'coder').then(() => undefined, (e: unknown) => e);
  t.ok(down instanceof APIError && down.status === 503, 'both down: 503');
  t.match((down as APIError).error, { code: 'no_tunnel' });
  t.match((down as APIError).message, /No connector is online for deployment "coder"/);

  // Changed with the CLI: every replica follows at once (alias_changed), with no cache expiry to wait for.
  cSmall = await f.connector('small', upSmall, term.url);
  const updated = await admin(f, ['alias', 'update', created2.id, '--target', 'small']);
  t.match(updated, { targets: [{ name: 'small' }] });
  for (const i of [i1, i2]) t.same(await ask(f, i, 'coder'), { served: 'small', text: 'from small' }, 'the new targets apply');
  await admin(f, ['alias', 'delete', created2.id]);
  for (const i of [i1, i2]) {
    const gone = await ask(f, i, 'coder').then(() => undefined, (e: unknown) => e);
    t.ok(gone instanceof APIError && gone.status === 404, 'deleted: the name is unknown on every replica');
  }
});

t.test('weighted alias: the first choice spreads by weight; /v1/models lists the alias', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['big', 'small'] });
  const [ingress, term, upBig, upSmall] = await Promise.all([f.ingress(), f.terminator(), f.upstream('big'), f.upstream('small')]);
  await Promise.all([f.connector('big', upBig, term.url), f.connector('small', upSmall, term.url)]);
  await admin(f, ['alias', 'create', '--tenant', f.seeded.tenantId, '--name', 'spread', '--target', 'big', '--target', 'small', '--weights', '3,1']);

  const models = await f.client(ingress).models.list();
  const entry = models.data.find((m) => m.id === 'spread') as (typeof models.data)[number] & { online?: boolean };
  t.match(entry, { id: 'spread', owned_by: 'you', online: true }, 'listed, online while a target is');

  const counts: Record<string, number> = {};
  const n = 80;
  for (let i = 0; i < n; i += 8) {
    const batch = await Promise.all(Array.from({ length: 8 }, () => ask(f, ingress, 'spread')));
    for (const r of batch) counts[r.served ?? 'none'] = (counts[r.served ?? 'none'] ?? 0) + 1;
  }
  const share = (counts.big ?? 0) / n;
  t.equal((counts.big ?? 0) + (counts.small ?? 0), n, `every call served by a target (${JSON.stringify(counts)})`);
  // Expected 0.75; 0.55–0.92 is more than four standard deviations (±0.048) each way.
  t.ok(share >= 0.55 && share <= 0.92, `big served ${(share * 100).toFixed(0)} % (weight 3 of 4; bound 55–92 %)`);
  t.ok((counts.small ?? 0) > 0, 'the lighter target gets some');
});

t.test('tokios admin alias: errors name the field; cycles, self-reference and other tenants’ deployments refused', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['big', 'small'] });
  const tenant = ['--tenant', f.seeded.tenantId];
  const fails = async (args: string[], re: RegExp) => {
    let err = '';
    const code = await runAdmin(args, { PATH: process.env.PATH, ...f.env() }, { write: () => undefined }, { write: (s: string) => (err += s) });
    t.not(code, 0, `refused: ${args.join(' ')}`);
    t.match(err, re);
  };
  const first = await admin(f, ['alias', 'create', ...tenant, '--name', 'one', '--target', 'big']);
  await fails(['alias', 'create', ...tenant, '--name', 'two', '--target', 'one'], /body\.targets\.0.*`one` is an alias/);
  await fails(['alias', 'create', ...tenant, '--name', 'self', '--target', 'self'], /body\.targets\.0.*cannot be its own target/);
  await fails(['alias', 'update', first.id, '--target', 'one'], /cannot be its own target/);
  await fails(['alias', 'create', ...tenant, '--name', 'x', '--target', 'nope'], /no deployment `nope`/);
  await fails(['alias', 'create', ...tenant, '--name', 'big', '--target', 'small'], /a deployment big already exists/);
  await fails(['alias', 'create', ...tenant, '--name', 'x', '--target', 'big', '--target', 'big'], /already a target/);
  await fails(['alias', 'create', ...tenant, '--name', 'x', '--target', 'big', '--target', 'small', '--weights', '3'], /--weights must be 2 whole numbers/);
  const other = await admin(f, ['tenant', 'create', '--name', 'other']);
  await fails(['alias', 'create', '--tenant', other.id, '--name', 'steal', '--target', `${f.seeded.tenantId}/big`], /no deployment/);
  await fails(['alias', 'create', '--tenant', other.id, '--name', `${f.seeded.tenantId}/x`, '--target', 'big'], /body\.name: printable ASCII without spaces or \//);
});
