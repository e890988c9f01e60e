import type { EndMeta, HeadMeta, RequestMeta } from './meta.js';

/*
 * Hand-written JSON for the metadata encoded once or more per request (the Request an ingress publishes and the
 * narrower one a terminator passes to its connector, the Head and End a connector sends back, the End the terminator
 * passes to the ingress). JSON.stringify
 * in this V8 looks up `toJSON` on every object and walks each string through its escaper: ~9 k instructions for a Request's metadata, ~4.5 k for an End's; a template with
 * the fields in place is a third of that. The output is what JSON.stringify gives for the same fields in the same
 * order (the protocol test compares both); the receiver parses and validates it like any other.
 */

/** `s` as a JSON string: as is between quotes when it is printable ASCII without `"` or `\`, else JSON.stringify's. */
export function jsonText(s: string): string {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** A string-to-string record as a JSON object, keys in their own order (JSON.stringify's). */
export function jsonTextRecord(r: Readonly<Record<string, string>>): string {
  let out = '';
  for (const k of Object.keys(r)) out += `${out === '' ? '{' : ','}${jsonText(k)}:${jsonText(r[k]!)}`;
  return out === '' ? '{}' : `${out}}`;
}

/** An End's metadata as JSON (frames, usage, error: the schema's fields, in that order). */
export function endMetaJson(e: EndMeta): string {
  const u = e.usage;
  const usage = u === undefined ? '' : `,"usage":{"input_tokens":${u.input_tokens},"output_tokens":${u.output_tokens}}`;
  const error = e.error === undefined ? '' : `,"error":{"code":${jsonText(e.error.code)}}`;
  return `{"frames":${e.frames}${usage}${error}}`;
}

/** A Head's metadata as JSON (status, contentType, ignored: the schema's fields, in that order). */
export function headMetaJson(h: HeadMeta): string {
  const ignored = h.ignored === undefined ? '' : `,"ignored":[${h.ignored.map(jsonText).join(',')}]`;
  return `{"status":${h.status},"contentType":${jsonText(h.contentType)}${ignored}}`;
}

/** `,"name":"v"` for an optional string field; nothing when it is absent. */
const optText = (name: string, v: string | undefined): string => (v === undefined ? '' : `,"${name}":${jsonText(v)}`);
/** `,"name":true|false` for an optional flag; nothing when it is absent. */
const optFlag = (name: string, v: boolean | undefined): string => (v === undefined ? '' : `,"${name}":${v}`);
const optHeaders = (h: Readonly<Record<string, string>> | undefined): string => (h === undefined ? '' : `,"headers":${jsonTextRecord(h)}`);

/**
 * The fabric Request's metadata as an ingress publishes it: every field, in the schema's order. The NATS-only fields
 * come last: a terminator passes the text before them on to the connector (request-fast.ts).
 */
export function fabricRequestJson(m: RequestMeta): string {
  return `{"rid":${jsonText(m.rid)}${optText('requestId', m.requestId)},"protocol":${jsonText(m.protocol)},"model":${jsonText(m.model)},`
    + `"stream":${m.stream},"bodyLength":${m.bodyLength},"deadline":${m.deadline}${optHeaders(m.headers)}${optText('ingressId', m.ingressId)}`
    + `${optText('tenantId', m.tenantId)}${optText('keyId', m.keyId)}${optFlag('batches', m.batches)}${optFlag('pairHeartbeats', m.pairHeartbeats)}}`;
}

/** The Request's metadata as the connector gets it: without what is set on NATS only (who asked, what the ingress reads). */
export function tunnelRequestJson(m: RequestMeta): string {
  return `{"rid":${jsonText(m.rid)},"protocol":${jsonText(m.protocol)},"model":${jsonText(m.model)},"stream":${m.stream},`
    + `"bodyLength":${m.bodyLength},"deadline":${m.deadline}${optText('requestId', m.requestId)}${optHeaders(m.headers)}}`;
}
