import t from 'tap';
import { fabricRequestJson, requestMeta, type RequestMeta } from '../../src/protocol/index.js';

t.test('the fabric Request metadata text is JSON.stringify of the same fields (schema order), and the schema takes it', async (t) => {
  const base: RequestMeta = {
    rid: 'ing_0a1b2c3d4e5f_1z-1', requestId: 'req_abc', protocol: 'openai.chat', model: 'llama', stream: false, bodyLength: 123,
    deadline: 1_765_000_000_000, headers: {}, ingressId: 'ing_0a1b2c3d4e5f', tenantId: 'ten_1', keyId: 'key_1', batches: true, pairHeartbeats: true,
  };
  const metas: RequestMeta[] = [
    base,
    { ...base, requestId: undefined, headers: undefined },
    { rid: 'ing_0a1b2c3d4e5f_2-1', protocol: 'openai.responses', model: 'm', stream: false, bodyLength: 5, deadline: 1 },
    { ...base, stream: true, model: 'qwen "3" \\ 7b\n', headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'é, ☃, \u0001' } },
    { ...base, protocol: 'anthropic.messages', model: 'модель', bodyLength: 0 },
  ];
  for (const m of metas) {
    const text = fabricRequestJson(m);
    t.equal(text, JSON.stringify(m), text.slice(0, 80));
    t.ok(requestMeta.safeParse(JSON.parse(text)).success, 'valid Request metadata');
  }
});
