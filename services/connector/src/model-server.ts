import type { Logger } from '@tokios/shared/log';
import type { UpstreamKind } from '@tokios/shared/protocol';
import { checkHealth, probeUpstream, type ProbeResult } from './probe.js';

export interface ModelServerOptions {
  upstreamBase: string;
  upstreamKind: UpstreamKind | 'auto';
  healthIntervalMs: number;
}

/**
 * The one model server behind a connector process, shared by every deployment it serves: probed once at start (kind,
 * models, llama.cpp's /infill), one health check loop, and the health every deployment's tunnels report. A refused
 * connection seen by any request marks it down for all of them until a check passes.
 */
export class ModelServer {
  kind: UpstreamKind = 'openai';
  models: string[] = [];
  infill = false;
  healthy = true;
  private probing: Promise<ProbeResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(healthy: boolean) => void>();

  constructor(
    private readonly options: ModelServerOptions,
    private readonly log: Logger,
  ) {}

  /** Probes (once, however many deployments ask) and starts the health loop; logs what it found. */
  start(): Promise<ProbeResult> {
    this.probing ??= this.probe();
    return this.probing;
  }

  private async probe(): Promise<ProbeResult> {
    const { upstreamBase, upstreamKind } = this.options;
    const probe = await probeUpstream(upstreamBase, upstreamKind, this.log);
    this.kind = probe.kind;
    this.models = probe.models;
    this.infill = probe.infill;
    this.healthy = probe.reachable;
    this.log.info(
      { upstream: upstreamBase, kind: probe.kind, detected: probe.detected, models: probe.models.slice(0, 20), reachable: probe.reachable, infill: probe.infill, reason: probe.reason },
      probe.detected ? `upstream speaks ${probe.kind === 'ollama' ? 'Ollama' : 'the OpenAI API'}` : `upstream kind ${probe.kind} (${upstreamKind === 'auto' ? 'assumed: detection failed' : 'configured'})`,
    );
    this.timer = setInterval(() => void this.check(), this.options.healthIntervalMs);
    this.timer.unref();
    return probe;
  }

  /** Whether the model server lists `model` (Ollama resolves an untagged name to `:latest`). */
  serves(model: string): boolean {
    return this.models.includes(model) || this.models.includes(`${model}:latest`);
  }

  /** Called with every health change. */
  onHealth(listener: (healthy: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setHealth(healthy: boolean): void {
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    this.log[healthy ? 'info' : 'warn']({ upstream: this.options.upstreamBase }, healthy ? 'model server is back' : 'model server is down; taking no traffic');
    for (const l of this.listeners) l(healthy);
  }

  private async check(): Promise<void> {
    this.setHealth(await checkHealth(this.options.upstreamBase, this.kind));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
