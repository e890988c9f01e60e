// k6 load test of a Tokios deployment through OpenAI Chat Completions (whole answers, or SSE streams with STREAM=1).
//   k6 run -e BASE_URL=https://api.example.com -e API_KEY=sk-tokios-… -e MODEL=llama3 loadtest/chat.js
// BASE_URL with or without /v1. Optional: -e VUS=16 -e DURATION=1m -e STREAM=1 -e MAX_TOKENS=64
// Streams are read event by event with k6's SSE extension (k6/x/sse), so time to first token is the arrival of the
// first `data:` event, not of the response headers.
import http from 'k6/http';
import sse from 'k6/x/sse';
import { check } from 'k6';
import { Rate, Trend } from 'k6/metrics';
import { StreamWatch, apiBase, chatAnswerOk, intOption, requestBody, requiredOption } from './lib/tokios.js';

const BASE = apiBase(__ENV.BASE_URL);
const STREAM = __ENV.STREAM === '1';
const BODY = requestBody({ model: __ENV.MODEL || 'model-a', stream: STREAM, maxTokens: intOption(__ENV, 'MAX_TOKENS', 64) });
const HEADERS = { Authorization: `Bearer ${requiredOption(__ENV, 'API_KEY')}`, 'Content-Type': 'application/json' };

const ttft = new Trend('tokios_time_to_first_token', true);
// Every failed request counts once, streamed or not: an HTTP error, a non-JSON body, a stream cut before [DONE].
const failed = new Rate('tokios_failed');

export const options = {
  vus: intOption(__ENV, 'VUS', 16),
  duration: __ENV.DURATION || '1m',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    tokios_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  },
};

function whole() {
  const res = http.post(`${BASE}/chat/completions`, BODY, { headers: HEADERS, timeout: '120s' });
  const ok = check(res, {
    'status 200': (r) => r.status === 200,
    'a JSON answer with a message': (r) => chatAnswerOk(r.status, r.body),
  });
  failed.add(!ok);
}

function streamed() {
  const watch = new StreamWatch('openai', Date.now());
  const res = sse.open(`${BASE}/chat/completions`, { method: 'POST', body: BODY, headers: HEADERS }, (client) => {
    client.on('event', (e) => watch.onEvent(e.name, e.data, Date.now()));
    client.on('error', (e) => {
      watch.error = watch.error || String(e.error());
    });
  });
  if (watch.ttftMs !== undefined) ttft.add(watch.ttftMs);
  const ok = check(res, {
    'status 200': (r) => r !== undefined && r !== null && r.status === 200,
    'stream ended with [DONE], no error event': () => watch.ok,
  });
  failed.add(!ok);
}

export default function () {
  if (STREAM) streamed();
  else whole();
}
