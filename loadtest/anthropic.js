// k6 load test for the Anthropic Messages surface.
//   k6 run -e BASE_URL=https://api.example.com -e API_KEY=sk-tokios-… -e MODEL=llama3 loadtest/anthropic.js
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
export const options = { vus: Number(__ENV.VUS || 8), duration: __ENV.DURATION || '1m', thresholds: { checks: ['rate>0.99'] } };

export default function () {
  const res = http.post(
    `${BASE}/v1/messages`,
    JSON.stringify({ model: __ENV.MODEL || 'model-a', max_tokens: 64, stream: __ENV.STREAM === '1', messages: [{ role: 'user', content: 'Hi' }] }),
    { headers: { 'x-api-key': __ENV.API_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, timeout: '120s' },
  );
  check(res, { 'status 200': (r) => r.status === 200 });
}
