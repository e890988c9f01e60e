/**
 * npm run bench — direct-to-upstream vs through Tokios, side by side, in one run.
 *
 * Stack (separate processes, like production): nats-server, tokios ingress, tokios terminator, two tokios connectors
 * (one per deployment: `bench-model` to the upstream's OpenAI API, `bench-ollama` to its Ollama API) and a scripted
 * upstream that speaks both. This process is the load generator (autocannon / undici).
 * Everything listens on 127.0.0.1 only; every child is killed on exit, error or timeout.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from 'tokios';
import { SqliteStore } from '@tokios/shared/store';
import { detectUpstreamKind } from '@tokios/shared/translate';
import { spawnChild, stopAll, killAllNow, type Child } from './lib/children.js';
import { runFloor } from './lib/floor.js';
import { runAffinity } from './affinity.js';
import { waitHttp } from './lib/wait-http.js';
import { collectGarbage } from './lib/inspector-gc.js';
import { withOpenFiles } from './lib/fd-limit.js';
import { slowStreams, type SlowStreamsResult, type Tier, type TierLoops } from './lib/slow-streams.js';
import { loopProbeArgs } from './lib/loop-probe-file.js';
import { CpuMeter, addWindows, rssBytes, type CpuWindow } from './lib/procstat.js';
import {
  ANTHROPIC_MARKERS, OPENAI_CHAT_MARKERS, fixedLoad, mergeFixed, mergeProtocolStreams, mergeStreams, protocolStreamLoad, streamLoad,
  type FixedResult, type ProtocolStreamResult, type ProtocolTarget, type StreamResult, type Target,
} from './lib/load.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // bench/dist
const ROOT = resolve(HERE, '../..');
const CLI = join(ROOT, 'services/cli/dist/src/main.js');
const LIB = join(HERE, 'lib');
const RESULTS = join(ROOT, 'bench/results/latest.json');
const FLOOR_RESULTS = join(ROOT, 'bench/results/floor-latest.json');
const AFFINITY_RESULTS = join(ROOT, 'bench/results/affinity-latest.json');
const NATS_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/**
 * Each phase runs direct and Tokios in alternating slices (SECONDS / SLICES each, summed), so both sides see the
 * same background load when the machine is shared.
 */
const SLICES = Number(process.env.BENCH_SLICES ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP ?? 1);
const CONCURRENCY = [1, 16, 64];
const STREAMS = 64;
const STREAM_CHUNKS = 1024;
const IDLE_TUNNELS = Number(process.env.BENCH_IDLE_TUNNELS ?? 10_000);
/** Two idle tunnels per token and deployment, like a connector with the default `tunnels: 2`. */
const IDLE_DEPLOYMENTS = Math.ceil(IDLE_TUNNELS / 2);
/** The slow-stream phase: concurrent streams at 1 token/s through one ingress + one terminator, tokens each. */
const SLOW_STREAMS = Number(process.env.BENCH_SLOW_STREAMS ?? 5_000);
const SLOW_TOKENS = Number(process.env.BENCH_SLOW_TOKENS ?? 20);
const SLOW_RAMP_MS = Number(process.env.BENCH_SLOW_RAMP_MS ?? 10_000);
const SLOW_MODEL = 'slow-model';
const HARD_LIMIT_MS = 10 * 60_000;
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
/** Phases to run (default all): idle, c1, c16, c64, stream, translate, slow, affinity, floor. */
const PHASES = new Set((process.env.BENCH_PHASES ?? 'idle,c1,c16,c64,stream,translate,slow,affinity,floor').split(',').map((s) => s.trim()));
/** The phases that need this bench's own stack (the affinity and floor phases bring their own). */
const STACK_PHASES = ['idle', 'c1', 'c16', 'c64', 'stream', 'translate', 'slow'];
/** Comma list of services to run under `node --cpu-prof` (profiles land in bench/results/prof/). */
const PROFILE = new Set((process.env.BENCH_PROFILE ?? '').split(',').filter(Boolean));
const PROF_DIR = join(ROOT, 'bench/results/prof');
const nodeArgs = (name: string): string[] => (PROFILE.has(name) ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : []);
/** The slow phase reads the ingress's and the terminator's event loops (a probe, dormant until that phase). */
const probeArgs = (): string[] => (PHASES.has('slow') ? loopProbeArgs() : []);

const TARGETS = {
  addedP50Ms: 0.5,
  rpsRatio: 0.12,
  chunksRatio: 0.25,
  /** At IDLE_TUNNELS (10,000) idle tunnels on one terminator (issue 11). */
  rssPerTunnelKB: 10,
  /** Anthropic-in / Ollama-out streamed chunks/s vs OpenAI passthrough, both through Tokios. */
  translateRatio: 0.9,
  /** p99 latency added per chunk with SLOW_STREAMS concurrent 1-token/s streams (issue 11). */
  slowP99Ms: 5,
};

let loadAvgAtStart = '';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (s: string): void => void process.stderr.write(`[bench] ${s}\n`);

