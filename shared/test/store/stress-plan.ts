import type { UsageRecord } from '../../src/store/types.js';

/** What the parent of the multi-process stress test hands each worker process, and what a worker reports. */

export interface StressPlan {
  dir: string;
  worker: number;
  tenantId: string;
  keys: number;
  /** Names every worker tries to create (exactly one may win each). */
  racingDeployments: string[];
  inviteCode: string;
  /** Tenants this worker redeems the shared invite for. */
  redeemers: string[];
  usageBatches: number;
  usagePerBatch: number;
  /** Record ids every worker sends in every batch (they must count once in all). */
  sharedIds: string[];
  usageAt: string;
  concurrency: number;
}

export interface StressResult {
  worker: number;
  keys: { id: string; secret: string }[];
  deploymentsWon: string[];
  deploymentConflicts: number;
  redeemed: number;
  rejected: Record<string, number>;
  usageSent: number;
  ownReadMisses: number;
  keyCountWentDown: number;
  reads: number;
  lockErrors: number;
}

/** The usage record a worker sends as number `i` (the parent recomputes the expected totals from it). */
export const stressRecord = (plan: Pick<StressPlan, 'tenantId' | 'usageAt'>, id: string, i: number): UsageRecord => ({
  id, at: plan.usageAt, tenantId: plan.tenantId, keyId: `key_w${i % 4}`, deploymentId: 'dep_stress', connectorId: 'con_stress',
  protocol: 'openai.chat', stream: i % 2 === 0, status: i % 7 === 0 ? 503 : 200, inputTokens: i % 13, outputTokens: 1 + (i % 5),
  ttftMs: i % 2 === 0 ? i % 100 : null, durationMs: 10 + (i % 50),
});
