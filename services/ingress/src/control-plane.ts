import type { NatsConnection } from 'nats';
import type { Logger } from '@tokios/shared/log';
import type { Store } from '@tokios/shared/store';
import { FabricKey } from '@tokios/shared/fabric-auth';
import { AuthCache, defaultAuthCacheOptions, type AuthCacheOptions } from './auth/auth-cache.js';
import { ControlEventListener } from './auth/control-events.js';
import { KeyStreams } from './auth/key-streams.js';
import { UsageRecorder, defaultUsageRecorderOptions, type UsageRecorderOptions } from './usage/recorder.js';
import { QuotaLimiter, defaultQuotaOptions, type QuotaOptions } from './quota/limiter.js';

export interface ControlPlaneOptions {
  authCache: AuthCacheOptions;
  usage: UsageRecorderOptions;
  quota: QuotaOptions;
}

export const defaultControlPlaneOptions = (): ControlPlaneOptions => ({
  authCache: defaultAuthCacheOptions(),
  usage: defaultUsageRecorderOptions(),
  quota: defaultQuotaOptions(),
});

/** The ingress side of the control plane: auth cache (+ its events), usage accounting, per-key quotas. */
export class IngressControlPlane {
  readonly auth: AuthCache;
  readonly usage: UsageRecorder;
  readonly quota: QuotaLimiter;
  /** Requests in flight per key: a revoked key's are aborted. */
  readonly streams = new KeyStreams();
  private readonly events: ControlEventListener;

  constructor(deps: { nc: NatsConnection; store: Store; log: Logger; replicaId: string; options: ControlPlaneOptions; fabricSecret: string | undefined }) {
    const { nc, store, log, replicaId, options } = deps;
    const key = new FabricKey(deps.fabricSecret);
    this.auth = new AuthCache(store, options.authCache, log);
    this.events = new ControlEventListener(nc, key, this.auth, log, (keyId) => {
      const n = this.streams.revoke(keyId);
      if (n > 0) log.info({ keyId, aborted: n }, 'api key revoked; its requests in flight aborted');
    });
    this.usage = new UsageRecorder(store, options.usage, log);
    this.quota = new QuotaLimiter(nc, key, replicaId, options.quota, log);
  }

  start(): void {
    this.events.start();
    this.usage.start();
    this.quota.start();
  }

  /** Publishes the last quota counts and writes the buffered usage (before NATS and the store close). */
  async close(): Promise<void> {
    this.events.close();
    this.quota.close();
    this.auth.close();
    await this.usage.close();
  }
}
