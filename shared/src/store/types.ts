import { z } from 'zod';
import type { CallerProtocol } from '../protocol/meta.js';

export const deploymentNameSchema = z
  .string()
  .min(1)
  .max(256)
  // No `/`: `<tenantId>/<name>` is how a caller names another tenant's shared deployment, so a name holding a `/`
  // could pose as a qualified name of someone else's deployment.
  .regex(/^[\x21-\x2e\x30-\x7e]+$/, 'printable ASCII without spaces or /');
export const entityNameSchema = z.string().trim().min(1).max(128);

/** Display part and hash of a secret; the secret itself is shown once and never stored. */
export interface SecretRef {
  /** First characters of the secret, for recognising it in lists. */
  prefix: string;
  /** sha256 of the secret. */
  hash: string;
  createdAt: string;
}

export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
  /** The dashboard login secret (`tc-tokios-…`), or null until one is issued. One per tenant; issuing rotates. */
  console: SecretRef | null;
}

/** Per-key rate limits; an absent field means "no limit of that kind". */
export interface KeyLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  /** First characters of the secret, for recognising a key in lists. */
  prefix: string;
  /** sha256 of the secret; the secret itself is shown once and never stored. */
  hash: string;
  createdAt: string;
  revokedAt: string | null;
  /** null: no limits. */
  limits: KeyLimits | null;
}

export interface Deployment {
  id: string;
  tenantId: string;
  /** What clients send as `model`; unique per tenant. */
  name: string;
  createdAt: string;
}

export interface TunnelToken {
  id: string;
  tenantId: string;
  deploymentId: string;
  prefix: string;
  hash: string;
  createdAt: string;
  revokedAt: string | null;
}

/** An invite code (`ti-tokios-…`) that lets another tenant use a deployment. */
export interface Invite {
  id: string;
  deploymentId: string;
  /** The deployment's owner. */
  tenantId: string;
  prefix: string;
  hash: string;
  createdAt: string;
  /** Redemption fails at and after this instant. */
  expiresAt: string;
  maxUses: number;
  uses: number;
  revokedAt: string | null;
}

/** A deployment shared with a tenant that is not its owner. Revoking deletes it. */
export interface Share {
  id: string;
  deploymentId: string;
  ownerTenantId: string;
  /** The tenant the deployment is shared with. */
  tenantId: string;
  inviteId: string;
  createdAt: string;
}

export interface SharedDeployment {
  share: Share;
  deployment: Deployment;
}

/**
 * How an alias picks among its targets: `ordered` tries them in list order (the first is the primary, the others
 * fallbacks); `weighted` picks the first by weight, then falls back to the others in a weighted order too.
 */
export const ALIAS_MODES = ['ordered', 'weighted'] as const;
export type AliasMode = (typeof ALIAS_MODES)[number];
/** Targets per alias: each fallback costs a round trip before the first answer byte, so the list stays short. */
export const MAX_ALIAS_TARGETS = 8;
export const MAX_ALIAS_WEIGHT = 1000;

export interface AliasTarget {
  /** A deployment of the alias's tenant or shared with it (never another alias: no chains, no cycles). */
  deploymentId: string;
  /** Relative share of traffic in `weighted` mode (1–1000); 1 in `ordered` mode, where it is not used. */
  weight: number;
}

/**
 * A name that stands for a list of deployments: a request whose `model` is the alias goes to its first target
 * with a live tunnel and room, before the first answer byte only. Shares the deployments' namespace per tenant
 * (an alias and a deployment never have the same name); aliases are not shared with other tenants.
 */
export interface Alias {
  id: string;
  tenantId: string;
  name: string;
  mode: AliasMode;
  /** 1–MAX_ALIAS_TARGETS distinct deployments. A target deleted or unshared later stays listed and is skipped. */
  targets: AliasTarget[];
  createdAt: string;
  updatedAt: string;
}

/** What a `model` name means to a tenant: one deployment, or an alias with the targets the tenant may use now. */
export type ModelRoute =
  | { kind: 'deployment'; deployment: Deployment }
  | { kind: 'alias'; alias: Alias; targets: { deployment: Deployment; weight: number }[] };

/** One finished request, as the ingress reports it. Never carries prompt or completion text. */
export interface UsageRecord {
  /** Unique per request; recording the same id twice counts once. */
  id: string;
  /** When the request finished (ISO 8601). */
  at: string;
  /** The tenant whose API key made the request (not the deployment owner, for shared deployments). */
  tenantId: string;
  keyId: string;
  /** The deployment that served (for a request through an alias: the target that took it). */
  deploymentId: string;
  /** The alias the request named, when it named one; absent or null otherwise. */
  aliasId?: string | null;
  connectorId: string;
  protocol: CallerProtocol;
  stream: boolean;
  /** HTTP status sent to the caller; >= 400 counts as an error. */
  status: number;
  inputTokens: number;
  outputTokens: number;
  /** Time to first token; null when nothing was streamed. */
  ttftMs: number | null;
  durationMs: number;
}

export interface UsageQuery {
  tenantId: string;
  /** Inclusive start (ISO 8601); taken down to the hour. Buckets are aligned to it. */
  from: string;
  /** Exclusive end (ISO 8601); taken up to the hour. */
  to: string;
  /** A whole number of hours (usage is kept per hour). */
  bucketMs: number;
  deploymentId?: string;
  keyId?: string;
}

/** Raw usage records of one tenant in [from, to), newest first (within the raw retention only). */
export interface UsageRecordQuery {
  tenantId: string;
  from: string;
  to: string;
  /** At most this many (1–1000; default 100). */
  limit?: number;
}

export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** Requests answered with status >= 400 (clientErrors + serverErrors). */
  errors: number;
  /** Requests answered 4xx (429 rate limits included). */
  clientErrors: number;
  /** Requests answered 5xx. */
  serverErrors: number;
  /** Sum of the requests' durations (ms): the average is durationMsSum / requests. */
  durationMsSum: number;
  /** Sum of the times to first token (ms) of the ttftCount requests that streamed one. */
  ttftMsSum: number;
  ttftCount: number;
}

export interface UsageBucket extends UsageTotals {
  /** Bucket start: from + i * bucketMs. */
  start: string;
}

export interface UsageReport {
  /** The range covered: the query's, widened to whole hours. */
  from: string;
  to: string;
  bucketMs: number;
  /** Every bucket of [from, to), empty ones included, oldest first. Hours past the rollup retention are empty. */
  buckets: UsageBucket[];
  totals: UsageTotals;
}

/** A record plus the secret that was generated for it (returned once, at creation). */
export interface WithSecret<T> {
  record: T;
  secret: string;
}
