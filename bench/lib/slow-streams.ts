/**
 * The slow-stream phase: `streams` (5,000) concurrent streams at 1 token/s through one ingress and one terminator.
 * Its own slow upstream and connectors (each under the 1,024 sockets its model-server agent opens, so several
 * share the streams, as several connectors of one deployment would), its own load generator process.
 * Reports the latency the chain added to each chunk (arrival at the client minus emit at the upstream, one
 * machine, one clock), the RSS each tier grew by per open stream, and whether memory stayed flat while they ran.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnChild, type Child } from './children.js';
import { withOpenFiles } from './fd-limit.js';
import { cpuMicros, rssBytes, runQueue } from './procstat.js';
import { loopProbeArgs, readProbes, signalProbes } from './loop-probe-file.js';
import type { GcStat, LoopProbe } from './loop-window.js';

export interface SlowStreamsSetup {
  cli: string;
  lib: string;
  /** Environment of the stack's processes (NATS_URL, TOKIOS_DATA_DIR, LOG_LEVEL). */
  env: NodeJS.ProcessEnv;
  cfgDir: string;
  tunnelUrl: string;
  ingressUrl: string;
  apiKey: string;
  token: string;
  model: string;
  pids: { ingress: number; terminator: number; nats: number };
  streams: number;
  tokens: number;
  rampMs: number;
  /** Forces a full GC in the terminator (its inspector) before the first RSS reading: an earlier phase's garbage must not count. */
  settle?(): Promise<void>;
  /** nats-server's monitoring endpoint: the messages it carried over the phase are reported when given. */
  natsMonitorUrl?: string;
  /** Extra node arguments for a child by its name (`slow-connector-<i>`): BENCH_PROFILE's --cpu-prof. */
  nodeArgs?(name: string): string[];
  log(s: string): void;
}

export interface SlowStreamsResult {
  streams: number;
  ok: number;
  errors: number;
  firstError: string;
  chunks: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** The same over the chunks emitted once every stream was open (no request being set up beside them). */
  steadyChunks: number;
  steadyP50Ms: number;
  steadyP99Ms: number;
  steadyMaxMs: number;
  /** p99 (ms) of the chunks emitted in each second of the run. */
  p99BySecond: (number | null)[];
  connectors: number;
  /** RSS (bytes) before the streams, with all of them open, and the highest seen while they ran. */
  rss: Record<'ingress' | 'terminator' | 'connectors', { before: number; open: number; max: number; perStreamBytes: number }>;
  /** CPU µs per content chunk over the phase, per tier (the ramp's request set-up and fresh processes' JIT included). */
  cpuMicrosPerChunk: Record<'ingress' | 'terminator' | 'connectors' | 'nats', number>;
  /**
   * The same from the moment every stream was open to the end, per chunk emitted then: what a token costs once no
   * request is being set up (streams ending, End and teardown, still count). NaN when no stream opened.
   */
  steadyCpuMicrosPerChunk: Record<'ingress' | 'terminator' | 'connectors' | 'nats', number>;
  /** CPU µs per chunk of the bench's own processes: the slow upstream and the load generator (its start included). */
  benchCpuMicrosPerChunk: Record<'upstream' | 'client', number>;
  /**
   * Event-loop delay and GC pauses per process (loop-probe.ts), while the streams were being opened (`ramp`) and
   * once all were open (`steady`): which process held the chunks back. Connectors: the worst of them, GC summed.
   */
  loops: { ramp: TierLoops; steady: TierLoops };
  /**
   * Once every stream was open: how long each process's event loop stood runnable waiting for a CPU per time it was
   * put on one (ms), and that wait as a share of the window (connectors: all of them, per run and summed). A chunk
   * passes five such processes; what they wait is added to it whatever the code does.
   */
  cpuWait: Partial<Record<Tier | 'nats', { perRunMs: number; share: number }>>;
  /** Messages published into NATS over the phase (every Request, answer frame, heartbeat…), from /varz. */
  nats?: { inMsgs: number; outMsgs: number };
  seconds: number;
}

export type Tier = 'ingress' | 'terminator' | 'connectors' | 'upstream' | 'client';
export type TierLoops = Partial<Record<Tier, LoopProbe>>;

