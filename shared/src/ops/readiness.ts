/** A readiness check: true when the dependency answers. Throwing or exceeding the time limit counts as down. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface ReadinessReport {
  ready: boolean;
  draining: boolean;
  /** Each dependency: "ok" or "down". */
  checks: Record<string, 'ok' | 'down'>;
}

/** A check that has not answered by then is down: a readiness probe must answer within the prober's timeout. */
const CHECK_TIMEOUT_MS = 1_500;

/**
 * Whether this process should get traffic (`/readyz`), as opposed to whether it is alive (`/healthz`): every
 * dependency check passes and the process is not draining. Draining is set first thing on shutdown, so load
 * balancers and Kubernetes stop sending new work while requests in flight finish (the drain itself belongs to the
 * shutdown code: it calls startDraining()).
 */
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private drainingSince: number | undefined;

  add(name: string, check: ReadinessCheck): this {
    this.checks.set(name, check);
    return this;
  }

  /** From now on /readyz answers 503 `draining` (idempotent; there is no way back: a draining process stops). */
  startDraining(): void {
    this.drainingSince ??= Date.now();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  async report(): Promise<ReadinessReport> {
    const names = [...this.checks.keys()];
    const results = await Promise.all(names.map((n) => runCheck(this.checks.get(n)!)));
    const checks: ReadinessReport['checks'] = {};
    names.forEach((n, i) => (checks[n] = results[i] ? 'ok' : 'down'));
    return { ready: !this.draining && results.every(Boolean), draining: this.draining, checks };
  }
}

async function runCheck(check: ReadinessCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS))),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
