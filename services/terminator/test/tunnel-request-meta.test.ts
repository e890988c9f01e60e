import t from 'tap';
import { requestMeta, type RequestMeta } from '@tokios/shared/protocol';
import { tunnelRequestMeta } from '../src/tunnel-request-meta.js';

/** Set on NATS only: who asked and what the ingress reads; never sent to a connector. */
const NATS_ONLY = ['ingressId', 'tenantId', 'keyId', 'batches', 'pairHeartbeats'];

t.test('the connector gets every Request field but those set on NATS only', async (t) => {
  const full: RequestMeta = {
    rid: 'r1', requestId: 'req-1', protocol: 'openai.chat', model: 'm', stream: true, bodyLength: 12, deadline: Date.now() + 1_000,
    headers: { 'anthropic-version': '2023-06-01' }, ingressId: 'ing_1', tenantId: 'ten_1', keyId: 'key_1', batches: true, pairHeartbeats: true,
  };
  t.same(Object.keys(full).sort(), Object.keys(requestMeta.shape).sort(), 'the sample has every field of the schema');
  const out = tunnelRequestMeta(full);
  const expected = Object.fromEntries(Object.entries(full).filter(([k]) => !NATS_ONLY.includes(k)));
  t.strictSame(out, expected);
  t.ok(requestMeta.safeParse(out).success);
  const bare: RequestMeta = { rid: 'r2', protocol: 'anthropic.messages', model: 'm', stream: false, bodyLength: 0, deadline: Date.now() + 1_000 };
  t.strictSame(tunnelRequestMeta(bare), bare, 'optional fields absent stay absent');
});
