// Pure helpers shared by the k6 scripts (no k6 import: the repository's tests run them under Node too,
// test/components/loadtest.test.ts). k6 and Node both load this file as an ES module.

/**
 * The API base ending in `/v1`, whether BASE_URL was given with or without it (`https://host`,
 * `https://host/v1`, `https://host/v1/`, `https://host/prefix`). Anything but http(s) is refused by name.
 */
export function apiBase(raw) {
  const s = String(raw === undefined || raw === null || raw === '' ? 'http://127.0.0.1:8080' : raw).trim();
  const m = /^(https?):\/\/([^/?#\s]+)(\/[^?#\s]*)?$/i.exec(s);
  if (!m) throw new Error(`BASE_URL must be an http(s) URL such as https://api.example.com or https://api.example.com/v1, not ${JSON.stringify(s)}`);
  const path = (m[3] || '').replace(/\/+$/, '');
  return `${m[1].toLowerCase()}://${m[2]}${/\/v1$/.test(path) ? path : `${path}/v1`}`;
}

/** The parsed body, or undefined when it is missing or not JSON (an HTML error page of a proxy, a cut body). */
export function jsonOf(body) {
  if (typeof body !== 'string' || body.length === 0) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A whole OpenAI Chat Completions answer: 200 and a JSON body with choices[0].message. */
export function chatAnswerOk(status, body) {
  const j = jsonOf(body);
  return status === 200 && isObject(j) && Array.isArray(j.choices) && isObject(j.choices[0]) && isObject(j.choices[0].message);
}

/** A whole Anthropic Messages answer: 200 and a JSON body `{type: "message", content: [...]}`. */
export function messagesAnswerOk(status, body) {
  const j = jsonOf(body);
  return status === 200 && isObject(j) && j.type === 'message' && Array.isArray(j.content);
}

/** The request body of both scripts: the same short prompt in both protocols (MAX_TOKENS bounds the answer). */
export function requestBody({ model, stream, maxTokens }) {
  return JSON.stringify({
    model,
    stream,
    max_tokens: maxTokens,
    messages: [{ role: 'user', content: 'Say hello in five words.' }],
  });
}

/**
 * Follows one streamed answer event by event (`name` is the SSE `event:` field, undefined when absent; `data` the
 * joined `data:` lines), as k6's SSE client delivers them, and says whether it completed:
 * - time to first token = time of the first event that carries data, from `startedAt` (not the response headers,
 *   which Tokios and most servers send before the model has produced anything);
 * - OpenAI Chat completes with `data: [DONE]`; an `{"error": …}` chunk is a failure;
 * - Anthropic Messages completes with `event: message_stop`; `event: error` is a failure.
 */
export class StreamWatch {
  constructor(protocol, startedAt) {
    if (protocol !== 'openai' && protocol !== 'anthropic') throw new Error(`protocol must be openai or anthropic, not ${protocol}`);
    this.protocol = protocol;
    this.startedAt = startedAt;
    this.firstDataAt = undefined;
    this.events = 0;
    this.done = false;
    this.error = undefined;
  }

  onEvent(name, data, now) {
    if (typeof data !== 'string' || data.length === 0) return;
    this.events++;
    if (this.firstDataAt === undefined) this.firstDataAt = now;
    if (this.protocol === 'openai') {
      if (data.trim() === '[DONE]') {
        this.done = true;
        return;
      }
      const j = jsonOf(data);
      if (!isObject(j)) this.error = this.error || 'a data event that is not JSON';
      else if (j.error !== undefined) this.error = this.error || `error event: ${errorText(j.error)}`;
      return;
    }
    // The SSE event name, else the JSON's `type` (both are sent; a client may surface only one).
    const j = jsonOf(data);
    const kind = name || (isObject(j) ? j.type : undefined);
    if (kind === 'message_stop') this.done = true;
    else if (kind === 'error') this.error = this.error || `error event: ${errorText(isObject(j) ? j.error : undefined)}`;
  }

  /** Milliseconds to the first data event, or undefined when none came. */
  get ttftMs() {
    return this.firstDataAt === undefined ? undefined : this.firstDataAt - this.startedAt;
  }

  /** True only for a stream that reached its protocol's end event without an error event. */
  get ok() {
    return this.done && this.error === undefined;
  }
}

function errorText(e) {
  if (isObject(e) && typeof e.type === 'string') return e.type;
  if (isObject(e) && typeof e.code === 'string') return e.code;
  return 'unknown';
}

/** Parses raw SSE text (for tests and for whole bodies): events as `{name, data}`, comments skipped. */
export function parseSse(text) {
  const out = [];
  for (const block of String(text).replace(/\r\n?/g, '\n').split('\n\n')) {
    let name;
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (name !== undefined || data.length > 0) out.push({ name, data: data.join('\n') });
  }
  return out;
}

/** Positive integer option from the environment (VUS, MAX_TOKENS), with a clear error naming it. */
export function intOption(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return n;
}

/** A required option (API_KEY): missing stops the run at once, naming it, instead of sending "Bearer undefined". */
export function requiredOption(env, name) {
  const v = env[name];
  if (v === undefined || v === '') throw new Error(`${name} is required (k6 run -e ${name}=…)`);
  return v;
}
