/**
 * node bench/dist/nats-census.js — counts every NATS message the fabric sends, by kind, at small N, for the
 * scale model (docs/SCALING.md). Starts nats-server, M terminators, N ingress replicas (then one more), connectors
 * for D deployments and a fast scripted upstream; a wildcard subscriber (`>`) sees each published message once and
 * files it by subject and, for frames, by kind. Windows: idle (background traffic only), then a fixed request rate
 * (half streamed) spread over the ingress replicas with a rate-limited key (so quota sharing works as in
 * production), plus a steady trickle of GET /v1/models (status scatter-gather); again with one more ingress.
 *
 * Knobs: CENSUS_RPS (40), CENSUS_SECONDS (8), CENSUS_TERMINATORS (2), CENSUS_INGRESS (2, then +1), CENSUS_MODELS_RPS (2).
 * Prints a table per window and writes bench/results/nats-census.json.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from 'nats';
import { freePort } from 'tokios';
import { SqliteStore } from '@tokios/shared/store';
import { frameKindName } from '@tokios/shared/protocol';
import { spawnChild, stopAll, killAllNow, type Child } from './lib/children.js';
import { cpuMicros } from './lib/procstat.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..'); // bench/dist
const CLI = join(ROOT, 'services/cli/dist/src/main.js');
const LIB = join(HERE, 'lib');
const OUT = join(ROOT, 'bench/results/nats-census.json');
const NATS_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
const RPS = Number(process.env.CENSUS_RPS ?? 40);
const SECONDS = Number(process.env.CENSUS_SECONDS ?? 8);
const TERMINATORS = Number(process.env.CENSUS_TERMINATORS ?? 2);
const INGRESS = Number(process.env.CENSUS_INGRESS ?? 2);
const MODELS_RPS = Number(process.env.CENSUS_MODELS_RPS ?? 2);
const DEPLOYMENTS = 2;
const STREAM_CHUNKS = 16;
const SECRET = 'census-fabric-secret-0123456789abcdef01234567';
const log = (s: string): void => void process.stderr.write(`[census] ${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The kind of one message: the subject family, and the frame kind for frames. */
function kindOf(subject: string, data: Uint8Array): string {
  if (subject.startsWith('tokios.req.')) return 'request (tokios.req)';
  if (subject.startsWith('tokios.in.')) return `T->I ${frameKindName(data[0] ?? 0)}`;
  if (subject.startsWith('tokios.term.')) return `I->T ${frameKindName(data[0] ?? 0)}`;
  if (subject === 'tokios.quota.delta') return quotaKind(data);
  if (subject.startsWith('tokios.presence.')) return 'presence';
  if (subject.startsWith('tokios.affinity.')) return 'affinity homes';
  if (subject.startsWith('tokios.ctl.')) return `control ${subject.slice('tokios.ctl.'.length)}`;
  if (subject === 'tokios.status.query') return 'status query';
  if (subject.startsWith('_INBOX.')) return 'replies (_INBOX: status answers)';
  return `other ${subject.split('.').slice(0, 2).join('.')}`;
}

function quotaKind(data: Uint8Array): string {
  try {
    const d = (JSON.parse(Buffer.from(data).toString('utf8')) as { d?: unknown[] }).d;
    return Array.isArray(d) && d.length > 0 ? 'quota delta (with counts)' : 'quota delta (empty: heartbeat)';
  } catch {
    return 'quota delta (unreadable)';
  }
}

class Census {
  counts = new Map<string, { n: number; bytes: number }>();
  constructor(nc: NatsConnection) {
    nc.subscribe('>', {
      callback: (_e, m) => {
        const k = kindOf(m.subject, m.data);
        const c = this.counts.get(k) ?? { n: 0, bytes: 0 };
        c.n++;
        c.bytes += m.data.length + m.subject.length;
        this.counts.set(k, c);
      },
    });
  }
  take(): Map<string, { n: number; bytes: number }> {
    const c = this.counts;
    this.counts = new Map();
    return c;
  }
}