/** The connectors' windows as one: the worst delay of any, GC pauses summed (max of the maxima). */
function merge(ps: (LoopProbe | undefined)[]): LoopProbe | undefined {
  const got = ps.filter((p): p is LoopProbe => p !== undefined);
  if (got.length === 0) return undefined;
  const gc: Record<string, GcStat> = {};
  for (const p of got) {
    for (const [k, g] of Object.entries(p.gc)) {
      const m = (gc[k] ??= { count: 0, totalMs: 0, maxMs: 0 });
      m.count += g.count;
      m.totalMs += g.totalMs;
      m.maxMs = Math.max(m.maxMs, g.maxMs);
    }
  }
  const worst = (f: (p: LoopProbe) => number): number => Math.max(...got.map(f));
  return {
    pid: -1, seconds: worst((p) => p.seconds), loopP50Ms: worst((p) => p.loopP50Ms), loopP99Ms: worst((p) => p.loopP99Ms), loopMaxMs: worst((p) => p.loopMaxMs),
    samples: got.reduce((n, p) => n + p.samples, 0), gc,
  };
}

interface Varz {
  in_msgs: number;
  out_msgs: number;
}

async function varz(url: string | undefined): Promise<Varz | undefined> {
  if (!url) return undefined;
  try {
    const r = await fetch(`${url}/varz`);
    return (await r.json()) as Varz;
  } catch {
    return undefined;
  }
}

/** Streams one connector takes: under its model-server agent's 1,024 sockets (BENCH_SLOW_PER_CONNECTOR: fewer, for more tunnels). */
const PER_CONNECTOR = Number(process.env.BENCH_SLOW_PER_CONNECTOR ?? 1_000);

