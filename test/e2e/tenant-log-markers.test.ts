// Issue 8 finding 9: no prompt or completion text, and no caller-chosen string, in any log line of any tier — even at
// trace level. Every endpoint is called with a unique marker in the prompt, in an unknown parameter's name, in a
// content type the deployment refuses, and in the completion; then every process's whole output is searched.
import t from 'tap';
import { OllamaUpstream, SERVICE_START_MS, TestFabric, startConnectorProc, until, type Proc } from '../support/index.js';

const marker = (what: string) => `mark_${what}_${Math.random().toString(36).slice(2, 10)}`;

interface Call {
  path: string;
  headers?: Record<string, string>;
  /** A good request whose prompt carries `m`, and one that fails on a caller-chosen name carrying `m`. */
  ok(m: string): Record<string, unknown>;
  bad(m: string): Record<string, unknown>;
}

const endpoints: Record<string, Call> = {
  'OpenAI Chat': {
    path: '/chat/completions',
    ok: (m) => ({ model: 'model-a', messages: [{ role: 'user', content: `say ${m}` }], [m]: 1 }),
    bad: (m) => ({ model: 'model-a', messages: [{ role: 'user', content: [{ type: m, text: m }] }] }),
  },
  'OpenAI Responses': {
    path: '/responses',
    ok: (m) => ({ model: 'model-a', input: `say ${m}`, instructions: m, [m]: 1 }),
    bad: (m) => ({ model: 'model-a', input: [{ role: 'user', content: [{ type: m, text: m }] }] }),
  },
  'Anthropic Messages': {
    path: '/messages',
    headers: { 'anthropic-version': '2023-06-01' },
    ok: (m) => ({ model: 'model-a', max_tokens: 16, system: m, messages: [{ role: 'user', content: `say ${m}` }], [m]: 1 }),
    bad: (m) => ({ model: 'model-a', max_tokens: 16, messages: [{ role: 'user', content: [{ type: m, text: m }] }] }),
  },
};

t.test('no caller strings in any log line, at trace level', async (t) => {
  const f = await TestFabric.start(t);
  const trace = { LOG_LEVEL: 'trace' };
  const [ingress, term] = await Promise.all([f.ingress(trace), f.terminator(trace)]);
  const up = await OllamaUpstream.start(['llama3.1:8b']);
  t.teardown(() => up.close());
  const connector: Proc = await startConnectorProc(
    { tunnel_token: f.seeded.deployments['model-a']!.token, upstream: up.url, gateway: term.url, upstream_kind: 'ollama', model: 'llama3.1:8b' },
    trace,
    false,
  );
  f.procs.push(connector);
  await connector.waitFor(/Tunnel established/, SERVICE_START_MS);
  const tiers: Record<string, Proc> = { ingress: ingress.proc, terminator: term.proc, connector };

  const count = (proc: Proc, re: RegExp) => (proc.output.match(new RegExp(re.source, 'g')) ?? []).length;
  let refused = 0;
  for (const [name, call] of Object.entries(endpoints)) {
    await t.test(name, async (t) => {
      const m = marker(name.split(' ')[1]!.toLowerCase());
      up.script = () => ({ chunks: [`here is ${m}`], doneReason: 'stop', usage: { prompt_eval_count: 3, eval_count: 3 }, delayMs: 0, firstDelayMs: 0 });
      const post = (body: Record<string, unknown>) =>
        fetch(`${ingress.baseURL}${call.path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${f.seeded.apiKey}`, 'content-type': 'application/json', ...call.headers },
          body: JSON.stringify(body),
        });
      for (const stream of [false, true]) {
        const r = await post({ ...call.ok(m), stream });
        t.equal(r.status, 200, `a good request (stream: ${stream})`);
        t.match(await r.text(), m, 'the completion reached the caller');
      }
      const bad = await post(call.bad(m));
      t.equal(bad.status, 400, 'a refused content type');
      // Wait until the refused request's lines are out (the ingress's and the connector's), then search.
      refused++;
      await until(() => count(ingress.proc, /"status":400[^\n]*"msg":"request done"/) >= refused && count(connector, /"msg":"request failed"/) >= refused, 15_000, 'the refusal to be logged');
      for (const [tier, proc] of Object.entries(tiers)) t.notMatch(proc.output, m, `the ${tier}'s output never shows the marker`);
    });
  }
});
