import { FrameKind } from './kinds.js';
import { isToken } from '../subjects/index.js';
import { CALLER_PROTOCOLS, IGNORED_NAME_PATTERN, type MetaOf } from './meta.js';

/**
 * Hand-written checks for the metadata every request carries (Request, Ack, Head, End), run before zod: a few property
 * reads instead of a schema walk and a copy, per frame on the hot path. Each accepts a strict subset of what its zod
 * schema in meta.ts accepts (that schema stays the definition): only plain objects with known keys and values
 * inside the schema's bounds, returned as they are (they are fresh from JSON.parse). Anything else — an unknown key,
 * a value out of bounds, an odd header name — returns undefined and goes through zod, which then accepts it or
 * names what is wrong. The protocol test checks each against its schema on valid and invalid samples.
 */
export function fastMeta<K extends FrameKind>(kind: K, meta: unknown): MetaOf<K> | undefined {
  // A check passed: the value is what that kind's schema returns for it (validateMeta casts zod's output alike).
  return FAST[kind]?.(meta) ? (meta as MetaOf<K>) : undefined;
}

const PROTOCOLS: ReadonlySet<unknown> = new Set(CALLER_PROTOCOLS);
/** Header names taken without zod: what the ingress forwards (lower-case names); others go to zod. */
const HEADER_NAME = /^[a-z0-9-]{1,64}$/;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * ID_PATTERN as a loop over the characters (the Request's four ids are checked per request, and a regex run costs
 * several times a short loop): an id is a subject token, so this is the subjects module's own check.
 */
export const isIdText: (v: string) => boolean = isToken;

/** An ASCII letter or digit (character code). */
const isAlnum = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);

/**
 * REQUEST_ID_PATTERN (`^[A-Za-z0-9][A-Za-z0-9._:@+=\/-]{0,127}$`) as a loop, like isIdText: a request id comes with
 * every Request (the protocol test checks both agree).
 */
export function isRequestIdText(v: string): boolean {
  const n = v.length;
  if (n === 0 || n > 128 || !isAlnum(v.charCodeAt(0))) return false;
  for (let i = 1; i < n; i++) {
    const c = v.charCodeAt(i);
    // . _ : @ + = / -
    if (!(isAlnum(c) || c === 0x2e || c === 0x5f || c === 0x3a || c === 0x40 || c === 0x2b || c === 0x3d || c === 0x2f || c === 0x2d)) return false;
  }
  return true;
}

const isId = (v: unknown): boolean => typeof v === 'string' && isIdText(v);
const isText = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;
const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

function isHeaders(v: unknown): boolean {
  if (!isObject(v)) return false;
  for (const k in v) if (!HEADER_NAME.test(k) || !isText(v[k], 1024)) return false;
  return true;
}

function isRequestMeta(m: unknown): boolean {
  if (!isObject(m)) return false;
  // The six required keys seen (an object has each key once): counted, not looked up again after the loop.
  let required = 0;
  for (const k in m) {
    const v = m[k];
    switch (k) {
      case 'rid':
        if (!isId(v)) return false;
        required++;
        break;
      case 'ingressId':
      case 'tenantId':
      case 'keyId':
        if (!isId(v)) return false;
        break;
      case 'requestId':
        if (typeof v !== 'string' || !isRequestIdText(v)) return false;
        break;
      case 'protocol':
        if (!PROTOCOLS.has(v)) return false;
        required++;
        break;
      case 'model':
        if (!isText(v, 256)) return false;
        required++;
        break;
      case 'stream':
        if (typeof v !== 'boolean') return false;
        required++;
        break;
      case 'batches':
      case 'pairHeartbeats':
        if (typeof v !== 'boolean') return false;
        break;
      case 'bodyLength':
        if (!isInt(v, 0)) return false;
        required++;
        break;
      case 'deadline':
        if (!isInt(v, 1)) return false;
        required++;
        break;
      case 'headers':
        if (!isHeaders(v)) return false;
        break;
      default:
        return false;
    }
  }
  return required === 6;
}

function isHeadMeta(m: unknown): boolean {
  if (!isObject(m)) return false;
  for (const k in m) {
    const v = m[k];
    if (k === 'status') {
      if (!isInt(v, 200, 599)) return false;
    } else if (k === 'contentType') {
      if (!isText(v, 256)) return false;
    } else if (k === 'ignored') {
      if (!Array.isArray(v) || v.length > 32 || !v.every((n) => typeof n === 'string' && IGNORED_NAME_PATTERN.test(n))) return false;
    } else return false;
  }
  return 'status' in m && 'contentType' in m;
}

function isEndMeta(m: unknown): boolean {
  if (!isObject(m)) return false;
  for (const k in m) {
    const v = m[k];
    if (k === 'frames') {
      if (!isInt(v, 0)) return false;
    } else if (k === 'usage') {
      if (!isObject(v) || !isInt(v.input_tokens, 0) || !isInt(v.output_tokens, 0) || Object.keys(v).length !== 2) return false;
    } else if (k === 'error') {
      if (!isObject(v) || !isText(v.code, 64) || Object.keys(v).length !== 1) return false;
    } else return false;
  }
  return 'frames' in m;
}

/** The Ack every request gets back at the ingress. */
function isAckMeta(m: unknown): boolean {
  if (!isObject(m)) return false;
  for (const k in m) if ((k !== 'terminatorId' && k !== 'connectorId') || !isId(m[k])) return false;
  return 'terminatorId' in m && 'connectorId' in m;
}

const FAST: Partial<Record<FrameKind, (meta: unknown) => boolean>> = {
  [FrameKind.Request]: isRequestMeta,
  [FrameKind.Ack]: isAckMeta,
  [FrameKind.Head]: isHeadMeta,
  [FrameKind.End]: isEndMeta,
};
