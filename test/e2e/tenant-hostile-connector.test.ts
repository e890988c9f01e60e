// Issue 8 findings 3, 4, 6, 7, 8: a tenant's connector writes whatever bytes it likes on its tunnel, and the other
// tenants must not feel it. A raw connector written against the frame codec (ScriptedConnector) owns a deployment
// that tenant A shares with tenant B; B also runs its own connector. Two ingress replicas share one terminator.
import t from 'tap';
import { connect as natsConnect } from 'nats';
import { SqliteStore } from '@tokios/shared/store';
import { subjects } from '@tokios/shared/subjects';
import { FrameKind, decodeFrame, encodeFrame, type Frame, type FrameOf } from '@tokios/shared/protocol';
import { ScriptedConnector, TestFabric, logLines, quickScript, type IngressInfo } from '../support/index.js';

/** The next frame of `kind` from the terminator, skipping its Pings and the Cancels of streams that failed. */
async function nextOf<K extends FrameKind>(c: ScriptedConnector, kind: K): Promise<FrameOf<K>> {
  for (;;) {
    const f: Frame = await c.frames.next(20_000);
    if (f.kind !== kind && (f.kind === FrameKind.Ping || f.kind === FrameKind.Welcome || f.kind === FrameKind.Cancel)) continue;
    if (f.kind !== kind) throw new Error(`expected frame kind ${kind}, got ${f.kind}`);
    return f as FrameOf<K>;
  }
}

/** Answers one request on the scripted tunnel: Head, one Data frame, End with the given usage. */
function answer(c: ScriptedConnector, sid: number, opts: { status?: number; body?: string; usage?: { input_tokens: number; output_tokens: number } }): void {
  c.send(encodeFrame(FrameKind.Head, sid, { status: opts.status ?? 200, contentType: 'application/json' }));
  c.send(encodeFrame(FrameKind.Data, sid, undefined, Buffer.from(opts.body ?? chatBody('hello'))));
  c.send(encodeFrame(FrameKind.End, sid, opts.usage ? { frames: 1, usage: opts.usage } : { frames: 1 }));
}

const chatBody = (text: string): string =>
  JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }] });

