import { z } from 'zod';

export const deploymentNameSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
export const entityNameSchema = z.string().trim().min(1).max(128);

export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
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

/** A record plus the secret that was generated for it (returned once, at creation). */
export interface WithSecret<T> {
  record: T;
  secret: string;
}
