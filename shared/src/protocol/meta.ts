import { z } from 'zod';
import { FrameKind, frameKindName } from './kinds.js';
import { ProtocolError } from './errors.js';
import { TOKEN } from '../subjects/index.js';
import { MAX_PAUSE_LEASE_MS, MAX_TUNNEL_FRAME_BYTES, MIN_TUNNEL_FRAME_BYTES } from './limits.js';

/** Safe identifier: usable as a NATS subject token (it is the subjects module's TOKEN) and in logs. */
export const ID_PATTERN = TOKEN;
export const idSchema = z.string().regex(ID_PATTERN, 'must be 1-64 of [A-Za-z0-9_-]');

/**
 * A request id a caller may choose (`x-request-id`): bounded, and only characters that are safe in a header, a log
 * line and a URL. Anything else is replaced by an id of ours. It names a request in logs only: it is never a NATS
 * subject token nor a key of any map (two callers may send the same one).
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+=\/-]{0,127}$/;
export const requestIdSchema = z.string().regex(REQUEST_ID_PATTERN, 'must be 1-128 of [A-Za-z0-9._:@+=/-], starting with a letter or digit');

export const CALLER_PROTOCOLS = ['openai.chat', 'openai.responses', 'anthropic.messages', 'openai.completions', 'openai.embeddings', 'anthropic.count_tokens'] as const;
export const callerProtocolSchema = z.enum(CALLER_PROTOCOLS);
export type CallerProtocol = z.infer<typeof callerProtocolSchema>;
/** The protocols that are conversations (messages in, a turn out), translated through the chat pivot. */
export const CHAT_PROTOCOLS = ['openai.chat', 'openai.responses', 'anthropic.messages'] as const satisfies readonly CallerProtocol[];
export type ChatProtocol = (typeof CHAT_PROTOCOLS)[number];
/** The protocols whose callers are Anthropic clients: errors in Anthropic's shape. */
export const ANTHROPIC_PROTOCOLS = ['anthropic.messages', 'anthropic.count_tokens'] as const satisfies readonly CallerProtocol[];
export function isAnthropicProtocol(protocol: CallerProtocol): boolean {
  return (ANTHROPIC_PROTOCOLS as readonly CallerProtocol[]).includes(protocol);
}

export const UPSTREAM_KINDS = ['openai', 'ollama'] as const;
export const upstreamKindSchema = z.enum(UPSTREAM_KINDS);
export type UpstreamKind = z.infer<typeof upstreamKindSchema>;