async function chat(ingress: IngressInfo, key: string, model: string): Promise<Response> {
  return fetch(`${ingress.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

t.test('a hostile connector cannot harm other tenants', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-a', 'shared-hostile'] });
  // Tenant B: a key with a token budget, its own deployment, and a share of A's hostile deployment.
  const store = await SqliteStore.open(f.seeded.dataDir, { pruneIntervalMs: 0 });
  const b = await store.createTenant({ name: 'tenant-b' });
  const bKey = await store.createApiKey({ tenantId: b.id, name: 'b', limits: { tokensPerMinute: 100_000 } });
  const bDep = await store.createDeployment({ tenantId: b.id, name: 'b-own' });
  const bToken = await store.createTunnelToken({ deploymentId: bDep.id });
  const hostileDep = f.seeded.deployments['shared-hostile']!;
  const invite = await store.createInvite({ deploymentId: hostileDep.id, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), maxUses: 1 });
  await store.redeemInvite({ code: invite.secret, tenantId: b.id });
  await store.close();

  const [ing1, ing2, term, up] = await Promise.all([f.ingress(), f.ingress(), f.terminator(), f.upstream()]);
  up.script = () => quickScript('honest');
  const honest = await f.connector('model-a', up, term.url);
  // B's connector takes one request at a time; A's hostile one announces the very same connector id.
  const victim = await ScriptedConnector.dial(term.url, { connectorId: 'con_victim', maxConcurrency: 1 }, bToken.secret);
  const hostile = await ScriptedConnector.dial(term.url, { connectorId: 'con_victim', maxConcurrency: 1 }, hostileDep.token);
  t.teardown(async () => {
    await victim.close();
    await hostile.close();
  });

  await t.test('finding 4: a connector cannot take another tenant’s connector id (load and identity are the gateway’s)', async (t) => {
    // The hostile connector holds a request of A's in flight, so its (claimed) connector is at capacity.
    const held = chat(ing1, f.seeded.apiKey, 'shared-hostile');
    const heldReq = await nextOf(hostile, FrameKind.Request);
    // B's own request must reach B's connector, not wait as "busy" behind the hostile one's load.
    const mine = chat(ing1, bKey.secret, 'b-own');
    const req = await nextOf(victim, FrameKind.Request);
    answer(victim, req.id, { body: chatBody('from b') });
    const r = await mine;
    t.equal(r.status, 200, 'B served by its own connector');
    answer(hostile, heldReq.id, {});
    t.equal((await held).status, 200);
    const ids = new Set(logLines(term.proc).filter((l) => l.msg === 'tunnel established').map((l) => l.connectorId as string));
    t.notOk(ids.has('con_victim'), 'the announced id is not the id the gateway uses');
  });

  await t.test('finding 8: a connector-chosen status outside 200-599 becomes a 502', async (t) => {
    for (const status of [101, 100, 199]) {
      const pending = chat(ing1, bKey.secret, 'shared-hostile');
      const req = await nextOf(hostile, FrameKind.Request);
      answer(hostile, req.id, { status });
      const r = await pending;
      t.equal(r.status, 502, `Head status ${status} → 502`);
      t.match(await r.json(), { error: { type: 'server_error' } });
    }
    // The tunnel survives a bad Head: the stream failed, not the connector's other streams.
    const pending = chat(ing1, bKey.secret, 'shared-hostile');
    answer(hostile, (await nextOf(hostile, FrameKind.Request)).id, {});
    t.equal((await pending).status, 200, 'the same tunnel still serves');
  });

  await t.test('finding 7: reported usage is clamped per request; replicas keep counting the quota', async (t) => {
    const huge = { input_tokens: 4e12, output_tokens: 4e12 };
    const first = chat(ing1, bKey.secret, 'shared-hostile');
    answer(hostile, (await nextOf(hostile, FrameKind.Request)).id, { usage: huge });
    const r1 = await first;
    t.equal(r1.status, 200);
    await ing1.proc.waitFor(/connector-reported usage clamped/);
    const clamped = logLines(ing1.proc).find((l) => l.msg === 'connector-reported usage clamped');
    t.ok(clamped, 'the clamp is logged');
    const charged = clamped?.charged as { input_tokens: number; output_tokens: number } | undefined;
    t.ok(charged && charged.input_tokens + charged.output_tokens < 100_000, `charged ${JSON.stringify(charged)}, within the request's bytes plus the allowances`);
    // B's key (100k tokens/min) is not in 429, on this replica nor on the other one.
    for (const [name, ing] of [['same replica', ing1], ['other replica', ing2]] as const) {
      const next = chat(ing, bKey.secret, 'shared-hostile');
      const req = await nextOf(hostile, FrameKind.Request);
      answer(hostile, req.id, {});
      t.equal((await next).status, 200, `${name}: not rate-limited`);
    }
    t.notOk(logLines(ing2.proc).some((l) => l.msg === 'malformed quota delta ignored' || l.msg === 'invalid quota delta entries skipped'), 'the delta carrying the clamped count was valid');
  });

  await t.test('finding 3: /v1/models shows a receiver no tenant ids; a qualified name resolves only as qualified', async (t) => {
    const r = await fetch(`${ing1.baseURL}/models`, { headers: { authorization: `Bearer ${bKey.secret}` } });
    const text = await r.text();
    t.notMatch(text, f.seeded.tenantId, 'the owner’s tenant id is nowhere in the list');
    const body = JSON.parse(text) as { data: { id: string; owned_by: string }[] };
    t.same(body.data.find((d) => d.id === 'shared-hostile')?.owned_by, 'shared');
    t.same(body.data.find((d) => d.id === 'b-own')?.owned_by, 'you');
    // Qualified: the owner's id and the name; never an own deployment of a look-alike name.
    const q = chat(ing1, bKey.secret, `${f.seeded.tenantId}/shared-hostile`);
    answer(hostile, (await nextOf(hostile, FrameKind.Request)).id, {});
    t.equal((await q).status, 200, 'the shared deployment by its qualified name');
    t.equal((await chat(ing1, bKey.secret, `${b.id}/shared-hostile`)).status, 404, 'not B’s own under B’s qualifier');
  });

  await t.test('finding 6: a deeply nested body is refused before any parse, at the ingress and at the connector', async (t) => {
    const depth = 3_000_000;
    const deep = `{"model":"model-a","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const r = await fetch(`${ing1.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.seeded.apiKey}`, 'content-type': 'application/json' },
      body: deep,
    });
    t.equal(r.status, 400);
    t.match(await r.json(), { error: { message: /nests deeper than 128/ } });
    // Straight onto the fabric, past the ingress: the connector refuses it too.
    const nc = await natsConnect({ servers: f.natsUrl });
    t.teardown(() => nc.close());
    const inbox = subjects.ingressInbox('ing_probe', 'req_deep-1');
    const sub = nc.subscribe(inbox);
    const body = Buffer.from(`{"model":"model-a","messages":${'['.repeat(1000)}${']'.repeat(1000)}}`);
    nc.publish(
      subjects.request(f.seeded.deployments['model-a']!.id),
      encodeFrame(FrameKind.Request, 0, { rid: 'req_deep-1', protocol: 'openai.chat', model: 'model-a', stream: false, bodyLength: body.length, deadline: Date.now() + 30_000, ingressId: 'ing_probe' }, body),
      { reply: inbox },
    );
    for await (const m of sub) {
      const frame = decodeFrame(m.data);
      if (frame.kind === FrameKind.Ack || frame.kind === FrameKind.Heartbeat) continue;
      t.equal(frame.kind, FrameKind.Error, 'the connector answers an error');
      if (frame.kind === FrameKind.Error) t.match(frame.meta, { code: 'invalid_json', message: /nests deeper than 128/ });
      break;
    }
    t.ok(honest.running && ing1.proc.running, 'nothing crashed');
  });
});
