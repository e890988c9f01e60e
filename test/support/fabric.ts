import { rm } from 'node:fs/promises';
import OpenAI from 'openai';
import { NatsCluster, NatsServer } from './nats-server.js';
import { OpenAIUpstream, type Script } from './openai-upstream.js';
import { SERVICE_START_MS, startConnectorProc, startIngressProc, startTerminatorProc, type Proc } from './processes.js';
import { seed, type Seeded } from './seed.js';
import { TcpBalancer } from './tcp-balancer.js';
import { TEST_FABRIC_SECRET } from './nats-auth.js';

/** Polls `cond` every 20 ms until it holds; fails after `timeoutMs` saying what was awaited. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rejects when `p` has not settled within `ms`; resolves with p's value and the time it took. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    const value = await Promise.race([p, timeout]);
    return { value, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

export const slowScript = (chunks: number, delayMs: number, text = 'tok'): Script => ({
  chunks: Array.from({ length: chunks }, (_, i) => `${text}${i} `),
  delayMs,
  firstDelayMs: 0,
  finishReason: 'stop',
  usage: { prompt_tokens: 1, completion_tokens: chunks },
});

export const quickScript = (text: string): Script => ({
  chunks: [text],
  delayMs: 0,
  firstDelayMs: 0,
  finishReason: 'stop',
  usage: { prompt_tokens: 1, completion_tokens: 1 },
});

/** A terminator's /healthz: live tunnel and stream counts. */
export async function terminatorHealth(term: { port: number }): Promise<{ id: string; tunnels: number; streams: number }> {
  const r = await fetch(`http://127.0.0.1:${term.port}/healthz`);
  return (await r.json()) as { id: string; tunnels: number; streams: number };
}

export interface IngressInfo {
  proc: Proc;
  url: string;
  /** API base with /v1, as the SDK takes it. */
  baseURL: string;
}

export interface TerminatorInfo {
  proc: Proc;
  port: number;
  /** Tunnel URL connectors dial. */
  url: string;
  /** Terminator id, from its startup log. */
  id: string;
}

/** JSON log lines of a process (pino output), parsed; other lines are skipped. */
export function logLines(proc: Proc): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of proc.output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* partial line */
    }
  }
  return out;
}

/** Tunnel index -> terminator id for a connector's live tunnels, from its 'tunnel up' / 'tunnel closed' logs. */
export function connectorTunnels(proc: Proc): Map<number, string> {
  const byTunnel = new Map<number, string>();
  for (const l of logLines(proc)) {
    if (l.msg === 'tunnel up') byTunnel.set(l.tunnel as number, l.terminatorId as string);
    else if (l.msg === 'tunnel closed') byTunnel.delete(l.tunnel as number);
  }
  return byTunnel;
}

/** Terminator ids a connector's tunnels are currently attached to. */
export function connectorTerminators(proc: Proc): Set<string> {
  return new Set(connectorTunnels(proc).values());
}

/**
 * One test's fabric: its own nats-server(s), a seeded data dir, service processes started through the CLI, scripted
 * model servers. Everything is torn down by `close()` (registered with the test's teardown by `start`).
 */
export class TestFabric {
  readonly procs: Proc[] = [];
  readonly upstreams: OpenAIUpstream[] = [];
  readonly balancers: TcpBalancer[] = [];

  private constructor(
    readonly nats: NatsServer | NatsCluster,
    readonly seeded: Seeded,
  ) {}

  /**
   * `natsConfig`: a nats-server config for every node (e.g. natsAuthSetup()'s users and permissions); `natsMonitor`:
   * cluster nodes with a monitoring port.
   */
  static async start(t: { teardown(fn: () => unknown): void }, options: { deployments?: string[]; cluster?: boolean; natsArgs?: string[]; natsConfig?: string; natsMonitor?: boolean } = {}): Promise<TestFabric> {
    const [nats, seeded] = await Promise.all([
      options.cluster ? NatsCluster.start(3, options.natsConfig, options.natsMonitor) : NatsServer.start(options.natsArgs, options.natsConfig),
      seed(options.deployments ?? ['model-a']),
    ]);
    const f = new TestFabric(nats, seeded);
    t.teardown(() => f.close());
    return f;
  }

  get natsUrl(): string {
    return this.nats instanceof NatsCluster ? this.nats.urls : this.nats.url;
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { NATS_URL: this.natsUrl, TOKIOS_FABRIC_SECRET: TEST_FABRIC_SECRET, TOKIOS_DATA_DIR: this.seeded.dataDir, ...extra };
  }

  async ingress(env: NodeJS.ProcessEnv = {}): Promise<IngressInfo> {
    const { proc, url } = await startIngressProc(this.env(env));
    this.procs.push(proc);
    return { proc, url, baseURL: `${url}/v1` };
  }

  async terminator(env: NodeJS.ProcessEnv = {}, port?: number): Promise<TerminatorInfo> {
    const { proc, port: p, url } = await startTerminatorProc(this.env(env), port);
    this.procs.push(proc);
    const m = await proc.waitFor(/"terminatorId":"(trm_[0-9a-f]+)"/);
    return { proc, port: p, url, id: m[1]! };
  }

  /** A TCP load balancer over the terminators' ports (the connectors' gateway in production). */
  async balancer(terminators: { port: number }[]): Promise<TcpBalancer> {
    const b = await TcpBalancer.start(terminators.map((x) => x.port));
    this.balancers.push(b);
    return b;
  }

  async upstream(model = 'scripted-model'): Promise<OpenAIUpstream> {
    const u = await OpenAIUpstream.start(model);
    this.upstreams.push(u);
    return u;
  }

  /** A connector process for `deployment`, waiting for its first tunnel unless `wait` is false. */
  async connector(deployment: string, upstream: { url: string }, gateway: string, config: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}, wait = true): Promise<Proc> {
    const d = this.seeded.deployments[deployment];
    if (!d) throw new Error(`no deployment ${deployment} in the seed`);
    const p = startConnectorProc({ tunnel_token: d.token, upstream: upstream.url, gateway, upstream_kind: 'openai', ...config }, env, false);
    const proc = await p;
    this.procs.push(proc);
    if (wait) await proc.waitFor(/Tunnel established/, SERVICE_START_MS);
    return proc;
  }

  client(ingress: IngressInfo | string, options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI {
    const baseURL = typeof ingress === 'string' ? ingress : ingress.baseURL;
    return new OpenAI({ apiKey: this.seeded.apiKey, baseURL, maxRetries: 0, timeout: 30_000, ...options });
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill('SIGKILL')));
    await Promise.all(this.upstreams.map((u) => u.close().catch(() => undefined)));
    await Promise.all(this.balancers.map((b) => b.close()));
    await this.nats.stop();
    await rm(this.seeded.dataDir, { recursive: true, force: true });
  }
}