export async function slowStreams(s: SlowStreamsSetup): Promise<SlowStreamsResult> {
  const children: Child[] = [];
  try {
    const up = withOpenFiles(s.streams + 1_000, process.execPath, [...loopProbeArgs(), join(s.lib, 'slow-upstream.js'), '0', String(s.tokens)]);
    const upstream = spawnChild('slow-upstream', up.cmd, up.args);
    children.push(upstream);
    const upstreamUrl = `http://127.0.0.1:${(await upstream.waitFor(/slow upstream listening (\d+)/))[1]}`;

    // 20 % spare capacity, so placement never has to wait for a free connector.
    const count = Math.ceil((s.streams * 1.2) / PER_CONNECTOR);
    const connectors = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const cfg = join(s.cfgDir, `slow-${i}.json`);
        await writeFile(cfg, JSON.stringify({ tunnel_token: s.token, upstream: upstreamUrl, gateway: s.tunnelUrl, upstream_kind: 'openai', max_concurrency: PER_CONNECTOR, tunnels: 1 }));
        const name = `slow-connector-${i}`;
        const c = spawnChild(name, process.execPath, [...(s.nodeArgs?.(name) ?? []), ...loopProbeArgs(), s.cli, 'connector', '--config', cfg], { env: s.env });
        children.push(c);
        // Several node processes starting at once on a shared machine: give them time.
        await c.waitFor(/Tunnel established/, 90_000);
        return c;
      }),
    );
    // Interest in the deployment's subject spreads asynchronously: one good answer first.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await fetch(`${s.ingressUrl}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: s.model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await r.arrayBuffer();
      if (r.ok) break;
      if (Date.now() > deadline) throw new Error(`slow deployment: no answer through Tokios (${r.status})`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const connectorPids = connectors.map((c) => c.pid);
    const waits = (clientPid: number): Record<Tier | 'nats', { waitMicros: number; runs: number }> => {
      const sum = (pids: number[]): { waitMicros: number; runs: number } =>
        pids.map((p) => runQueue(p)).reduce((a, b) => ({ waitMicros: a.waitMicros + b.waitMicros, runs: a.runs + b.runs }), { waitMicros: 0, runs: 0 });
      return {
        ingress: runQueue(s.pids.ingress), terminator: runQueue(s.pids.terminator), nats: runQueue(s.pids.nats, true), connectors: sum(connectorPids),
        upstream: runQueue(upstream.pid), client: runQueue(clientPid),
      };
    };
    const sample = (): Record<'ingress' | 'terminator' | 'connectors', number> => ({
      ingress: rssBytes(s.pids.ingress), terminator: rssBytes(s.pids.terminator), connectors: connectorPids.reduce((n, p) => n + rssBytes(p), 0),
    });
    const cpu = (): Record<'ingress' | 'terminator' | 'connectors' | 'nats', number> => ({
      ingress: cpuMicros(s.pids.ingress), terminator: cpuMicros(s.pids.terminator), nats: cpuMicros(s.pids.nats), connectors: connectorPids.reduce((n, p) => n + cpuMicros(p), 0),
    });
    await s.settle?.();
    // Processes whose loops are probed (loaded with loopProbeArgs); the client measures its own.
    const probed = [s.pids.ingress, s.pids.terminator, upstream.pid, ...connectorPids];
    const tiers = (ps: (LoopProbe | undefined)[]): TierLoops => {
      const t: TierLoops = {};
      if (ps[0]) t.ingress = ps[0];
      if (ps[1]) t.terminator = ps[1];
      if (ps[2]) t.upstream = ps[2];
      const c = merge(ps.slice(3));
      if (c) t.connectors = c;
      return t;
    };
    let rampLoops: Promise<TierLoops> = Promise.resolve({});
    signalProbes(probed);
    const upCpu0 = cpuMicros(upstream.pid);
    const before = sample();
    const varz0 = await varz(s.natsMonitorUrl);
    const cpu0 = cpu();
    const max = { ...before };
    const sampler = setInterval(() => {
      const now = sample();
      for (const k of ['ingress', 'terminator', 'connectors'] as const) max[k] = Math.max(max[k], now[k]);
    }, 250);
    let open = before;
    let cpuOpen: ReturnType<typeof cpu> | undefined;
    let waitOpen: { at: number; w: ReturnType<typeof waits> } | undefined;
    try {
      const c = withOpenFiles(s.streams + 1_000, process.execPath, [join(s.lib, 'slow-client.js'), s.ingressUrl, s.apiKey, s.model, String(s.streams), String(s.rampMs)]);
      const client = spawnChild('slow-client', c.cmd, c.args);
      children.push(client);
      const budget = s.rampMs + 90_000;
      void client.waitFor(/open \d+/, budget).then(() => {
        open = sample();
        cpuOpen = cpu();
        waitOpen = { at: performance.now(), w: waits(client.pid) };
        rampLoops = readProbes(probed).then(tiers);
      }, () => undefined);
      const line = (await client.waitFor(/result (\{.*\})/, budget))[1]!;
      const r = JSON.parse(line) as Omit<SlowStreamsResult, 'rss' | 'cpuMicrosPerChunk' | 'steadyCpuMicrosPerChunk' | 'connectors' | 'loops' | 'benchCpuMicrosPerChunk' | 'cpuWait'> & { clientLoop?: LoopProbe };
      const cpu1 = cpu();
      const cpuWait: SlowStreamsResult['cpuWait'] = {};
      if (waitOpen) {
        const w1 = waits(client.pid);
        const windowMicros = (performance.now() - waitOpen.at) * 1e3;
        for (const k of Object.keys(w1) as (keyof typeof w1)[]) {
          const wait = w1[k].waitMicros - waitOpen.w[k].waitMicros;
          const runs = w1[k].runs - waitOpen.w[k].runs;
          if (Number.isFinite(wait) && runs > 0) cpuWait[k] = { perRunMs: wait / runs / 1e3, share: wait / windowMicros };
        }
      }
      const upCpu1 = cpuMicros(upstream.pid);
      const clientCpu = cpuMicros(client.pid);
      const steadyLoops = tiers(await readProbes(probed));
      const { clientLoop, ...rest } = r;
      if (clientLoop) steadyLoops.client = clientLoop;
      const loops = { ramp: await rampLoops, steady: steadyLoops };
      const benchCpuMicrosPerChunk = { upstream: (upCpu1 - upCpu0) / Math.max(1, r.chunks), client: clientCpu / Math.max(1, r.chunks) };
      const varz1 = await varz(s.natsMonitorUrl);
      const nats = varz0 && varz1 ? { inMsgs: varz1.in_msgs - varz0.in_msgs, outMsgs: varz1.out_msgs - varz0.out_msgs } : undefined;
      const rss = {} as SlowStreamsResult['rss'];
      for (const k of ['ingress', 'terminator', 'connectors'] as const) {
        rss[k] = { before: before[k], open: open[k], max: max[k], perStreamBytes: (open[k] - before[k]) / s.streams };
      }
      const per = {} as SlowStreamsResult['cpuMicrosPerChunk'];
      const steady = {} as SlowStreamsResult['steadyCpuMicrosPerChunk'];
      for (const k of ['ingress', 'terminator', 'connectors', 'nats'] as const) {
        per[k] = (cpu1[k] - cpu0[k]) / Math.max(1, r.chunks);
        steady[k] = cpuOpen ? (cpu1[k] - cpuOpen[k]) / Math.max(1, r.steadyChunks) : NaN;
      }
      return { ...rest, connectors: count, rss, cpuMicrosPerChunk: per, steadyCpuMicrosPerChunk: steady, benchCpuMicrosPerChunk, loops, cpuWait, ...(nats ? { nats } : {}) };
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await Promise.all(children.map((c) => c.stop('SIGTERM', 2_000)));
  }
}
