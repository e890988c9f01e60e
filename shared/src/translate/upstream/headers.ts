/**
 * The header sets of requests to the model server, one frozen object each: the same object on every request, so
 * the connector merges each with its own headers once (upstream-http.ts keeps frozen sets it was given).
 */
export const JSON_BODY_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });
export const OPENAI_STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json', accept: 'text/event-stream' });
export const OLLAMA_STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json', accept: 'application/x-ndjson' });
