import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { controlSubject, parseControlEvent, type ControlEventName } from '@tokios/shared/control';
import { FabricGate, type FabricKey } from '@tokios/shared/fabric-auth';
import type { AuthCache } from './auth-cache.js';

/** Control events are a few ids; anything bigger is not ours. */
const MAX_EVENT_BYTES = 4 * 1024;

/** Applies the control-plane events (`tokios.ctl.*`) that concern the ingress to its auth cache (signed ones only). */
export class ControlEventListener {
  private readonly subs: Subscription[] = [];
  readonly gate: FabricGate;

  constructor(
    private readonly nc: NatsConnection,
    key: FabricKey,
    private readonly cache: AuthCache,
    private readonly log: Logger,
    /** Called after a key's revocation reached the cache: its requests in flight are stopped. */
    private readonly onKeyRevoked: (keyId: string) => void = () => undefined,
  ) {
    this.gate = new FabricGate(key, 'control events', log);
  }

  start(): void {
    this.on('key_revoked', (e) => {
      this.cache.keyRevoked(e.keyId, e.hash);
      this.onKeyRevoked(e.keyId);
    });
    this.on('key_changed', (e) => this.cache.keyChanged(e.keyId, e.hash));
    this.on('deployment_changed', (e) => this.cache.deploymentChanged(e.deploymentId));
    this.on('alias_changed', (e) => this.cache.aliasChanged(e.aliasId));
  }

  private on<N extends ControlEventName>(name: N, apply: (event: NonNullable<ReturnType<typeof parseControlEvent<N>>>) => void): void {
    const sub = this.nc.subscribe(controlSubject(name), {
      callback: (err, msg) => {
        if (err) return this.log.warn({ err: err.message, event: name }, 'control subscription error');
        if (!this.gate.accept(msg)) return;
        const event = msg.data.length <= MAX_EVENT_BYTES ? parseControlEvent(name, msg.data) : undefined;
        if (!event) return this.log.warn({ event: name, bytes: msg.data.length }, 'malformed control event ignored');
        apply(event);
      },
    });
    this.subs.push(sub);
  }

  close(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
  }
}
