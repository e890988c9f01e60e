import { jsonText, jsonTextRecord, type RequestMeta } from '@tokios/shared/protocol';

const text = (name: string, v: string | undefined): string => (v === undefined ? '' : `,"${name}":${jsonText(v)}`);
const flag = (name: string, v: boolean | undefined): string => (v === undefined ? '' : `,"${name}":${v}`);

/**
 * The fabric Request's metadata as JSON text, field by field (shared/src/protocol/meta-json.ts: JSON.stringify costs
 * about three times as much, once per request). The output is JSON.stringify of the same object with its fields in
 * the schema's order, undefined ones left out (the test compares both); the terminator parses and validates it as
 * any other.
 */
export function fabricRequestJson(m: RequestMeta): string {
  const headers = m.headers === undefined ? '' : `,"headers":${jsonTextRecord(m.headers)}`;
  return `{"rid":${jsonText(m.rid)}${text('requestId', m.requestId)},"protocol":${jsonText(m.protocol)},"model":${jsonText(m.model)},`
    + `"stream":${m.stream},"bodyLength":${m.bodyLength},"deadline":${m.deadline}${headers}${text('ingressId', m.ingressId)}`
    + `${text('tenantId', m.tenantId)}${text('keyId', m.keyId)}${flag('batches', m.batches)}${flag('pairHeartbeats', m.pairHeartbeats)}}`;
}