export const REJECT_REASONS = ['busy', 'draining', 'unhealthy', 'unavailable'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

const shortText = z.string().max(1024);
/** The largest tunnel frame the announcing side accepts; absent (older versions) = DEFAULT_TUNNEL_FRAME_BYTES. */
const maxFrameBytes = z.number().int().min(MIN_TUNNEL_FRAME_BYTES).max(MAX_TUNNEL_FRAME_BYTES).optional();

export const helloMeta = z.object({
  connectorId: idSchema,
  version: z.string().max(64),
  upstreamKind: upstreamKindSchema,
  models: z.array(z.string().max(256)).max(256),
  maxConcurrency: z.number().int().min(1).max(100_000),
  healthy: z.boolean(),
  draining: z.boolean(),
  /** What the connector accepts: the terminator splits request bodies to fit. */
  maxFrameBytes,
  /**
   * Optional frames this connector understands (`pause`: Pause/Unpause). Names a terminator does not know are ignored;
   * a connector that announces nothing (older versions) is sent none of them.
   */
  features: z.array(z.string().max(32)).max(32).optional(),
});

export const welcomeMeta = z.object({
  terminatorId: idSchema,
  deploymentId: idSchema,
  deploymentName: z.string().max(256),
  pingIntervalMs: z.number().int().positive(),
  /** Tunnel URLs of other live terminators, so a connector can spread its tunnels. */
  peers: z.array(z.object({ id: idSchema, url: z.string().max(2048) })).max(64),
  /** What the terminator accepts: the connector sizes its Data frames to fit. */
  maxFrameBytes,
  /**
   * Short-lived credential for dialling a peer instead of the tunnel token (shared/src/fabric-auth/ticket.ts);
   * absent when the terminators share no fabric secret.
   */
  ticket: z.string().max(512).optional(),
  /** Operator allow-list of peer hosts beyond the gateway's own (`host` or `*.domain`, TOKIOS_PEER_HOSTS). */
  peerHosts: z.array(z.string().max(253)).max(64).optional(),
  /**
   * Optional messages this terminator reads (`batch`: tunnel Batch messages). Names a connector does not know are
   * ignored; a terminator that announces nothing (older versions) is sent none of them.
   */
  features: z.array(z.string().max(32)).max(32).optional(),
});

export const statusMeta = z.object({ healthy: z.boolean(), draining: z.boolean() });
export const goAwayMeta = z.object({ reason: shortText });

export const requestMeta = z.object({
  /** This attempt's id on the fabric (unique: subjects and stream maps are keyed by it). */
  rid: idSchema,
  /** The request id every tier logs (the caller's `x-request-id` when valid, else the ingress's own). */
  requestId: requestIdSchema.optional(),
  protocol: callerProtocolSchema,
  /** Deployment name the caller asked for (the `model` field). */
  model: z.string().max(256),
  stream: z.boolean(),
  /** Total body length; when the payload is shorter, Body frames carry the rest. */
  bodyLength: z.number().int().min(0),
  /** Wall-clock deadline (ms since epoch) after which the work is pointless. */
  deadline: z.number().int().positive(),
  /** Subset of caller headers the upstream may need (e.g. anthropic-version). */
  headers: z.record(z.string().max(64), z.string().max(1024)).optional(),
  // Set on NATS only: who asked, for usage and logs.
  ingressId: idSchema.optional(),
  tenantId: idSchema.optional(),
  keyId: idSchema.optional(),
  /** Set on NATS only: the ingress reads Batch messages (batch.ts), so the terminator may group this stream's frames. */
  batches: z.boolean().optional(),
  /**
   * Set on NATS only: the ingress reads PairHeartbeat messages (pair-heartbeat.ts) on its `tokios.in.<ingressId>.hb.`
   * subjects, so the terminator lists this stream there while it is silent instead of sending it Heartbeat frames.
   */
  pairHeartbeats: z.boolean().optional(),
});

export const cancelMeta = z.object({ reason: shortText }).optional();
/** What the ingress has of a stream's answer: the Head or not, and the sequence number of the next Data frame. */
export const resumeMeta = z.object({ head: z.boolean(), next: z.number().int().min(0) });
/** How long the stream stays held unless renewed (PAUSE_LEASE_MS from the ingress). */
export const pauseMeta = z.object({ ms: z.number().int().min(1).max(MAX_PAUSE_LEASE_MS) });
export const ackMeta = z.object({ terminatorId: idSchema, connectorId: idSchema });
export const rejectMeta = z.object({ reason: z.enum(REJECT_REASONS), message: shortText });
/** A name in `HeadMeta.ignored`: a request field or a tool. */
export const IGNORED_NAME_PATTERN = /^[A-Za-z0-9_.:?-]{1,96}$/;
export const headMeta = z.object({
  /**
   * A final status: 1xx from a connector would become an interim or protocol-switching answer on the caller's
   * keep-alive connection, so a Head outside 200-599 is refused (the caller gets 502).
   */
  status: z.number().int().min(200).max(599),
  contentType: z.string().max(256),
  /** Request fields the connector accepted without effect, or tools it dropped (names only; `tokios-ignored`). */
  ignored: z.array(z.string().regex(IGNORED_NAME_PATTERN)).max(32).optional(),
});
export const usageSchema = z.object({
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
});
export const endMeta = z.object({
  /** Number of Data frames sent for this stream (gap detection). */
  frames: z.number().int().min(0),
  usage: usageSchema.optional(),
  /**
   * The answer carries an error in the caller's format: a mapped model-server error, or a stream that failed after
   * its 200 went out. The code (error registry) is what logs, metrics and usage record as the outcome.
   */
  error: z.object({ code: z.string().max(64) }).optional(),
});
export const errorMeta = z.object({
  code: z.string().max(64),
  message: shortText,
  /** The request parameter at fault (OpenAI `error.param`), when there is one. */
  param: z.string().max(256).nullable().optional(),
});

export type HelloMeta = z.infer<typeof helloMeta>;
export type WelcomeMeta = z.infer<typeof welcomeMeta>;
/** Another live terminator, as a Welcome lists it. */
export type PeerTerminator = WelcomeMeta['peers'][number];
export type StatusMeta = z.infer<typeof statusMeta>;
export type GoAwayMeta = z.infer<typeof goAwayMeta>;
export type RequestMeta = z.infer<typeof requestMeta>;
export type ResumeMeta = z.infer<typeof resumeMeta>;
export type PauseMeta = z.infer<typeof pauseMeta>;
export type AckMeta = z.infer<typeof ackMeta>;
export type RejectMeta = z.infer<typeof rejectMeta>;
export type HeadMeta = z.infer<typeof headMeta>;
export type EndMeta = z.infer<typeof endMeta>;
export type ErrorMeta = z.infer<typeof errorMeta>;
export type Usage = z.infer<typeof usageSchema>;

const none = z.undefined();

const schemas = {
  [FrameKind.Hello]: helloMeta,
  [FrameKind.Welcome]: welcomeMeta,
  [FrameKind.Ping]: none,
  [FrameKind.Pong]: none,
  [FrameKind.Status]: statusMeta,
  [FrameKind.GoAway]: goAwayMeta,
  [FrameKind.Request]: requestMeta,
  [FrameKind.Body]: none,
  [FrameKind.Cancel]: cancelMeta,
  [FrameKind.Resume]: resumeMeta,
  [FrameKind.Pause]: pauseMeta,
  [FrameKind.Unpause]: none,
  [FrameKind.Ack]: ackMeta,
  [FrameKind.Reject]: rejectMeta,
  [FrameKind.Head]: headMeta,
  [FrameKind.Data]: none,
  [FrameKind.End]: endMeta,
  [FrameKind.Error]: errorMeta,
  [FrameKind.Heartbeat]: none,
  [FrameKind.Batch]: none,
  [FrameKind.PairHeartbeat]: none,
} as const satisfies Record<FrameKind, z.ZodType>;

type Schemas = typeof schemas;
/** The validated metadata of a frame kind (`undefined` for kinds that carry none). */
export type MetaOf<K extends FrameKind> = z.infer<Schemas[K]>;

/** Validates parsed JSON metadata against its kind's schema (decodeFrame does this for every frame it returns). */
export function validateMeta<K extends FrameKind>(kind: K, meta: unknown, id = 0): MetaOf<K> {
  const result = (schemas[kind] as z.ZodType).safeParse(meta);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new ProtocolError(`invalid ${frameKindName(kind)} metadata${where}: ${issue?.message ?? 'invalid'}`, { frame: { kind, id } });
  }
  return result.data as MetaOf<K>;
}
