// k6 load test for a Tokios deployment (OpenAI Chat Completions, non-streamed and streamed).
//   k6 run -e BASE_URL=https://api.example.com/v1 -e API_KEY=sk-tokios-… -e MODEL=llama3 loadtest/chat.js
// Optional: -e VUS=16 -e DURATION=1m -e STREAM=1 -e MAX_TOKENS=64
import http from 'k6/http';
import { check } from 'k6';
import { Trend, Rate } from 'k6/metrics';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080/v1';
const KEY = __ENV.API_KEY;
const MODEL = __ENV.MODEL || 'model-a';
const STREAM = __ENV.STREAM === '1';
const ttfb = new Trend('tokios_time_to_first_byte', true);
const errors = new Rate('tokios_errors');

export const options = {
  vus: Number(__ENV.VUS || 16),
  duration: __ENV.DURATION || '1m',
  thresholds: {
    tokios_errors: ['rate<0.01'],
    http_req_duration: ['p(99)<30000'],
  },
};

export default function () {
  const res = http.post(
    `${BASE}/chat/completions`,
    JSON.stringify({
      model: MODEL,
      stream: STREAM,
      max_tokens: Number(__ENV.MAX_TOKENS || 64),
      messages: [{ role: 'user', content: 'Say hello in five words.' }],
    }),
    { headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' }, timeout: '120s' },
  );
  ttfb.add(res.timings.waiting);
  const ok = check(res, {
    'status 200': (r) => r.status === 200,
    'has an answer': (r) => (STREAM ? r.body.includes('data: [DONE]') : r.json('choices.0.message') !== undefined),
  });
  errors.add(!ok);
}
