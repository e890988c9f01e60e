import type { RequestMeta } from '@tokios/shared/protocol';

/**
 * The Request's metadata as the connector gets it: without what is set on NATS only (who asked, what the ingress
 * reads). Built field by field: a rest spread that leaves keys out is a slow-mode object to build and to stringify.
 */
export function tunnelRequestMeta(m: RequestMeta): RequestMeta {
  const out: RequestMeta = { rid: m.rid, protocol: m.protocol, model: m.model, stream: m.stream, bodyLength: m.bodyLength, deadline: m.deadline };
  if (m.requestId !== undefined) out.requestId = m.requestId;
  if (m.headers !== undefined) out.headers = m.headers;
  return out;
}
