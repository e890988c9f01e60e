import type OpenAI from 'openai';
import { LAME_DUCK_CONFIG, routed, type NatsCluster } from './nats-server.js';
import type { OpenAIUpstream } from './openai-upstream.js';
import type { Proc } from './processes.js';
import type { SeenRequest } from './scripted-server.js';
import type { TcpBalancer } from './tcp-balancer.js';
import { TestFabric, connectorTerminators, slowScript, until, type IngressInfo, type TerminatorInfo } from './fabric.js';

/*
 * The chaos run of issue 10, on loopback: a 3-node NATS cluster (lame-duck mode configured), 2 ingress, 2 terminators
 * behind a TCP balancer, 2 deployments x 2 connectors, each with its own scripted model server. Load (streamed and
 * whole requests) runs while one fault at a time is injected; each phase then checks what the callers and the model
 * servers saw. Used by test/e2e/chaos.test.ts (each fault once) and `npm run chaos` (several rounds, a table).
 */

const DEPLOYMENTS = ['model-a', 'model-b'] as const;
type Deployment = (typeof DEPLOYMENTS)[number];
/** Each answer: this many chunks this far apart (about 2 s per request: long enough to tell an orphan). */
const CHUNKS = 40;
const CHUNK_MS = 50;
/** A model request of a failed caller that is not aborted and goes on longer than this after the failure is an orphaned generation. */
const ORPHAN_MS = 1_000;
/** Requests started after the fault that must succeed before a phase ends (new requests are served again). */
const SETTLE_SUCCESSES = 4;
/** A caller that has not settled this long after its phase ended is a hang. */
const HANG_MS = 30_000;

export type FaultName =
  | 'ingress SIGKILL' | 'terminator SIGKILL' | 'terminator SIGTERM' | 'NATS node SIGKILL' | 'NATS rolling restart (lame duck)'
  | 'connector SIGKILL' | 'connector SIGTERM';

export const FAULTS: readonly FaultName[] = [
  'ingress SIGKILL', 'terminator SIGKILL', 'terminator SIGTERM', 'NATS node SIGKILL', 'NATS rolling restart (lame duck)', 'connector SIGKILL', 'connector SIGTERM',
];

/** Faults after which callers in flight on the faulted part may fail (the others must fail nothing). */
const LOSSY = new Set<FaultName>(['ingress SIGKILL', 'terminator SIGKILL', 'NATS node SIGKILL', 'connector SIGKILL']);

interface Caller {
  tag: string;
  deployment: Deployment;
  stream: boolean;
  ingress: IngressInfo;
  start: number;
  end?: number;
  error?: string;
  text?: string;
}

interface ConnectorInfo {
  deployment: Deployment;
  up: OpenAIUpstream;
  proc: Proc;
}

export interface FaultResult {
  fault: FaultName;
  requests: number;
  inFlightAtFault: number;
  failed: number;
  /** Failures that break the targets: off the faulted part, after the fault, or on a graceful fault. */
  failedOffTarget: string[];
  /** Slowest time from the fault to a failure of a caller in flight (ms). */
  maxFailMs: number | undefined;
  /** Fault to the first success of a request started after it (ms). */
  recoveryMs: number | undefined;
  /** Model requests of failed callers nobody stopped: never ended, or finished by themselves more than ORPHAN_MS after the failure. */
  orphans: number;
  /** Slowest time from a caller failing to its model request ending (aborted, or finished by itself) (ms). */
  maxAbortMs: number | undefined;
  /** Callers that got a whole answer (each checked byte for byte: `corrupted` lists those that differ). */
  completed: number;
  corrupted: string[];
  hung: number;
  /** What the fault hit (e.g. the model requests in flight on a killed connector). */
  note: string;
}

const expected = (tag: string): string => slowScript(CHUNKS, CHUNK_MS, tag).chunks.join('');
const tagOf = (r: SeenRequest): string => ((r.body.messages as { content: string }[] | undefined)?.[0]?.content ?? '');

export class Chaos {
  ingress: IngressInfo[] = [];
  terminators: TerminatorInfo[] = [];
  connectors: ConnectorInfo[] = [];
  private readonly callers: Caller[] = [];
  private readonly clients = new Map<IngressInfo, OpenAI>();
  /** When each model request ended (aborted or finished), by tag. */
  private readonly endedAt = new Map<string, number>();
  private lb!: TcpBalancer;
  /** Ingresses the load balancer in front of them would no longer send to (killed by a fault). */
  private readonly downed = new Set<IngressInfo>();
  private counter = 0;
  private running = false;
  /** The last fault's part coming back (see run). */
  private restoring: Promise<void> = Promise.resolve();
  private workers: Promise<void>[] = [];
  log: (line: string) => void = () => undefined;

