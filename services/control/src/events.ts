import type { NatsConnection } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { publishControlEvent, type ControlEvent, type ControlEventName } from '@tokios/shared/control';
import type { FabricKey } from '@tokios/shared/fabric-auth';

const FLUSH_TIMEOUT_MS = 500;

/**
 * Publishes control events (`tokios.ctl.*`) after a store change. Without a NATS connection it does nothing:
 * the store stays the truth and caches expire on their own.
 */
export class ControlEventPublisher {
  constructor(
    private readonly nc: NatsConnection | undefined,
    /** Signs every event (receivers drop unsigned ones when they hold a secret). */
    private readonly key: FabricKey,
    private readonly log: Logger,
  ) {}

  get connected(): boolean {
    return this.nc !== undefined && !this.nc.isClosed();
  }

  /** Publishes and waits (briefly) until the server has it, so a revocation is in force when the call returns. */
  async publish<N extends ControlEventName>(name: N, event: ControlEvent<N>): Promise<void> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      publishControlEvent(nc, this.key, name, event);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([nc.flush(), new Promise<void>((r) => (timer = setTimeout(r, FLUSH_TIMEOUT_MS)))]);
      clearTimeout(timer);
      this.log.info({ event: name, ...idsOf(event) }, 'control event published');
    } catch (err) {
      this.log.warn({ event: name, err: (err as Error).message }, 'control event not published; caches will expire on their own');
    }
  }
}

/** Ids only (never the key hash) for logs. */
function idsOf(event: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) if (k.endsWith('Id')) out[k] = v;
  return out;
}
