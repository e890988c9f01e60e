import { z } from 'zod';
import { idSchema, upstreamKindSchema } from '../protocol/meta.js';

/** One live tunnel as a terminator reports it in answer to `tokios.status.query`. */
export const tunnelStatusSchema = z.object({
  tunnelId: idSchema,
  deploymentId: idSchema,
  connectorId: idSchema,
  version: z.string().max(64),
  upstreamKind: upstreamKindSchema,
  models: z.array(z.string().max(256)).max(256),
  healthy: z.boolean(),
  draining: z.boolean(),
  inFlight: z.number().int().min(0),
  maxConcurrency: z.number().int().min(1),
  connectedAt: z.string(),
});

export const terminatorStatusSchema = z.object({
  terminatorId: idSchema,
  url: z.string().max(2048).nullable(),
  tunnels: z.array(tunnelStatusSchema).max(100_000),
});

/** Optional filter in the query body: only tunnels of these deployments. */
export const statusQuerySchema = z.object({ deploymentIds: z.array(idSchema).max(10_000).optional() });

export type TunnelStatus = z.infer<typeof tunnelStatusSchema>;
export type TerminatorStatus = z.infer<typeof terminatorStatusSchema>;
export type StatusQuery = z.infer<typeof statusQuerySchema>;