  private constructor(readonly f: TestFabric) {}

  static async start(t: { teardown(fn: () => unknown): void }, log?: (line: string) => void): Promise<Chaos> {
    const started = Date.now();
    const f = await TestFabric.start(t, { cluster: true, deployments: [...DEPLOYMENTS], natsConfig: LAME_DUCK_CONFIG });
    const c = new Chaos(f);
    if (log) c.log = log;
    // Two at a time: eight CLI processes starting at once on a loaded 2-core machine outlast any start timeout, one
    // at a time takes twice as long.
    c.ingress = await Promise.all([f.ingress(), f.ingress()]);
    c.terminators = await Promise.all([f.terminator(), f.terminator()]);
    const [t1, t2] = c.terminators as [TerminatorInfo, TerminatorInfo];
    c.lb = await f.balancer([t1, t2]);
    for (const d of DEPLOYMENTS) c.connectors.push(...(await Promise.all([c.startConnector(d), c.startConnector(d)])));
    await c.healthy();
    c.log(`topology up in ${Date.now() - started} ms`);
    return c;
  }

  get nats(): NatsCluster {
    return this.f.nats as NatsCluster;
  }

  private async startConnector(deployment: Deployment, up?: OpenAIUpstream): Promise<ConnectorInfo> {
    const u = up ?? (await this.f.upstream(`up-${deployment}`));
    u.script = (body) => slowScript(CHUNKS, CHUNK_MS, tagOf({ body } as SeenRequest));
    for (const event of ['aborted', 'finished']) u.on(event, (r: SeenRequest) => this.endedAt.set(tagOf(r), Date.now()));
    const proc = await this.f.connector(deployment, u, this.lb.url, { max_concurrency: 16 });
    return { deployment, up: u, proc };
  }

  /** Every connector has a tunnel on each live terminator (bounded: spreading takes a presence round or two). */
  async healthy(timeoutMs = 30_000): Promise<void> {
    const live = this.terminators.filter((x) => x.proc.running).map((x) => x.id);
    await until(() => this.connectors.every((c) => live.every((id) => connectorTerminators(c.proc).has(id))), timeoutMs, 'every connector on every terminator')
      .catch((err: unknown) => {
        const missing = this.connectors.flatMap((c, i) => {
          const has = connectorTerminators(c.proc);
          const lacks = live.filter((id) => !has.has(id));
          return lacks.length ? [`connector ${i} (${c.deployment}) on ${[...has].join(', ') || 'none'}, not on ${lacks.join(', ')}`] : [];
        });
        this.log(`(not fully spread: ${(err as Error).message}: ${missing.join('; ')})`);
      });
  }

  private client(ingress: IngressInfo): OpenAI {
    let c = this.clients.get(ingress);
    if (!c) this.clients.set(ingress, (c = this.f.client(ingress, { timeout: 120_000 })));
    return c;
  }

  /** `concurrency` callers, each issuing one request after the other, on the live ingresses in turn. */
  startLoad(concurrency = 8): void {
    this.running = true;
    this.workers = Array.from({ length: concurrency }, (_, w) => this.worker(w));
  }

