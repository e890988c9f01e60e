import t from 'tap';
import { tunnelRequestJson, requestMeta, type RequestMeta } from '../../src/protocol/index.js';

/** Set on NATS only: who asked and what the ingress reads; never sent to a connector. */
const NATS_ONLY = ['ingressId', 'tenantId', 'keyId', 'batches', 'pairHeartbeats'];

t.test('the connector gets every Request field but those set on NATS only', async (t) => {
  const full: RequestMeta = {
    rid: 'r1', requestId: 'req-1', protocol: 'openai.chat', model: 'm', stream: true, bodyLength: 12, deadline: Date.now() + 1_000,
    headers: { 'anthropic-version': '2023-06-01' }, ingressId: 'ing_1', tenantId: 'ten_1', keyId: 'key_1', batches: true, pairHeartbeats: true,
  };
  t.same(Object.keys(full).sort(), Object.keys(requestMeta.shape).sort(), 'the sample has every field of the schema');
  const out: unknown = JSON.parse(tunnelRequestJson(full));
  const expected = Object.fromEntries(Object.entries(full).filter(([k]) => !NATS_ONLY.includes(k)));
  t.strictSame(out, expected);
  t.ok(requestMeta.safeParse(out).success);
  const bare: RequestMeta = { rid: 'r2', protocol: 'anthropic.messages', model: 'm', stream: false, bodyLength: 0, deadline: Date.now() + 1_000 };
  t.strictSame(JSON.parse(tunnelRequestJson(bare)), bare, 'optional fields absent stay absent');
});

t.test('the JSON is what JSON.stringify gives for the same fields, whatever the strings hold', async (t) => {
  const models = ['m', 'llama3:8b-instruct', 'a"b', 'back\\slash', 'tab\there', 'nl\n', 'modèle ☃ 𝄞', '\u2028', '\ud800 lone', ''];
  for (const model of models) {
    const m: RequestMeta = {
      rid: 'r1', protocol: 'openai.chat', model, stream: false, bodyLength: 3, deadline: 1_796_151_646_519, requestId: 'req/1:a@b',
      headers: { 'x-odd': model, 'anthropic-version': '2023-06-01' },
    };
    const { rid, protocol, stream, bodyLength, deadline, requestId, headers } = m;
    t.equal(tunnelRequestJson(m), JSON.stringify({ rid, protocol, model, stream, bodyLength, deadline, requestId, headers }), `model ${models.indexOf(model)}`);
  }
  t.equal(tunnelRequestJson({ rid: 'r', protocol: 'openai.chat', model: 'm', stream: true, bodyLength: 0, deadline: 1, headers: {} }),
    '{"rid":"r","protocol":"openai.chat","model":"m","stream":true,"bodyLength":0,"deadline":1,"headers":{}}', 'empty headers');
});