async function seed(): Promise<{ dataDir: string; apiKey: string; token: string; ollamaToken: string; idleTokensFile: string; slowToken: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tokios-bench-'));
  const store = await SqliteStore.open(dataDir, { pruneIntervalMs: 0 });
  const tenant = await store.createTenant({ name: 'bench' });
  const key = await store.createApiKey({ tenantId: tenant.id, name: 'bench' });
  const dep = await store.createDeployment({ tenantId: tenant.id, name: 'bench-model' });
  const tok = await store.createTunnelToken({ deploymentId: dep.id });
  // The translation phase's deployment: its connector talks to the upstream's Ollama API.
  const ollamaDep = await store.createDeployment({ tenantId: tenant.id, name: OLLAMA_DEPLOYMENT });
  const ollamaTok = await store.createTunnelToken({ deploymentId: ollamaDep.id });
  // Idle tunnels go to their own deployments (one token each, as many connectors would hold) so they never take
  // benchmark traffic; the terminator subscribes one request subject per deployment, which the figure includes.
  const idleSecrets: string[] = [];
  if (PHASES.has('idle')) {
    for (let i = 0; i < IDLE_DEPLOYMENTS; i++) {
      const idle = await store.createDeployment({ tenantId: tenant.id, name: `idle-model-${i}` });
      idleSecrets.push((await store.createTunnelToken({ deploymentId: idle.id })).secret);
    }
  }
  // The slow-stream phase's deployment, served by its own connectors and slow upstream.
  const slow = await store.createDeployment({ tenantId: tenant.id, name: SLOW_MODEL });
  const slowTok = await store.createTunnelToken({ deploymentId: slow.id });
  await store.close();
  const idleTokensFile = join(dataDir, 'idle-tokens.txt');
  await writeFile(idleTokensFile, idleSecrets.join('\n'));
  return { dataDir, apiKey: key.secret, token: tok.secret, ollamaToken: ollamaTok.secret, idleTokensFile, slowToken: slowTok.secret };
}

interface Stack {
  nats: Child;
  upstream: Child;
  ingress: Child;
  terminator: Child;
  connector: Child;
  /** Serves OLLAMA_DEPLOYMENT from the upstream's Ollama API (translation on every request). */
  connectorOllama: Child;
  upstreamUrl: string;
  ingressUrl: string;
  tunnelUrl: string;
  apiKey: string;
  idleTokensFile: string;
  slowToken: string;
  terminatorInspector: string;
  /** nats-server's monitoring endpoint (http://127.0.0.1:<port>). */
  natsMonitorUrl: string;
  /** Environment of the stack's processes, and where connector configs go. */
  env: NodeJS.ProcessEnv;
  cfgDir: string;
}

async function startStack(): Promise<Stack> {
  const s = await seed();
  const natsPort = await freePort();
  // Its monitoring port: the slow phase counts the messages NATS carried (/varz).
  const natsMonitorPort = await freePort();
  const nats = spawnChild('nats-server', NATS_BIN, ['-a', '127.0.0.1', '-p', String(natsPort), '-m', String(natsMonitorPort)]);
  await nats.waitFor(/Server is ready/);
  const natsUrl = `nats://127.0.0.1:${natsPort}`;

  const upstream = spawnChild('upstream', process.execPath, [...nodeArgs('upstream'), join(LIB, 'upstream.js'), '0', String(STREAM_CHUNKS)]);
  const upPort = Number((await upstream.waitFor(/upstream listening (\d+)/))[1]);
  const upstreamUrl = `http://127.0.0.1:${upPort}`;

  const common = { PATH: process.env.PATH, LOG_LEVEL, NATS_URL: natsUrl, TOKIOS_DATA_DIR: s.dataDir };
  const tPort = await freePort();
  const tunnelUrl = `ws://127.0.0.1:${tPort}/v1/tunnel`;
  // The terminator's inspector (127.0.0.1, random port) lets the idle-tunnel phase force a GC before reading RSS.
  // Each idle tunnel is one socket in the terminator (and in the client that opens them).
  const fds = withOpenFiles(IDLE_TUNNELS + 2_000, process.execPath, [...nodeArgs('terminator'), ...probeArgs(), '--inspect=127.0.0.1:0', CLI, 'terminator']);
  if (PHASES.has('idle')) log(`terminator: ${fds.note}`);
  const terminator = spawnChild('terminator', fds.cmd, fds.args, {
    env: { ...common, TOKIOS_TERMINATOR_HOST: '127.0.0.1', TOKIOS_TERMINATOR_PORT: String(tPort), TOKIOS_PUBLIC_TUNNEL_URL: tunnelUrl },
  });
  const iPort = await freePort();
  // One socket per slow stream's caller.
  const ifds = withOpenFiles(SLOW_STREAMS + 2_000, process.execPath, [...nodeArgs('ingress'), ...probeArgs(), CLI, 'ingress']);
  const ingress = spawnChild('ingress', ifds.cmd, ifds.args, {
    env: { ...common, TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_INGRESS_PORT: String(iPort) },
  });
  await Promise.all([waitHttp(`http://127.0.0.1:${tPort}/healthz`), waitHttp(`http://127.0.0.1:${iPort}/healthz`)]);
  const terminatorInspector = (await terminator.waitFor(/Debugger listening on (ws:\/\/\S+)/))[1]!;

  // The upstream must pass for Ollama by the connector's own rules (GET /api/version, /api/tags).
  const probe = async (path: string): Promise<{ status: number; body: string }> => {
    const r = await fetch(upstreamUrl + path);
    return { status: r.status, body: await r.text() };
  };
  const detected = detectUpstreamKind({ ollamaVersion: await probe('/api/version'), ollamaTags: await probe('/api/tags') });
  if (detected.kind !== 'ollama') throw new Error(`the bench upstream does not pass for Ollama: ${JSON.stringify(detected)}`);

  const cfgDir = await mkdtemp(join(tmpdir(), 'tokios-bench-conn-'));
  const startConnector = async (name: string, token: string, kind: 'openai' | 'ollama'): Promise<Child> => {
    const cfg = join(cfgDir, `${name}.json`);
    await writeFile(cfg, JSON.stringify({ tunnel_token: token, upstream: upstreamUrl, gateway: tunnelUrl, upstream_kind: kind, max_concurrency: 1024 }));
    const c = spawnChild(name, process.execPath, [...nodeArgs(name), CLI, 'connector', '--config', cfg], { env: common });
    await c.waitFor(/Tunnel established/);
    return c;
  };
  // Same shape on both sides of the translation phase: one connector process each, same settings but the kind.
  const [connector, connectorOllama] = await Promise.all([startConnector('connector', s.token, 'openai'), startConnector('connector-ollama', s.ollamaToken, 'ollama')]);

  const stack: Stack = {
    nats, upstream, ingress, terminator, connector, connectorOllama, upstreamUrl, ingressUrl: `http://127.0.0.1:${iPort}`, tunnelUrl, apiKey: s.apiKey,
    idleTokensFile: s.idleTokensFile, slowToken: s.slowToken, terminatorInspector, natsMonitorUrl: `http://127.0.0.1:${natsMonitorPort}`, env: common, cfgDir,
  };
  // Interest in the request subject spreads asynchronously: wait for one good answer through the chain.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await fetch(`${stack.ingressUrl}/v1/chat/completions`, { method: 'POST', headers: tokiosTarget(stack).headers, body: BODY });
    const text = await r.text();
    if (r.ok) break;
    if (Date.now() > deadline) throw new Error(`no answer through Tokios: ${r.status} ${text}`);
    await sleep(100);
  }
  for (;;) {
    const t = anthropicTarget(stack);
    const r = await fetch(t.url, { method: 'POST', headers: t.headers, body: ANTHROPIC_BODY });
    const text = await r.text();
    if (r.ok && text.includes('"type":"message"')) break;
    if (Date.now() > deadline) throw new Error(`no Anthropic answer through Tokios from the Ollama deployment: ${r.status} ${text}`);
    await sleep(100);
  }
  return stack;
}