  async stopLoad(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  get inFlight(): number {
    return this.callers.filter((c) => c.end === undefined).length;
  }

  private async worker(w: number): Promise<void> {
    while (this.running) {
      const live = this.ingress.filter((i) => i.proc.running && !this.downed.has(i));
      const ingress = live[this.counter % live.length]!;
      const n = ++this.counter;
      const caller: Caller = { tag: `c${n}w${w}`, deployment: DEPLOYMENTS[n % 2]!, stream: n % 4 !== 0, ingress, start: Date.now() };
      this.callers.push(caller);
      try {
        const client = this.client(ingress);
        const messages = [{ role: 'user' as const, content: caller.tag }];
        if (caller.stream) {
          const s = await client.chat.completions.create({ model: caller.deployment, stream: true, messages });
          let text = '';
          for await (const ch of s) text += ch.choices[0]?.delta.content ?? '';
          caller.text = text;
        } else {
          const r = await client.chat.completions.create({ model: caller.deployment, messages });
          caller.text = r.choices[0]?.message.content ?? '';
        }
      } catch (err) {
        caller.error = (err as Error).message.slice(0, 200);
      }
      caller.end = Date.now();
    }
  }

  /** Runs one fault under load and checks what callers and model servers saw. */
  async run(fault: FaultName): Promise<FaultResult> {
    const first = this.callers.length;
    const phases = new Phases();
    this.startLoad();
    // The previous fault's part comes back meanwhile (the load runs on what is up).
    await Promise.all([this.restoring, until(() => this.inFlight >= 6 && this.callers.length - first >= 12, 60_000, 'load to be under way')]);
    phases.mark('load and restore');
    const faulted = await this.inject(fault);
    const faultAt = faulted.at;
    phases.mark('fault');
    // Settle: every caller in flight at the fault has ended and new requests are being served again.
    await until(() => this.callers.slice(first).filter((c) => c.start > faultAt && c.end !== undefined && !c.error).length >= SETTLE_SUCCESSES, 60_000, `requests to succeed after ${fault}`)
      .catch((err: unknown) => this.log(String(err)));
    phases.mark('settle');
    await this.stopLoad().then(undefined, () => undefined);
    const mine = this.callers.slice(first);
    await until(() => mine.every((c) => c.end !== undefined), HANG_MS, 'every caller to settle').catch(() => undefined);
    phases.mark('drain');
    // Orphans: every model request of a failed caller must be aborted (give the cancels their time).
    const failedTags = new Set(mine.filter((c) => c.error).map((c) => c.tag));
    const ofFailed = (): SeenRequest[] => this.connectors.concat(faulted.gone).flatMap((c) => c.up.requests).filter((r) => failedTags.has(tagOf(r)));
    await until(() => ofFailed().every((r) => r.aborted || r.finished), 10_000, 'model requests of failed callers to end').catch(() => undefined);
    phases.mark('orphans');
    const result = this.analyse(fault, mine, faultAt, faulted, ofFailed());
    this.log(`  ${fault}: ${phases}`);
    // The faulted part restarts while the next phase ramps up its load; `idle()` waits for it.
    const restoreStarted = Date.now();
    this.restoring = faulted.restore().then(() => this.healthy()).then(() => this.log(`  ${fault}: restored in ${Date.now() - restoreStarted} ms`));
    // Handled here (it is awaited later, and its failure surfaces there), so a failed restart is no unhandled rejection.
    this.restoring.catch(() => undefined);
    return result;
  }

  /** Resolves when the last fault's part is back and spread (before a teardown, or a look at the topology). */
  async idle(): Promise<void> {
    await this.restoring;
  }

  private analyse(fault: FaultName, mine: Caller[], faultAt: number, faulted: Injected, ofFailed: SeenRequest[]): FaultResult {
    const inFlight = mine.filter((c) => c.start <= faultAt && (c.end === undefined || c.end >= faultAt));
    const failed = mine.filter((c) => c.error);
    const offTarget: string[] = [];
    for (const c of failed) {
      const where = `${c.tag} (${c.stream ? 'stream' : 'whole'}, started ${c.start - faultAt} ms from the fault, ended ${(c.end ?? 0) - faultAt} ms): ${c.error}`;
      if (!LOSSY.has(fault)) offTarget.push(`graceful fault: ${where}`);
      else if (!inFlight.includes(c)) offTarget.push(`not in flight at the fault: ${where}`);
      else if (!faulted.owns(c)) offTarget.push(`not on the faulted part: ${where}`);
    }
    const corrupted = mine.filter((c) => !c.error && c.end !== undefined && c.text !== expected(c.tag)).map((c) => `${c.tag}: ${c.text?.length ?? 0} of ${expected(c.tag).length} chars`);
    const firstOk = mine.filter((c) => c.start > faultAt && !c.error && c.end !== undefined).map((c) => c.end! - faultAt);
    // How long each failed caller's model request went on after the failure (negative: it had ended before).
    const stopMs = failed.filter((c) => ofFailed.some((r) => tagOf(r) === c.tag)).map((c) => (this.endedAt.get(c.tag) ?? Infinity) - (c.end ?? 0));
    // An orphan is a generation nobody stopped: it never ended, or ran to its natural end more than ORPHAN_MS after
    // its caller failed. One the gateway aborted is stopped, however late: how soon is the timed target below
    // (maxAbortMs), checked by `npm run chaos` and not asserted by the suite, where a loaded machine stretches it.
    const orphaned = failed.filter((c) => {
      const r = ofFailed.find((x) => tagOf(x) === c.tag);
      if (r === undefined || r.aborted) return false;
      return !r.finished || (this.endedAt.get(c.tag) ?? Infinity) - (c.end ?? 0) > ORPHAN_MS;
    });
    return {
      fault,
      requests: mine.length,
      inFlightAtFault: inFlight.length,
      failed: failed.length,
      failedOffTarget: offTarget,
      maxFailMs: failed.length ? Math.max(...failed.map((c) => (c.end ?? faultAt) - faultAt)) : undefined,
      recoveryMs: firstOk.length ? Math.min(...firstOk) : undefined,
      orphans: orphaned.length,
      maxAbortMs: stopMs.length ? Math.max(0, ...stopMs) : undefined,
      completed: mine.filter((c) => !c.error && c.end !== undefined).length,
      corrupted,
      hung: mine.filter((c) => c.end === undefined).length,
      note: faulted.note?.() ?? '',
    };
  }

  private async inject(fault: FaultName): Promise<Injected> {
    const at = (): number => Date.now();
    switch (fault) {
      case 'ingress SIGKILL': {
        const victim = this.ingress[0]!;
        this.downed.add(victim);
        const t0 = at();
        await victim.proc.kill('SIGKILL');
        return {
          at: t0, gone: [], owns: (c) => c.ingress === victim,
          restore: async () => {
            this.ingress[0] = await this.f.ingress();
          },
        };
      }
      case 'terminator SIGKILL':
      case 'terminator SIGTERM': {
        const i = this.terminators.findIndex((x) => x.proc.running);
        const victim = this.terminators[i]!;
        const t0 = at();
        if (fault === 'terminator SIGKILL') await victim.proc.kill('SIGKILL');
        else victim.proc.signal('SIGTERM');
        return {
          at: t0, gone: [], owns: () => true,
          restore: async () => {
            await victim.proc.exited;
            this.terminators[i] = await this.f.terminator({}, victim.port);
          },
        };
      }
      case 'NATS node SIGKILL': {
        const node = this.nats.nodes[0]!;
        const t0 = at();
        await node.kill('SIGKILL');
        return {
          at: t0, gone: [], owns: () => true,
          restore: async () => {
            await node.restart();
            await routed(node, this.nats.nodes[1]!);
          },
        };
      }
      case 'NATS rolling restart (lame duck)': {
        const t0 = at();
        await this.nats.rollingRestart((n) => this.log(`  node ${n} restarted in lame-duck mode and routed again (${at() - t0} ms)`));
        return { at: t0, gone: [], owns: () => false, restore: async () => undefined };
      }
      case 'connector SIGKILL':
      case 'connector SIGTERM': {
        const i = this.connectors.findIndex((c) => c.up.active > 0);
        const victim = this.connectors[i >= 0 ? i : 0]!;
        const idx = this.connectors.indexOf(victim);
        const hit = victim.up.requests.filter((r) => !r.finished && !r.aborted);
        const t0 = at();
        if (fault === 'connector SIGKILL') await victim.proc.kill('SIGKILL');
        else victim.proc.signal('SIGTERM');
        return {
          at: t0, gone: [victim], owns: (c) => victim.up.requests.some((r) => tagOf(r) === c.tag),
          note: () => `${hit.length} model request(s) in flight on the ${victim.deployment} connector hit: ${hit.filter((r) => r.aborted).length} aborted, ${hit.filter((r) => r.finished).length} finished`,
          restore: async () => {
            await victim.proc.exited;
            this.connectors[idx] = await this.startConnector(victim.deployment, victim.up);
          },
        };
      }
    }
  }
}

/** How long each step of a phase took (the run's own time, for keeping the suite's chaos test short). */
class Phases {
  private last = Date.now();
  private readonly steps: string[] = [];
  mark(step: string): void {
    const now = Date.now();
    this.steps.push(`${step} ${now - this.last} ms`);
    this.last = now;
  }
  toString(): string {
    return this.steps.join(', ');
  }
}

interface Injected {
  at: number;
  /** Connectors taken away by the fault (their model servers still count for orphans). */
  gone: ConnectorInfo[];
  /** Whether a caller's request was on the faulted part. */
  owns(c: Caller): boolean;
  note?(): string;
  restore(): Promise<void>;
}
