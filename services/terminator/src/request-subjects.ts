import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { REQUEST_QUEUE, subjects } from '@tokios/shared/subjects';

/**
 * Stops taking a subject without dropping what NATS already routed here: until the server has our UNSUB it may still
 * deliver Requests on it (another terminator in the queue group would have taken them), and an unsubscribed client
 * drops those silently, so the ingress would wait out its Ack timeout. Drained, they reach onRequest, which places
 * them on what is left here or answers Reject at once.
 */
function giveUp(sub: Subscription): void {
  try {
    sub.drain().catch(() => undefined);
  } catch {
    sub.unsubscribe(); // the connection is closing: nothing more arrives anyway
  }
}

/** Where a Request came from: `connectorId` when it came on that connector's own subject (placed only there). */
export type OnRequest = (msg: Msg, deploymentId: string, connectorId?: string) => void;

/**
 * The request subjects a terminator subscribes, in the terminators' queue group: `tokios.req.<deployment>` while the
 * registry says the deployment is routable here, and `tokios.req.<deployment>.<connector>` while that connector is (an
 * ingress sends a session's requests there once it knows the session's home). Drained and given up for good when the
 * terminator drains.
 */
export class RequestSubjects {
  private readonly subs = new Map<string, Subscription>();
  /** Connector subjects, by `<deployment>.<connector>`. */
  private readonly connectorSubs = new Map<string, Subscription>();
  /** Draining: request subjects are given up and Requests still arriving are answered Reject draining. */
  refusing = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly onRequest: OnRequest,
  ) {}

  /** Deployments whose request subject this terminator subscribes now. */
  get deployments(): number {
    return this.subs.size;
  }

  /** Called by the registry when a deployment gains its first or loses its last routable tunnel here. */
  setRoutable(deploymentId: string, routable: boolean): void {
    if (routable && this.refusing) return;
    if (routable && !this.subs.has(deploymentId)) {
      const sub = this.nc.subscribe(subjects.request(deploymentId), {
        queue: REQUEST_QUEUE,
        callback: (_e, msg) => this.onRequest(msg, deploymentId),
      });
      this.subs.set(deploymentId, sub);
      this.log.debug({ deploymentId }, 'serving deployment');
    } else if (!routable) {
      const sub = this.subs.get(deploymentId);
      if (sub) giveUp(sub);
      this.subs.delete(deploymentId);
      this.log.debug({ deploymentId }, 'no longer serving deployment');
    }
  }

  /**
   * Called by the registry when a connector gains its first or loses its last routable tunnel here: its own subject,
   * in the same queue group (a connector with tunnels on two terminators is served by either). Once it is
   * unsubscribed everywhere, NATS answers no-responders and the ingress falls back to the deployment subject at once.
   */
  setConnectorRoutable(deploymentId: string, connectorId: string, routable: boolean): void {
    if (routable && this.refusing) return;
    const key = `${deploymentId}.${connectorId}`;
    const sub = this.connectorSubs.get(key);
    if (routable && !sub) {
      const s = this.nc.subscribe(subjects.connectorRequest(deploymentId, connectorId), {
        queue: REQUEST_QUEUE,
        callback: (_e, msg) => this.onRequest(msg, deploymentId, connectorId),
      });
      this.connectorSubs.set(key, s);
    } else if (!routable && sub) {
      giveUp(sub);
      this.connectorSubs.delete(key);
    }
  }

  /**
   * Stops taking requests (terminator drain): every request subscription is drained, so Requests NATS already
   * delivered are still answered (Reject draining: the ingress places them elsewhere at once) instead of dropped.
   */
  async stopTaking(timeoutMs: number): Promise<void> {
    this.refusing = true;
    const subs = this.takeAll();
    const drained = Promise.all(subs.map((s) => s.drain().catch(() => undefined)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  close(): void {
    for (const sub of this.takeAll()) sub.unsubscribe();
  }

  private takeAll(): Subscription[] {
    const subs = [...this.subs.values(), ...this.connectorSubs.values()];
    this.subs.clear();
    this.connectorSubs.clear();
    return subs;
  }
}