const BODY = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
const STREAM_BODY = JSON.stringify({ model: 'bench-model', stream: true, messages: [{ role: 'user', content: 'Count.' }], max_tokens: STREAM_CHUNKS });

const OLLAMA_DEPLOYMENT = 'bench-ollama';
const ANTHROPIC_BODY = JSON.stringify({ model: OLLAMA_DEPLOYMENT, max_tokens: 16, messages: [{ role: 'user', content: 'Say hello.' }] });
const ANTHROPIC_STREAM_BODY = JSON.stringify({ model: OLLAMA_DEPLOYMENT, max_tokens: STREAM_CHUNKS, stream: true, messages: [{ role: 'user', content: 'Count.' }] });

const directTarget = (s: Stack): Target => ({ url: `${s.upstreamUrl}/v1/chat/completions`, headers: {} });
const tokiosTarget = (s: Stack): Target => ({ url: `${s.ingressUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' } });
const anthropicTarget = (s: Stack): Target => ({
  url: `${s.ingressUrl}/v1/messages`,
  headers: { 'x-api-key': s.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
});
/** Translation phase, passthrough side: OpenAI Chat in, OpenAI-compatible upstream out, through Tokios. */
const passthroughStreams = (s: Stack): ProtocolTarget => ({ ...tokiosTarget(s), body: STREAM_BODY, ...OPENAI_CHAT_MARKERS, expectChunks: STREAM_CHUNKS });
/** Translation phase, translated side: Anthropic Messages in, Ollama /api/chat out, through Tokios. */
const translatedStreams = (s: Stack): ProtocolTarget => ({ ...anthropicTarget(s), body: ANTHROPIC_STREAM_BODY, ...ANTHROPIC_MARKERS, expectChunks: STREAM_CHUNKS });

// ---------------------------------------------------------------------------------------------------------------

interface Measured<T> {
  result: T;
  cpu: CpuWindow;
}

/** Warms both sides up, then measures them in alternating slices. */
async function sideBySide<T, G extends Target = Target>(
  meter: CpuMeter, load: (t: G, seconds: number) => Promise<T>, merge: (parts: T[]) => T, direct: G, tokios: G,
): Promise<{ direct: Measured<T>; tokios: Measured<T> }> {
  await load(direct, WARMUP_SECONDS);
  await load(tokios, WARMUP_SECONDS);
  const parts = { direct: [] as T[], tokios: [] as T[] };
  const cpu = { direct: [] as CpuWindow[], tokios: [] as CpuWindow[] };
  for (let i = 0; i < SLICES; i++) {
    for (const side of i % 2 === 0 ? (['direct', 'tokios'] as const) : (['tokios', 'direct'] as const)) {
      meter.begin();
      parts[side].push(await load(side === 'direct' ? direct : tokios, SECONDS / SLICES));
      cpu[side].push(meter.end());
    }
  }
  return {
    direct: { result: merge(parts.direct), cpu: addWindows(cpu.direct) },
    tokios: { result: merge(parts.tokios), cpu: addWindows(cpu.tokios) },
  };
}

const PROCS = ['ingress', 'terminator', 'connector', 'nats', 'upstream', 'loadgen'] as const;

/**
 * A process's figure in a window. `connector` is both connector processes (each deployment's), of which only
 * one works at a time: the other one idles (a health check every few seconds).
 */
function procValue(m: Record<string, number>, p: (typeof PROCS)[number]): number {
  return p === 'connector' ? (m.connector ?? NaN) + (m['connector-ollama'] ?? NaN) : (m[p] ?? NaN);
}

function perUnit(cpu: CpuWindow, units: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const p of PROCS) {
    const v = procValue(cpu.perProcess, p);
    out[p] = v / units;
    if (Number.isFinite(v)) total += v;
  }
  out.total = total / units;
  out.foreign = cpu.foreign / units;
  return out;
}

async function idleTunnels(stack: Stack): Promise<{ tunnels: number; rssBefore: number; rssAfter: number; rssAfterNoGc: number; perTunnelBytes: number; clientRss: number }> {
  const pid = stack.terminator.pid;
  // RSS after a forced full GC, median of three readings: garbage left by the handshakes must not count.
  const settledRss = async (): Promise<number> => {
    await collectGarbage(stack.terminatorInspector);
    await sleep(300);
    const r: number[] = [];
    for (let i = 0; i < 3; i++) {
      r.push(rssBytes(pid));
      await sleep(100);
    }
    return r.sort((a, b) => a - b)[1]!;
  };
  const rssBefore = await settledRss();
  const cmd = withOpenFiles(IDLE_TUNNELS + 1_000, process.execPath, [join(LIB, 'idle-tunnels.js'), stack.tunnelUrl, stack.idleTokensFile, String(IDLE_TUNNELS)]);
  const client = spawnChild('idle-tunnels', cmd.cmd, cmd.args);
  const m = await client.waitFor(/ready (\d+) failed (\d+).*/, 180_000);
  log(`idle tunnels: ${m[0]}`);
  const tunnels = Number(m[1]);
  await sleep(500);
  const rssAfterNoGc = rssBytes(pid);
  const rssAfter = await settledRss();
  const clientRss = rssBytes(client.pid);
  await client.stop('SIGTERM');
  await sleep(500);
  return { tunnels, rssBefore, rssAfter, rssAfterNoGc, perTunnelBytes: (rssAfter - rssBefore) / Math.max(1, tunnels), clientRss };
}

// ---------------------------------------------------------------------------------------------------------------

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
const f3 = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : '-');
const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const pct = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : '-');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r, ri) => {
    const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

/** The translation phase's own table, its target and its JSON. */
function translationReport(tp: Measured<ProtocolStreamResult>, tt: Measured<ProtocolStreamResult>) {
  const p = tp.result;
  const t = tt.result;
  const ratio = t.chunksPerSec / p.chunksPerSec;
  const cpuP = perUnit(tp.cpu, p.chunks);
  const cpuT = perUnit(tt.cpu, t.chunks);
  const rows: string[][] = [['translation phase (both through Tokios)', 'passthrough', 'translated', 'translated vs passthrough']];
  rows.push([`content chunks/s (${STREAMS}x${STREAM_CHUNKS})`, int(p.chunksPerSec), int(t.chunksPerSec), pct(ratio)]);
  rows.push(['TTFC p50 / p99 (ms)', `${f1(p.ttfcP50)} / ${f1(p.ttfcP99)}`, `${f1(t.ttfcP50)} / ${f1(t.ttfcP99)}`, '']);
  rows.push(['streams complete / incomplete / errors', `${p.streams - p.incomplete} / ${p.incomplete} / ${p.errors}`, `${t.streams - t.incomplete} / ${t.incomplete} / ${t.errors}`, '']);
  for (const proc of ['connector', 'ingress', 'terminator', 'nats', 'total'] as const) {
    rows.push([`CPU µs per chunk: ${proc}`, f2(cpuP[proc]!), f2(cpuT[proc]!), `${cpuT[proc]! >= cpuP[proc]! ? '+' : ''}${f2(cpuT[proc]! - cpuP[proc]!)} µs`]);
  }
  // With every process CPU-bound on a shared machine, chunks/s follows total CPU per chunk: this ratio is the steadier one.
  const cpuRatio = cpuP.total! / cpuT.total!;
  rows.push(['chunks per CPU second (all Tokios processes + upstream + loadgen)', int(1e6 / cpuP.total!), int(1e6 / cpuT.total!), pct(cpuRatio)]);
  const check = {
    name: 'translation chunks/s vs passthrough', value: ratio, unit: 'ratio', target: `>= ${TARGETS.translateRatio}`, pass: ratio >= TARGETS.translateRatio,
  };
  const text = [
    `Translation: ${STREAMS} concurrent streams of ${STREAM_CHUNKS} chunks through Tokios; passthrough = OpenAI Chat in, OpenAI-compatible upstream;`,
    `translated = Anthropic Messages in (content_block_delta events counted), Ollama /api/chat NDJSON out; alternating slices.`,
    table(rows),
    `translation >= ${pct(TARGETS.translateRatio)} of passthrough chunks/s: ${pct(ratio)} ${check.pass ? 'PASS' : 'MISS'} (by CPU per chunk: ${pct(cpuRatio)})`,
  ].join('\n');
  const json = {
    passthrough: { ...p, ttfc: undefined },
    translated: { ...t, ttfc: undefined },
    chunksRatio: ratio,
    cpuRatio,
    cpuMicrosPerChunk: { passthrough: cpuP, translated: cpuT },
    wakeupsPerChunk: {
      passthrough: Object.fromEntries(PROCS.map((x) => [x, procValue(tp.cpu.wakeups, x) / p.chunks])),
      translated: Object.fromEntries(PROCS.map((x) => [x, procValue(tt.cpu.wakeups, x) / t.chunks])),
    },
  };
  return { check, text, json };
}

/** The slow-stream phase's table. */
function slowReport(r: SlowStreamsResult): string {
  const mb = (b: number): string => f1(b / 1048576);
  const rows: string[][] = [['slow streams', 'ingress', 'terminator', `connectors (${r.connectors})`, 'nats']];
  rows.push(['RSS before -> all open -> highest (MB)', ...(['ingress', 'terminator', 'connectors'] as const).map((k) => `${mb(r.rss[k].before)} -> ${mb(r.rss[k].open)} -> ${mb(r.rss[k].max)}`), '']);
  rows.push(['RSS per open stream (KB)', ...(['ingress', 'terminator', 'connectors'] as const).map((k) => f1(r.rss[k].perStreamBytes / 1024)), '']);
  rows.push(['CPU µs per chunk', ...(['ingress', 'terminator', 'connectors', 'nats'] as const).map((k) => f1(r.cpuMicrosPerChunk[k]))]);
  rows.push(['CPU µs per chunk, all streams open', ...(['ingress', 'terminator', 'connectors', 'nats'] as const).map((k) => f1(r.steadyCpuMicrosPerChunk[k]))]);
  rows.push(['CPU µs per chunk, bench upstream / client', `upstream ${f1(r.benchCpuMicrosPerChunk.upstream)}`, `client ${f1(r.benchCpuMicrosPerChunk.client)}`, '', '']);
  const nats = r.nats ? `NATS messages in: ${int(r.nats.inMsgs)} over the phase, ${f2(r.nats.inMsgs / Math.max(1, r.chunks))} per chunk, ${int(r.nats.inMsgs / Math.max(1, r.seconds))}/s` : undefined;
  return [
    `Slow streams: ${int(r.streams)} concurrent streams at 1 token/s through one ingress and one terminator (${SLOW_TOKENS} tokens each, opened over ${SLOW_RAMP_MS / 1000} s);`,
    `added latency per chunk = arrival at the client - emit at the upstream (${int(r.chunks)} chunks): p50 ${f2(r.p50Ms)} ms, p99 ${f2(r.p99Ms)} ms, p99.9 ${f2(r.p999Ms)} ms, max ${f2(r.maxMs)} ms;`,
    `steady state (${int(r.steadyChunks)} chunks emitted once all streams were open): p50 ${f2(r.steadyP50Ms)} ms, p99 ${f2(r.steadyP99Ms)} ms, max ${f2(r.steadyMaxMs)} ms;`,
    `p99 per second of the run (ms): ${r.p99BySecond.map((x) => (x === null ? '-' : x.toFixed(0))).join(' ')}`,
    `streams ok ${int(r.ok)}, errors ${int(r.errors)}${r.firstError ? ` (first: ${r.firstError})` : ''}; ${f1(r.seconds)} s`,
    ...(nats ? [nats] : []),
    table(rows),
    '',
    loopReport(r.loops, r.cpuWait),
  ].join('\n');
}

/** Each process's event-loop delay and GC pauses over the ramp and the steady state (loop-probe.ts). */
function loopReport(loops: { ramp: TierLoops; steady: TierLoops }, wait: SlowStreamsResult['cpuWait']): string {
  const tiers: Tier[] = ['ingress', 'terminator', 'connectors', 'upstream', 'client'];
  const gcCell = (p: TierLoops[Tier], kind: string): string => {
    const g = p?.gc[kind];
    return g ? `${g.count} / ${f1(g.totalMs)} / ${f1(g.maxMs)}` : '0';
  };
  const rows: string[][] = [['event loop and GC', ...tiers]];
  for (const w of ['ramp', 'steady'] as const) {
    const l = loops[w];
    rows.push([`${w}: loop delay p50 / p99 / max (ms)`, ...tiers.map((t) => (l[t] ? `${f1(l[t]!.loopP50Ms)} / ${f1(l[t]!.loopP99Ms)} / ${f1(l[t]!.loopMaxMs)}` : '-'))]);
    rows.push([`${w}: scavenges n / total / max (ms)`, ...tiers.map((t) => gcCell(l[t], 'scavenge'))]);
    rows.push([`${w}: mark-compacts n / total / max (ms)`, ...tiers.map((t) => gcCell(l[t], 'markCompact'))]);
  }
  const waitCell = (t: Tier | 'nats'): string => {
    const x = wait[t];
    return x ? `${f2(x.perRunMs)} / ${f1(x.share * 100)} %` : '-';
  };
  rows.push(['steady: waiting for a CPU, per run (ms) / share', ...tiers.map(waitCell)]);
  return [
    table(rows),
    '(loop delay: how late a 5 ms timer fired, beyond its 5 ms; connectors: the worst of them, GC summed, max of maxima; client: steady state only)',
    `(waiting for a CPU: runnable, not running, from /proc/<pid>/schedstat; nats-server ${waitCell('nats')}; connectors summed)`,
  ].join('\n');
}

async function main(): Promise<void> {
  const hard = setTimeout(() => {
    log(`hard time limit of ${HARD_LIMIT_MS / 1000} s reached; killing everything`);
    killAllNow();
    process.exit(3);
  }, HARD_LIMIT_MS);
  hard.unref();
  const t0 = Date.now();
  loadAvgAtStart = loadavg().map((x) => x.toFixed(1)).join(' ');

  log('starting nats-server, upstream, terminator, ingress, connector');
  const stack = await startStack();
  const pids = (): Record<string, number> => ({
    ingress: stack.ingress.pid, terminator: stack.terminator.pid, connector: stack.connector.pid, 'connector-ollama': stack.connectorOllama.pid,
    nats: stack.nats.pid, upstream: stack.upstream.pid, loadgen: process.pid,
  });
  const meter = new CpuMeter(pids);
  const direct = directTarget(stack);
  const tokios = tokiosTarget(stack);

  if (PHASES.has('idle')) log(`idle tunnels: opening ${IDLE_TUNNELS} to the terminator`);
  const idle = PHASES.has('idle') ? await idleTunnels(stack) : { tunnels: 0, rssBefore: NaN, rssAfter: NaN, rssAfterNoGc: NaN, perTunnelBytes: NaN, clientRss: NaN };

  const fixed: { c: number; direct: Measured<FixedResult>; tokios: Measured<FixedResult> }[] = [];
  for (const c of CONCURRENCY) {
    if (!PHASES.has(`c${c}`)) continue;
    log(`non-streamed, concurrency ${c}: direct and through Tokios`);
    const r = await sideBySide(meter, (t, secs) => fixedLoad(t, BODY, c, secs), mergeFixed, direct, tokios);
    fixed.push({ c, ...r });
  }

  const skipped: Measured<StreamResult> = {
    result: { streams: 0, chunks: 0, chunksPerSec: NaN, ttfcP50: NaN, ttfcP99: NaN, errors: 0, seconds: 0 },
    cpu: { perProcess: {}, sys: {}, wakeups: {}, foreign: NaN, wallMs: 0 },
  };
  let sd = skipped;
  let st = skipped;
  if (PHASES.has('stream')) {
    log(`streamed, ${STREAMS} streams of ${STREAM_CHUNKS} chunks: direct and through Tokios`);
    const r = await sideBySide(meter, (t, secs) => streamLoad(t, STREAM_BODY, STREAMS, secs), mergeStreams, direct, tokios);
    sd = r.direct;
    st = r.tokios;
  }

  // Translation: the same streams through Tokios, once as OpenAI passthrough, once Anthropic in / Ollama out.
  let tp: Measured<ProtocolStreamResult> | undefined;
  let tt: Measured<ProtocolStreamResult> | undefined;
  if (PHASES.has('translate')) {
    log(`translation, ${STREAMS} streams of ${STREAM_CHUNKS} chunks through Tokios: OpenAI passthrough and Anthropic in / Ollama out`);
    const r = await sideBySide(meter, (t, secs) => protocolStreamLoad(t, STREAMS, secs), mergeProtocolStreams, passthroughStreams(stack), translatedStreams(stack));
    tp = r.direct;
    tt = r.tokios;
  }

  let slow: SlowStreamsResult | undefined;
  if (PHASES.has('slow')) {
    log(`slow streams: ${SLOW_STREAMS} concurrent streams at 1 token/s (${SLOW_TOKENS} tokens each) through one ingress and one terminator`);
    slow = await slowStreams({
      cli: CLI, lib: LIB, env: stack.env, cfgDir: stack.cfgDir, tunnelUrl: stack.tunnelUrl, ingressUrl: stack.ingressUrl, apiKey: stack.apiKey, token: stack.slowToken,
      model: SLOW_MODEL, pids: { ingress: stack.ingress.pid, terminator: stack.terminator.pid, nats: stack.nats.pid }, streams: SLOW_STREAMS, tokens: SLOW_TOKENS,
      rampMs: SLOW_RAMP_MS, log, settle: () => collectGarbage(stack.terminatorInspector), natsMonitorUrl: stack.natsMonitorUrl, nodeArgs,
    });
  }

  // ----- report -----
  const rows: string[][] = [['metric', 'direct', 'tokios', 'tokios vs direct']];
  for (const f of fixed) {
    const d = f.direct.result;
    const t = f.tokios.result;
    rows.push([`c=${f.c} p50 latency (ms)`, f3(d.p50), f3(t.p50), `+${f3(t.p50 - d.p50)} ms`]);
    rows.push([`c=${f.c} p99 latency (ms)`, f3(d.p99), f3(t.p99), `+${f3(t.p99 - d.p99)} ms`]);
    rows.push([`c=${f.c} requests/s`, int(d.rps), int(t.rps), pct(t.rps / d.rps)]);
    if (d.errors + d.non2xx + t.errors + t.non2xx > 0) rows.push([`c=${f.c} errors / non-2xx`, `${d.errors} / ${d.non2xx}`, `${t.errors} / ${t.non2xx}`, '']);
  }
  rows.push([`stream TTFC p50 (ms)`, f2(sd.result.ttfcP50), f2(st.result.ttfcP50), `+${f2(st.result.ttfcP50 - sd.result.ttfcP50)} ms`]);
  rows.push([`stream TTFC p99 (ms)`, f2(sd.result.ttfcP99), f2(st.result.ttfcP99), `+${f2(st.result.ttfcP99 - sd.result.ttfcP99)} ms`]);
  rows.push([`stream chunks/s (${STREAMS}x${STREAM_CHUNKS})`, int(sd.result.chunksPerSec), int(st.result.chunksPerSec), pct(st.result.chunksPerSec / sd.result.chunksPerSec)]);
  rows.push([`streams completed / errors`, `${sd.result.streams} / ${sd.result.errors}`, `${st.result.streams} / ${st.result.errors}`, '']);
  rows.push([`idle tunnels: terminator RSS (after GC)`, '', `${f1(idle.rssBefore / 1048576)} -> ${f1(idle.rssAfter / 1048576)} MB`, `${idle.tunnels} tunnels`]);
  rows.push([`RSS per idle tunnel (KB)`, '', f1(idle.perTunnelBytes / 1024), `${f1((idle.rssAfterNoGc - idle.rssBefore) / 1024 / Math.max(1, idle.tunnels))} before that GC`]);

  const cpuRows: string[][] = [['CPU µs per unit', ...PROCS, 'total', 'other load']];
  const addCpu = (label: string, cpu: CpuWindow, units: number): void => {
    const u = perUnit(cpu, units);
    cpuRows.push([label, ...PROCS.map((p) => f1(u[p]!)), f1(u.total!), f1(u.foreign!)]);
  };
  for (const f of fixed) {
    addCpu(`c=${f.c} direct, per request`, f.direct.cpu, f.direct.result.requests);
    addCpu(`c=${f.c} tokios, per request`, f.tokios.cpu, f.tokios.result.requests);
  }
  addCpu('stream direct, per chunk', sd.cpu, sd.result.chunks);
  addCpu('stream tokios, per chunk', st.cpu, st.result.chunks);
  if (tp && tt) {
    addCpu('translate passthrough, per chunk', tp.cpu, tp.result.chunks);
    addCpu('translate anthropic<-ollama, per chunk', tt.cpu, tt.result.chunks);
  }

  const c1 = fixed.find((f) => f.c === 1);
  const added = c1 ? c1.tokios.result.p50 - c1.direct.result.p50 : NaN;
  const wakeRows: string[][] = [['wake-ups per unit / kernel share of CPU', ...PROCS, 'total']];
  const addWake = (label: string, cpu: CpuWindow, units: number): void => {
    let total = 0;
    const cells = PROCS.map((p) => {
      const v = procValue(cpu.wakeups, p) / units;
      if (Number.isFinite(v)) total += v;
      return `${f2(v)} / ${((100 * procValue(cpu.sys, p)) / procValue(cpu.perProcess, p)).toFixed(0)}%`;
    });
    wakeRows.push([label, ...cells, f2(total)]);
  };
  for (const f of fixed) addWake(`c=${f.c} tokios, per request`, f.tokios.cpu, f.tokios.result.requests);
  addWake('stream tokios, per chunk', st.cpu, st.result.chunks);
  if (tp && tt) {
    addWake('translate passthrough, per chunk', tp.cpu, tp.result.chunks);
    addWake('translate anthropic<-ollama, per chunk', tt.cpu, tt.result.chunks);
  }

  const checks = [
    { name: 'added p50 at c=1', value: added, unit: 'ms', target: `<= ${TARGETS.addedP50Ms}`, pass: added <= TARGETS.addedP50Ms },
    ...fixed.filter((f) => f.c >= 16).map((f) => {
      const r = f.tokios.result.rps / f.direct.result.rps;
      return { name: `RPS ratio at c=${f.c}`, value: r, unit: 'ratio', target: `>= ${TARGETS.rpsRatio}`, pass: r >= TARGETS.rpsRatio };
    }),
    (() => {
      const r = st.result.chunksPerSec / sd.result.chunksPerSec;
      return { name: 'chunks/s ratio', value: r, unit: 'ratio', target: `>= ${TARGETS.chunksRatio}`, pass: r >= TARGETS.chunksRatio };
    })(),
    { name: `RSS per idle tunnel (${int(idle.tunnels)} tunnels)`, value: idle.perTunnelBytes / 1024, unit: 'KB', target: `<= ${TARGETS.rssPerTunnelKB}`, pass: idle.perTunnelBytes / 1024 <= TARGETS.rssPerTunnelKB },
  ];
  const translation = tp && tt ? translationReport(tp, tt) : undefined;
  if (translation) checks.push(translation.check);
  const slowText = slow ? slowReport(slow) : undefined;
  // Holding the streams is the target: the steady state, once all are open (the ramp's own figure is printed above).
  if (slow) checks.push({ name: `p99 added per chunk, ${int(slow.streams)} slow streams held`, value: slow.steadyP99Ms, unit: 'ms', target: `<= ${TARGETS.slowP99Ms}`, pass: slow.errors === 0 && slow.steadyP99Ms <= TARGETS.slowP99Ms });
  const checkRows: string[][] = [['target', 'measured', 'goal', '']];
  for (const c of checks) checkRows.push([c.name, c.unit === 'ratio' ? pct(c.value) : `${f3(c.value)} ${c.unit}`, c.unit === 'ratio' ? `>= ${pct(Number(c.target.slice(3)))}` : `${c.target} ${c.unit}`, c.pass ? 'PASS' : 'MISS']);

  const out = [
    '',
    `Tokios benchmark — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; per phase and side: ${WARMUP_SECONDS} s warm-up, then ${SECONDS} s measured in ${SLICES} slices alternating direct/Tokios; load average at start ${loadAvgAtStart}`,
    '',
    table(rows),
    '',
    ...(translation ? [translation.text, ''] : []),
    ...(slowText ? [slowText, ''] : []),
    table(cpuRows),
    '("other load" = CPU used by processes outside the bench during the phase, per unit: a noisy machine shows here)',
    '',
    table(wakeRows),
    '(wake-ups = voluntary context switches: how often a process slept waiting for work; kernel share = stime / (utime + stime))',
    '',
    table(checkRows),
    '',
  ].join('\n');
  process.stdout.write(out);

  const json = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgAtStart: loadAvgAtStart, loadavgAtEnd: loadavg() },
    settings: { seconds: SECONDS, slices: SLICES, warmupSeconds: WARMUP_SECONDS, concurrency: CONCURRENCY, streams: STREAMS, streamChunks: STREAM_CHUNKS, idleTunnels: IDLE_TUNNELS },
    nonStreamed: fixed.map((f) => ({
      concurrency: f.c,
      direct: { ...f.direct.result, latencies: undefined },
      tokios: { ...f.tokios.result, latencies: undefined },
      addedP50Ms: f.tokios.result.p50 - f.direct.result.p50,
      rpsRatio: f.tokios.result.rps / f.direct.result.rps,
      cpuMicrosPerRequest: { direct: perUnit(f.direct.cpu, f.direct.result.requests), tokios: perUnit(f.tokios.cpu, f.tokios.result.requests) },
      wakeupsPerRequest: Object.fromEntries(PROCS.map((p) => [p, procValue(f.tokios.cpu.wakeups, p) / f.tokios.result.requests])),
    })),
    streamed: {
      direct: { ...sd.result, ttfc: undefined },
      tokios: { ...st.result, ttfc: undefined },
      chunksRatio: st.result.chunksPerSec / sd.result.chunksPerSec,
      cpuMicrosPerChunk: { direct: perUnit(sd.cpu, sd.result.chunks), tokios: perUnit(st.cpu, st.result.chunks) },
      wakeupsPerChunk: Object.fromEntries(PROCS.map((p) => [p, procValue(st.cpu.wakeups, p) / st.result.chunks])),
    },
    translation: translation?.json,
    idleTunnels: idle,
    slowStreams: slow,
    targets: checks,
    elapsedSeconds: (Date.now() - t0) / 1000,
  };
  await mkdir(dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, `${JSON.stringify(json, null, 2)}\n`);
  log(`results written to ${RESULTS} (${json.elapsedSeconds.toFixed(0)} s)`);
}

/** The floor chain column, run after this bench's own stack is down so the two never share the CPU. */
async function floor(): Promise<void> {
  const r = await runFloor({ root: ROOT, log });
  if (r.skipped) {
    process.stdout.write(`\nfloor chain: skipped (${r.skipped})\n`);
    return;
  }
  process.stdout.write(`\nTokios vs the bare floor chain of the same hops (../shared/floor-bench, medians):\n\n${r.text}\n`);
  await mkdir(dirname(FLOOR_RESULTS), { recursive: true });
  await writeFile(FLOOR_RESULTS, `${JSON.stringify({ at: new Date().toISOString(), checks: r.checks }, null, 2)}\n`);
  log(`floor results written to ${FLOOR_RESULTS}`);
}

/** Cache-affine placement vs load only (bench/affinity.ts), on its own stack after the main one is down. */
async function affinity(): Promise<void> {
  const r = await runAffinity({ root: ROOT, natsBin: NATS_BIN, log });
  process.stdout.write(`\n${r.text}\n`);
  await mkdir(dirname(AFFINITY_RESULTS), { recursive: true });
  await writeFile(AFFINITY_RESULTS, `${JSON.stringify({ at: new Date().toISOString(), machine: { loadavg: loadavg() }, ...(r.json as object) }, null, 2)}\n`);
  log(`affinity results written to ${AFFINITY_RESULTS}`);
  if (r.checks.some((c) => !c.pass)) log('affinity: a target was missed (see the table)');
}

let code = 0;
try {
  if (STACK_PHASES.some((p) => PHASES.has(p))) await main();
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  code = 1;
} finally {
  await stopAll(PROFILE.size > 0 ? 8_000 : 1_500).catch(() => killAllNow());
}
if (code === 0 && PHASES.has('affinity')) {
  try {
    await affinity();
  } catch (err) {
    log(`affinity phase failed: ${(err as Error).stack ?? String(err)}`);
    code = 1;
  } finally {
    await stopAll(1_500).catch(() => killAllNow());
  }
}
if (code === 0 && PHASES.has('floor')) {
  try {
    await floor();
  } catch (err) {
    log(`floor chain failed: ${(err as Error).stack ?? String(err)}`);
    code = 1;
  }
}
process.exit(code);
