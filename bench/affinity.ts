/**
 * The affinity phase of `npm run bench` (BENCH_PHASES=affinity): cache-affine placement against placement by load
 * alone, on one stack.
 *
 * nats-server, 2 terminators, 2 connectors of one deployment (each with a tunnel on both terminators) and 2 ingress
 * replicas on the same fabric: one with TOKIOS_AFFINITY=off (load only), one with affinity on. The two model servers
 * (PrefixCacheServer, in this process) charge prefill time per prompt token they have not cached as a prefix. 32
 * concurrent agent sessions of 8 turns each resend their whole, growing conversation every turn (a unique ~8k-token
 * system prompt, ~300 tokens more per turn); half name their session with `prompt_cache_key`, half only by their
 * leading messages; between turns an agent "runs tools" for THINK_MS. Rounds alternate the two policies (off, on, on,
 * off), with fresh sessions and cleared caches.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { freePort } from 'tokios';
import { SqliteStore } from '@tokios/shared/store';
import { spawnChild, type Child } from './lib/children.js';
import { percentile } from './lib/load.js';
import { waitHttp } from './lib/wait-http.js';
import { PrefixCacheServer, type PrefixCost, type TurnStats } from './lib/prefix-upstream.js';

export const AFFINITY_TARGETS = { hitRate: 0.9, ttftP50Ratio: 0.3 } as const;

const SESSIONS = Number(process.env.BENCH_AFFINITY_SESSIONS ?? 32);
const TURNS = Number(process.env.BENCH_AFFINITY_TURNS ?? 8);
const SYSTEM_CHARS = 32_000;
const TOOL_RESULT_CHARS = 1_100;
/**
 * Between turns an agent runs the tools the model asked for. Without it, 32 closed loops of 40 KB requests keep the
 * (shared, 2-core) machine's CPU saturated and TTFT measures that queue, not the model server's prefill.
 */
const THINK_MS = Number(process.env.BENCH_AFFINITY_THINK_MS ?? 250);
/**
 * Prefill at 10k prompt tokens/s (a 7-8B model on one data-centre GPU; llama.cpp on a consumer card is slower): an
 * uncached 8k-token conversation costs ~0.8 s before its first token; cached tokens nearly nothing; a short answer.
 */
const COST: PrefixCost = {
  uncachedMsPerToken: Number(process.env.BENCH_AFFINITY_MS_PER_TOKEN ?? 0.1),
  cachedMsPerToken: 0.0005,
  chunks: 8,
  chunkMs: 5,
  // A GPU's KV cache holds ~200k tokens here: the 16 sessions of one server fit (16 x ~10k), all 32 (each server's
  // share when sessions land anywhere) do not, so load-only placement evicts and re-reads whole conversations.
  capacityTokens: Number(process.env.BENCH_AFFINITY_CACHE_TOKENS ?? 200_000),
};
const MODEL = 'agent-model';

/** `direct`: each session straight to one model server, no Tokios (the floor both policies are measured against). */
type Policy = 'load only' | 'affinity' | 'direct';

export interface AffinityOptions {
  root: string;
  natsBin: string;
  log: (line: string) => void;
}

interface PolicyResult {
  requests: number;
  errors: number;
  ttft: number[];
  turns: TurnStats[];
}

interface Check {
  name: string;
  value: number;
  unit: string;
  target: string;
  pass: boolean;
}

/** Filler text that is the same length for every session but starts with the session's own id (its own cache line). */
function systemPrompt(id: string): string {
  const line = 'Repository map: src/ingress/proxy.ts routes requests; src/terminator/relay.ts places them; tests in test/e2e. ';
  return `You are coding agent ${id}. ${line.repeat(Math.ceil(SYSTEM_CHARS / line.length))}`.slice(0, SYSTEM_CHARS);
}

