import t from 'tap';
import { ollamaUpstream, openaiUpstream } from '../../../src/translate/upstream/index.js';
import { safeText } from '../../../src/translate/upstream/http-error.js';

t.test('status mapping with upstream messages (OpenAI-compatible shapes)', async (t) => {
  const p = openaiUpstream.parseError;
  t.strictSame(p(400, '{"error":{"message":"This model\'s maximum context length is 4096 tokens.","type":"invalid_request_error","code":400}}'), {
    code: 'invalid_request',
    message: "The model server rejected the request (HTTP 400): This model's maximum context length is 4096 tokens.",
  });
  t.strictSame(p(400, '{"object":"error","message":"bad  \\n  stop","type":"BadRequestError","param":null,"code":400}'), {
    code: 'invalid_request',
    message: 'The model server rejected the request (HTTP 400): bad stop',
  });
  t.strictSame(p(422, '{"detail":"field required"}'), { code: 'invalid_request', message: 'The model server rejected the request (HTTP 422): field required' });
  t.strictSame(p(401, '{"error":{"message":"Invalid API key sk-secret"}}'), { code: 'upstream_error', message: "The model server refused the connector's credentials (HTTP 401)." });
  t.strictSame(p(403, 'Forbidden'), { code: 'upstream_error', message: "The model server refused the connector's credentials (HTTP 403)." });
  t.strictSame(p(404, '{"object":"error","message":"The model `llama` does not exist.","code":404}'), {
    code: 'model_not_found',
    message: 'The model server does not have the model this deployment is configured for.',
  });
  t.strictSame(p(404, '{"detail":"Not Found"}'), { code: 'upstream_error', message: 'The model server has no such endpoint (HTTP 404).' });
  t.strictSame(p(413, ''), { code: 'body_too_large', message: 'The model server rejected the request (HTTP 413).' });
  t.strictSame(p(429, '{"error":"slow down"}'), { code: 'rate_limited', message: 'The model server failed (HTTP 429): slow down' });
  t.strictSame(p(500, '<html><body>Internal Server Error</body></html>'), { code: 'upstream_error', message: 'The model server failed (HTTP 500).' });
  t.strictSame(p(502, 'upstream connect error'), { code: 'upstream_error', message: 'The model server failed (HTTP 502): upstream connect error' });
  t.strictSame(p(503, '{"error":"server busy, please try again.  maximum pending requests exceeded"}'), {
    code: 'capacity',
    message: 'The model server failed (HTTP 503): server busy, please try again. maximum pending requests exceeded',
  });
  t.strictSame(p(504, ''), { code: 'timeout', message: 'The model server failed (HTTP 504).' });
  t.strictSame(p(418, '{"weird":true}'), { code: 'invalid_request', message: 'The model server rejected the request (HTTP 418).' });
});

t.test('Ollama shapes', async (t) => {
  const p = ollamaUpstream.parseError;
  t.strictSame(p(404, '{"error":"model \\"llama9\\" not found, try pulling it first"}'), {
    code: 'model_not_found',
    message: 'The model server does not have the model this deployment is configured for.',
  });
  t.strictSame(p(400, '{"error":"registry.ollama.ai/library/gemma:2b does not support tools"}'), {
    code: 'invalid_request',
    message: 'The model server rejected the request (HTTP 400): registry.ollama.ai/library/gemma:2b does not support tools',
  });
  t.strictSame(p(500, '{"error":"llama runner process has terminated: exit status 2"}'), {
    code: 'upstream_error',
    message: 'The model server failed (HTTP 500): llama runner process has terminated: exit status 2',
  });
});

t.test('huge bodies are never forwarded: truncated to 300 characters', async (t) => {
  const r = openaiUpstream.parseError(500, JSON.stringify({ error: { message: 'x'.repeat(100_000) } }));
  t.equal(r.message, `The model server failed (HTTP 500): ${'x'.repeat(299)}…`);
  const raw = openaiUpstream.parseError(500, 'y'.repeat(1_000_000));
  t.equal(raw.message.length, 'The model server failed (HTTP 500): '.length + 300);
  t.equal(safeText('a\u0000b\tc\r\n d'), 'a b c d');
  t.equal(safeText('   '), '');
});
