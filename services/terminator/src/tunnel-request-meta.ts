import { jsonText, jsonTextRecord, type RequestMeta } from '@tokios/shared/protocol';

/**
 * The Request's metadata as the connector gets it, as JSON text: without what is set on NATS only (who asked, what
 * the ingress reads). Written field by field (meta-json.ts: a third of JSON.stringify's cost, per request); the
 * output is JSON.stringify of the same fields in this order.
 */
export function tunnelRequestJson(m: RequestMeta): string {
  const requestId = m.requestId === undefined ? '' : `,"requestId":${jsonText(m.requestId)}`;
  const headers = m.headers === undefined ? '' : `,"headers":${jsonTextRecord(m.headers)}`;
  return `{"rid":${jsonText(m.rid)},"protocol":${jsonText(m.protocol)},"model":${jsonText(m.model)},"stream":${m.stream},"bodyLength":${m.bodyLength},"deadline":${m.deadline}${requestId}${headers}}`;
}