/** One streamed turn through `ingressUrl`: time to the first content chunk, and the answer's text. */
async function turn(agent: Agent, ingressUrl: string, apiKey: string, body: Record<string, unknown>): Promise<{ ttft: number; text: string }> {
  const started = performance.now();
  const res = await request(`${ingressUrl}/v1/chat/completions`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
  let ttft = NaN;
  let text = '';
  let rest = '';
  for await (const chunk of res.body) {
    rest += (chunk as Buffer).toString('utf8');
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (!line.startsWith('data: {')) continue;
      const content = (JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content;
      if (!content) continue;
      if (Number.isNaN(ttft)) ttft = performance.now() - started;
      text += content;
    }
  }
  return { ttft, text };
}

/** One agent session: TURNS turns, each resending the whole conversation. */
async function session(agent: Agent, ingressUrl: string, apiKey: string, id: string, keyed: boolean, out: PolicyResult): Promise<void> {
  const messages: { role: string; content: string }[] = [{ role: 'system', content: systemPrompt(id) }, { role: 'user', content: `Fix the failing test (${id}).` }];
  for (let n = 0; n < TURNS; n++) {
    out.requests++;
    try {
      const r = await turn(agent, ingressUrl, apiKey, { model: MODEL, stream: true, messages, ...(keyed && { prompt_cache_key: id }) });
      out.ttft.push(r.ttft);
      messages.push({ role: 'assistant', content: r.text }, { role: 'user', content: `Tool result ${n}: ${'x'.repeat(TOOL_RESULT_CHARS)}` });
      await new Promise((r) => setTimeout(r, THINK_MS));
    } catch {
      out.errors++;
      return;
    }
  }
}

export async function runAffinity(o: AffinityOptions): Promise<{ text: string; checks: Check[]; json: unknown }> {
  const cli = join(o.root, 'services/cli/dist/src/main.js');
  const dataDir = await mkdtemp(join(tmpdir(), 'tokios-bench-affinity-'));
  const children: Child[] = [];
  const servers = [new PrefixCacheServer('gpu-a', COST), new PrefixCacheServer('gpu-b', COST)];
  const agent = new Agent({ connections: SESSIONS * 2, keepAliveTimeout: 30_000 });
  try {
    const store = await SqliteStore.open(dataDir, { pruneIntervalMs: 0 });
    const tenant = await store.createTenant({ name: 'bench-affinity' });
    const apiKey = (await store.createApiKey({ tenantId: tenant.id, name: 'bench' })).secret;
    const dep = await store.createDeployment({ tenantId: tenant.id, name: MODEL });
    const token = (await store.createTunnelToken({ deploymentId: dep.id })).secret;
    await store.close();
    await Promise.all(servers.map((s) => s.listen()));

    const natsPort = await freePort();
    const nats = spawnChild('affinity-nats', o.natsBin, ['-a', '127.0.0.1', '-p', String(natsPort)]);
    children.push(nats);
    await nats.waitFor(/Server is ready/);
    const common = {
      PATH: process.env.PATH, LOG_LEVEL: 'warn', NATS_URL: `nats://127.0.0.1:${natsPort}`, TOKIOS_DATA_DIR: dataDir, TOKIOS_FABRIC_SECRET: randomBytes(32).toString('hex'),
    };
    const terminators = await Promise.all([0, 1].map(async (i) => {
      const port = await freePort();
      const url = `ws://127.0.0.1:${port}/v1/tunnel`;
      const c = spawnChild(`affinity-terminator-${i}`, process.execPath, [cli, 'terminator'], {
        env: { ...common, TOKIOS_TERMINATOR_HOST: '127.0.0.1', TOKIOS_TERMINATOR_PORT: String(port), TOKIOS_PUBLIC_TUNNEL_URL: url },
      });
      children.push(c);
      await waitHttp(`http://127.0.0.1:${port}/healthz`, 30_000);
      return url;
    }));
    const ingress = async (affinity: 'on' | 'off'): Promise<string> => {
      const port = await freePort();
      const c = spawnChild(`affinity-ingress-${affinity}`, process.execPath, [cli, 'ingress'], {
        env: { ...common, TOKIOS_AFFINITY: affinity, TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_INGRESS_PORT: String(port) },
      });
      children.push(c);
      await waitHttp(`http://127.0.0.1:${port}/healthz`, 30_000);
      return `http://127.0.0.1:${port}`;
    };
    const urls: Record<Exclude<Policy, 'direct'>, string> = { 'load only': await ingress('off'), affinity: await ingress('on') };
    await Promise.all(servers.map(async (s, i) => {
      const cfg = join(dataDir, `connector-${i}.json`);
      // Far above the 32 sessions: the cap never decides here, the placement policy does.
      await writeFile(cfg, JSON.stringify({ tunnel_token: token, upstream: s.url, gateway: terminators[i], upstream_kind: 'openai', max_concurrency: 256 }));
      const c = spawnChild(`affinity-connector-${i}`, process.execPath, [cli, 'connector', '--config', cfg], { env: common });
      children.push(c);
      await c.waitFor(/Tunnel established/, 30_000);
    }));
    // Until both connectors serve through both ingress replicas (tunnels spread, interest propagated).
    const deadline = Date.now() + 30_000;
    for (let n = 0; servers.some((s) => s.turns.length === 0); n++) {
      if (Date.now() > deadline) throw new Error('the two connectors did not both take requests within 30 s');
      await Promise.all(Object.values(urls).map((u) => turn(agent, u, apiKey, { model: MODEL, stream: true, messages: [{ role: 'user', content: `warm-up ${n}` }] }).catch(() => undefined)));
    }

    const results: Record<Policy, PolicyResult> = {
      'load only': { requests: 0, errors: 0, ttft: [], turns: [] },
      affinity: { requests: 0, errors: 0, ttft: [], turns: [] },
      direct: { requests: 0, errors: 0, ttft: [], turns: [] },
    };
    const rounds: Policy[] = ['load only', 'affinity', 'direct', 'affinity', 'load only'];
    for (const [r, policy] of rounds.entries()) {
      for (const s of servers) s.reset();
      o.log(`affinity: round ${r + 1} of ${rounds.length}, ${policy}: ${SESSIONS} sessions x ${TURNS} turns`);
      const out = results[policy];
      const url = (i: number): string => (policy === 'direct' ? servers[i % 2]!.url : urls[policy]);
      await Promise.all(Array.from({ length: SESSIONS }, (_, i) => session(agent, url(i), apiKey, `r${r}s${i}-${randomBytes(3).toString('hex')}`, i % 2 === 0, out)));
      for (const s of servers) out.turns.push(...s.turns);
    }
    return report(results);
  } finally {
    await agent.close().catch(() => undefined);
    await Promise.all(children.map((c) => c.stop('SIGTERM', 1_500)));
    await Promise.all(servers.map((s) => s.close()));
    await rm(dataDir, { recursive: true, force: true });
  }
}

function summary(r: PolicyResult) {
  const followUps = r.turns.filter((x) => x.followUp);
  const prompt = r.turns.reduce((a, x) => a + x.promptTokens, 0);
  const cached = r.turns.reduce((a, x) => a + x.cachedTokens, 0);
  const sorted = Float64Array.from(r.ttft.filter((x) => Number.isFinite(x))).sort();
  return {
    requests: r.requests,
    errors: r.errors,
    hitRate: followUps.filter((x) => x.hit).length / followUps.length,
    cachedTokenShare: cached / prompt,
    ttftP50: percentile(sorted, 50),
    ttftP99: percentile(sorted, 99),
  };
}

function report(results: Record<Policy, PolicyResult>): { text: string; checks: Check[]; json: unknown } {
  const off = summary(results['load only']);
  const on = summary(results.affinity);
  const direct = summary(results.direct);
  const ratio = on.ttftP50 / off.ttftP50;
  const checks: Check[] = [
    { name: 'affinity: follow-up turns that hit the cache', value: on.hitRate, unit: 'ratio', target: `>= ${AFFINITY_TARGETS.hitRate}`, pass: on.hitRate >= AFFINITY_TARGETS.hitRate },
    { name: 'affinity: TTFT p50 vs load only', value: ratio, unit: 'ratio', target: `<= ${AFFINITY_TARGETS.ttftP50Ratio}`, pass: ratio <= AFFINITY_TARGETS.ttftP50Ratio },
  ];
  const pct = (n: number): string => `${(n * 100).toFixed(1)} %`;
  const ms = (n: number): string => n.toFixed(1);
  const rows = [
    ['placement', 'follow-up cache hits', 'prompt tokens cached', 'TTFT p50 (ms)', 'TTFT p99 (ms)', 'requests', 'errors'],
    ['load only (TOKIOS_AFFINITY=off)', pct(off.hitRate), pct(off.cachedTokenShare), ms(off.ttftP50), ms(off.ttftP99), String(off.requests), String(off.errors)],
    ['cache-affine (default)', pct(on.hitRate), pct(on.cachedTokenShare), ms(on.ttftP50), ms(on.ttftP99), String(on.requests), String(on.errors)],
    ['direct, one server per session', pct(direct.hitRate), pct(direct.cachedTokenShare), ms(direct.ttftP50), ms(direct.ttftP99), String(direct.requests), String(direct.errors)],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r, ri) => {
    const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
  const text = [
    `Cache-affine placement: ${SESSIONS} concurrent agent sessions x ${TURNS} turns (whole conversation resent each turn, ~8k-token system prompt`,
    `+ ~300 tokens a turn; half with prompt_cache_key, half by leading messages), 2 connectors whose model servers charge`,
    `${COST.uncachedMsPerToken} ms per uncached prompt token (KV cache of ${COST.capacityTokens / 1000}k tokens each, LRU); ${THINK_MS} ms of tool work between turns; 2 ingress replicas (affinity off / on),`,
    `2 terminators; 2 rounds each, alternating; one round straight to the model servers. TTFT = request sent to first content chunk, at the client.`,
    table,
    `follow-up hits >= ${pct(AFFINITY_TARGETS.hitRate)}: ${pct(on.hitRate)} ${checks[0]!.pass ? 'PASS' : 'MISS'}; TTFT p50 <= ${AFFINITY_TARGETS.ttftP50Ratio} x load only: ${ratio.toFixed(2)} x ${checks[1]!.pass ? 'PASS' : 'MISS'}`,
  ].join('\n');
  return { text, checks, json: { settings: { sessions: SESSIONS, turns: TURNS, cost: COST }, loadOnly: off, affinity: on, direct, ttftP50Ratio: ratio, checks } };
}