async function main(): Promise<void> {
  const hard = setTimeout(() => (killAllNow(), process.exit(3)), 5 * 60_000);
  hard.unref();
  const dataDir = await mkdtemp(join(tmpdir(), 'tokios-census-'));
  const store = await SqliteStore.open(dataDir, { pruneIntervalMs: 0 });
  const tenant = await store.createTenant({ name: 'census' });
  // Limits far above the load: never refused, but counted and shared like any limited key.
  const key = await store.createApiKey({ tenantId: tenant.id, name: 'census', limits: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 } });
  const deps: { name: string; token: string }[] = [];
  for (let i = 0; i < DEPLOYMENTS; i++) {
    const d = await store.createDeployment({ tenantId: tenant.id, name: `census-${i}` });
    deps.push({ name: d.name, token: (await store.createTunnelToken({ deploymentId: d.id })).secret });
  }
  await store.close();

  const natsPort = await freePort();
  const nats = spawnChild('nats-server', NATS_BIN, ['-a', '127.0.0.1', '-p', String(natsPort)]);
  await nats.waitFor(/Server is ready/);
  const common = { PATH: process.env.PATH, LOG_LEVEL: 'info', NATS_URL: `nats://127.0.0.1:${natsPort}`, TOKIOS_DATA_DIR: dataDir, TOKIOS_FABRIC_SECRET: SECRET };
  const nc = await connect({ servers: common.NATS_URL });
  const census = new Census(nc);

  const upstream = spawnChild('upstream', process.execPath, [join(LIB, 'upstream.js'), '0', String(STREAM_CHUNKS)]);
  const upstreamUrl = `http://127.0.0.1:${(await upstream.waitFor(/upstream listening (\d+)/))[1]}`;

  const terminators: { child: Child; url: string }[] = [];
  for (let i = 0; i < TERMINATORS; i++) {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}/v1/tunnel`;
    const child = spawnChild(`terminator-${i}`, process.execPath, [CLI, 'terminator'], {
      env: { ...common, TOKIOS_TERMINATOR_HOST: '127.0.0.1', TOKIOS_TERMINATOR_PORT: String(port), TOKIOS_PUBLIC_TUNNEL_URL: url },
    });
    await child.waitFor(/terminator listening/, 60_000);
    terminators.push({ child, url });
  }
  const ingress: { child: Child; url: string }[] = [];
  const addIngress = async (): Promise<void> => {
    const child = spawnChild(`ingress-${ingress.length}`, process.execPath, [CLI, 'ingress'], { env: { ...common, TOKIOS_INGRESS_HOST: '127.0.0.1', TOKIOS_INGRESS_PORT: '0' } });
    const port = (await child.waitFor(/"port":(\d+)[^\n]*ingress listening/, 60_000))[1];
    ingress.push({ child, url: `http://127.0.0.1:${port}` });
  };
  for (let i = 0; i < INGRESS; i++) await addIngress();

  const cfgDir = await mkdtemp(join(tmpdir(), 'tokios-census-conn-'));
  const connectors: Child[] = [];
  for (const [i, d] of deps.entries()) {
    const cfg = join(cfgDir, `c${i}.json`);
    // Each deployment's connector dials a different terminator first; with peers it spreads its 2 tunnels over both.
    await writeFile(cfg, JSON.stringify({ tunnel_token: d.token, upstream: upstreamUrl, gateway: terminators[i % TERMINATORS]!.url, upstream_kind: 'openai', max_concurrency: 256 }));
    const c = spawnChild(`connector-${i}`, process.execPath, [CLI, 'connector', '--config', cfg], { env: { ...common, LOG_LEVEL: 'warn' } });
    await c.waitFor(/Tunnel established/, 60_000);
    connectors.push(c);
  }
  const headers = { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' };
  let sessions = 0;
  const call = async (url: string, model: string, stream: boolean): Promise<boolean> => {
    // A new session (affinity key) every 10th request; the others continue earlier ones.
    const session = `s${Math.floor(sessions++ / 10)}`;
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model, stream, user: session, messages: [{ role: 'user', content: 'hi' }], max_tokens: STREAM_CHUNKS }) });
    await r.arrayBuffer();
    return r.ok;
  };
  // Interest spreads asynchronously: every ingress answers for every deployment before counting starts.
  for (const i of ingress) for (const d of deps) for (let n = 0; !(await call(i.url, d.name, false)); n++) if (n > 150) throw new Error('no answer through the stack');
  await sleep(3_000); // let connectors settle their tunnels over the terminators

  const pids = (): number[] => [nats.pid, ...terminators.map((t) => t.child.pid), ...ingress.map((i) => i.child.pid)];
  const windows: { name: string; seconds: number; requests: number; ingress: number; counts: Record<string, { perSec: number; perRequest: number; bytesPerSec: number }>; cpu: Record<string, number> }[] = [];
  const measure = async (name: string, load: boolean): Promise<void> => {
    log(`${name}: ${ingress.length} ingress, ${TERMINATORS} terminators, ${load ? `${RPS} req/s (half streamed, ${STREAM_CHUNKS} chunks) + ${MODELS_RPS} GET /v1/models/s` : 'no requests'}, ${SECONDS} s`);
    census.take();
    const cpu0 = new Map(pids().map((p) => [p, cpuMicros(p)]));
    const t0 = performance.now();
    let requests = 0;
    let failed = 0;
    const inflight: Promise<void>[] = [];
    if (load) {
      const total = RPS * SECONDS;
      const models = MODELS_RPS * SECONDS;
      for (let n = 0, m = 0; n < total; n++) {
        const due = t0 + (n * 1000) / RPS;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const i = ingress[n % ingress.length]!;
        inflight.push(call(i.url, deps[n % DEPLOYMENTS]!.name, n % 2 === 0).then((ok) => void (ok ? requests++ : failed++)));
        if (m < models && n * models >= m * total) {
          m++;
          inflight.push(fetch(`${i.url}/v1/models`, { headers }).then((r) => r.arrayBuffer()).then(() => undefined));
        }
      }
      await Promise.all(inflight);
    } else await sleep(SECONDS * 1000);
    const seconds = (performance.now() - t0) / 1000;
    await sleep(200);
    const counts = census.take();
    const cpu: Record<string, number> = {};
    for (const [label, pid] of [['nats', nats.pid], ...terminators.map((t, i) => [`terminator-${i}`, t.child.pid]), ...ingress.map((x, i) => [`ingress-${i}`, x.child.pid])] as [string, number][]) {
      cpu[label] = (cpuMicros(pid) - (cpu0.get(pid) ?? NaN)) / seconds / 1e6;
    }
    const out: (typeof windows)[number]['counts'] = {};
    for (const [k, c] of [...counts].sort((a, b) => b[1].n - a[1].n)) out[k] = { perSec: c.n / seconds, perRequest: requests ? c.n / requests : NaN, bytesPerSec: c.bytes / seconds };
    if (failed) log(`${failed} requests failed`);
    windows.push({ name, seconds, requests, ingress: ingress.length, counts: out, cpu });
    const rows = Object.entries(out).map(([k, v]) => `  ${k.padEnd(36)} ${v.perSec.toFixed(1).padStart(9)}/s ${(load ? v.perRequest.toFixed(2) : '-').padStart(7)}/req ${(v.bytesPerSec / 1024).toFixed(1).padStart(9)} KiB/s`);
    process.stdout.write(`\n${name} (${ingress.length} ingress, ${TERMINATORS} terminators; ${requests} requests in ${seconds.toFixed(1)} s)\n${rows.join('\n')}\n  CPU (cores): ${Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}\n`);
  };
  await measure(`idle, N=${INGRESS}`, false);
  await measure(`load, N=${INGRESS}`, true);
  await addIngress();
  await sleep(2_500); // the new replica is learned through its hello and heartbeats
  await measure(`idle, N=${INGRESS + 1}`, false);
  await measure(`load, N=${INGRESS + 1}`, true);
  await nc.close();
  await mkdir(dirname(OUT), { recursive: true });
  await writeFile(OUT, `${JSON.stringify({ at: new Date().toISOString(), rps: RPS, terminators: TERMINATORS, deployments: DEPLOYMENTS, streamChunks: STREAM_CHUNKS, windows }, null, 2)}\n`);
  log(`written ${OUT}`);
}

let code = 0;
try {
  await main();
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  code = 1;
} finally {
  await stopAll(1_500).catch(() => killAllNow());
}
process.exit(code);
