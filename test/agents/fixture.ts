import { PNG } from '../support/sdk-callers.js';
import type { Recorded } from './responder.js';

/** One request of a client, as kept in the corpus (`test/fixtures/clients/`). */
export interface FixtureRequest {
  method: string;
  /** Path with the query string, as the client sent it. */
  path: string;
  /** Lower-case names; secrets replaced by `<secret>`; host, content-length and connection left out. */
  headers: Record<string, string>;
  /** The JSON body (null for none), long prose shortened, images replaced by a 1×1 PNG. */
  body: unknown;
}

/** One client running one scenario: every request it sent, in order. */
export interface Fixture {
  /** `<client>@<version>`, the file's name without the scenario. */
  client: string;
  /** The npm packages (exact versions) that sent it. */
  packages: string[];
  /** The caller API, also the corpus folder. */
  protocol: 'anthropic-messages' | 'openai-responses' | 'openai-chat';
  scenario: string;
  /** The client's final answer: shows the run completed against the capture responder. */
  answer: string;
  requests: FixtureRequest[];
}

const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'cookie', 'proxy-authorization', 'x-goog-api-key']);
const TRANSPORT_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive']);
/** Strings longer than this are prose (system prompts, tool descriptions) and are cut to PROSE_KEEP characters. */
const PROSE_LIMIT = 400;
const PROSE_KEEP = 160;
/** The scenario's prompt key and answers: what a replay of the fixture looks for. */
const MARKER = /tokios-(scenario|note|answer|image)[:-]/;
const DATA_URL = /^data:image\/[\w.+-]+;base64,/;

export function fixtureHeaders(h: Recorded['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h).sort(([a], [b]) => a.localeCompare(b))) {
    if (v === undefined || TRANSPORT_HEADERS.has(k)) continue;
    const value = Array.isArray(v) ? v.join(', ') : v;
    out[k] = SECRET_HEADERS.has(k) ? value.replace(/^(Bearer |Basic )?.*$/i, (_, scheme: string | undefined) => `${scheme ?? ''}<secret>`) : value;
  }
  return out;
}

/**
 * The body with every field and its type kept: base64 images become the same 1×1 PNG (still a valid image of
 * the same kind of field), prose over PROSE_LIMIT characters keeps its start and says how long it was. Strings
 * that are JSON (tool-call arguments) and the scenario's own markers are kept whole.
 */
export function fixtureBody(v: unknown, parent?: Record<string, unknown>): unknown {
  if (typeof v === 'string') return fixtureString(v, parent);
  if (Array.isArray(v)) return v.map((x) => fixtureBody(x));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = fixtureBody(x, o);
    // Anthropic image source and similar: base64 data whose media type travels beside it.
    if (o.type === 'base64' && typeof o.data === 'string' && typeof o.media_type === 'string' && o.media_type.startsWith('image/')) {
      out.data = PNG;
      out.media_type = 'image/png';
    }
    return out;
  }
  return v;
}

function fixtureString(s: string, parent?: Record<string, unknown>): string {
  if (DATA_URL.test(s)) return `data:image/png;base64,${PNG}`;
  if (parent?.type === 'base64' || s.length <= PROSE_LIMIT || MARKER.test(s)) return s;
  if (/^\s*[[{]/.test(s)) {
    try {
      JSON.parse(s);
      return s;
    } catch {
      // prose that starts with a bracket
    }
  }
  return `${s.slice(0, PROSE_KEEP)}…[${s.length} chars]`;
}

export function fixtureRequest(r: Recorded): FixtureRequest {
  return { method: r.method, path: r.url, headers: fixtureHeaders(r.headers), body: r.raw.length === 0 ? null : fixtureBody(r.body) };
}
