/** What placement needs to know of a tunnel. */
export interface Placeable {
  readonly deploymentId: string;
  readonly connectorId: string;
  /** The connector's cap on in-flight streams, across all of its tunnels here. */
  readonly maxConcurrency: number;
  /** Open, healthy and not draining. */
  readonly routable: boolean;
}

/**
 * Tunnels this terminator holds, by deployment, and the load on each connector. Tells its owner when a deployment or
 * a connector becomes routable here (first routable tunnel) or stops being so, so it can (un)subscribe the request
 * subjects: the deployment's, and the connector's own (a session's home, cache-affine placement).
 */
export class TunnelRegistry<T extends Placeable> {
  private readonly byDeployment = new Map<string, Set<T>>();
  /** In-flight streams per connector across all of its tunnels here (a connector may hold several). */
  private readonly connectorLoad = new Map<string, number>();
  private count = 0;
  private rr = 0;

  constructor(
    private readonly onRoutableChange: (deploymentId: string, routable: boolean) => void,
    private readonly onConnectorRoutableChange: (deploymentId: string, connectorId: string, routable: boolean) => void = () => undefined,
  ) {}

  add(t: T): void {
    let set = this.byDeployment.get(t.deploymentId);
    if (!set) this.byDeployment.set(t.deploymentId, (set = new Set()));
    this.changing(t, () => {
      if (!set.has(t)) this.count++;
      set.add(t);
    });
  }

  remove(t: T): void {
    const set = this.byDeployment.get(t.deploymentId);
    if (!set?.has(t)) return;
    this.changing(t, () => {
      set.delete(t);
      this.count--;
      if (set.size === 0) this.byDeployment.delete(t.deploymentId);
    });
  }

  /** Call around a change of a tunnel's routability (health, draining, closing). */
  update(t: T, change: () => void): void {
    this.changing(t, change);
  }

  /** Whether `connectorId` is given: whether that connector of the deployment has a routable tunnel here. */
  isRoutable(deploymentId: string, connectorId?: string): boolean {
    const set = this.byDeployment.get(deploymentId);
    if (!set) return false;
    for (const t of set) if (t.routable && (connectorId === undefined || t.connectorId === connectorId)) return true;
    return false;
  }

  /** Tunnels held, without building the list (health answers, metrics). */
  get size(): number {
    return this.count;
  }

  tunnels(deploymentId?: string): T[] {
    if (deploymentId !== undefined) return [...(this.byDeployment.get(deploymentId) ?? [])];
    return [...this.byDeployment.values()].flatMap((s) => [...s]);
  }

  deployments(): string[] {
    return [...this.byDeployment.keys()];
  }

  load(connectorId: string): number {
    return this.connectorLoad.get(connectorId) ?? 0;
  }

  addLoad(connectorId: string, delta: number): void {
    const n = (this.connectorLoad.get(connectorId) ?? 0) + delta;
    if (n <= 0) this.connectorLoad.delete(connectorId);
    else this.connectorLoad.set(connectorId, n);
  }

  /**
   * Least-loaded routable tunnel whose connector is under its cap, skipping `exclude`; only tunnels of `connectorId`
   * when given (a request for a session's home). Ties rotate, so equal connectors share evenly.
   */
  pick(deploymentId: string, exclude: ReadonlySet<T>, connectorId?: string): T | undefined {
    const set = this.byDeployment.get(deploymentId);
    if (!set) return undefined;
    // The best tunnel so far, and the list of those tied with it only once there is a tie: most deployments have one
    // connector, and an array per request is an allocation for nothing.
    let first: T | undefined;
    let ties: T[] | undefined;
    let best = Infinity;
    for (const t of set) {
      if (!t.routable || exclude.has(t) || (connectorId !== undefined && t.connectorId !== connectorId)) continue;
      const load = this.load(t.connectorId);
      if (load >= t.maxConcurrency) continue;
      const ratio = load / t.maxConcurrency;
      if (ratio < best) {
        best = ratio;
        first = t;
        ties = undefined;
      } else if (ratio === best && first !== undefined) (ties ??= [first]).push(t);
    }
    if (first === undefined) return undefined;
    this.rr = (this.rr + 1) >>> 0;
    return ties === undefined ? first : ties[this.rr % ties.length];
  }

  private changing(t: T, change: () => void): void {
    const dep = this.isRoutable(t.deploymentId);
    const con = this.isRoutable(t.deploymentId, t.connectorId);
    change();
    if (con !== this.isRoutable(t.deploymentId, t.connectorId)) this.onConnectorRoutableChange(t.deploymentId, t.connectorId, !con);
    if (dep !== this.isRoutable(t.deploymentId)) this.onRoutableChange(t.deploymentId, !dep);
  }
}
