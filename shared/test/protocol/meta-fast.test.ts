import t from 'tap';
import { FrameKind } from '../../src/protocol/kinds.js';
import { ID_PATTERN, REQUEST_ID_PATTERN, ackMeta, endMeta, headMeta, requestMeta } from '../../src/protocol/meta.js';
import { fastMeta, isIdText, isRequestIdText } from '../../src/protocol/meta-fast.js';

/** A Request as today's ingress sends it. */
const request = {
  protocol: 'openai.chat', model: 'm', stream: false, headers: { 'anthropic-version': '2023-06-01' }, tenantId: 'ten_1', keyId: 'key_1',
  rid: 'ing_1_3mo-1', requestId: 'req_a3ff2f9be0bf0003mo', ingressId: 'ing_1', bodyLength: 57, deadline: 1796151646519, batches: true, pairHeartbeats: true,
};
const { headers: _h, requestId: _r, tenantId: _t, keyId: _k, ingressId: _i, batches: _b, pairHeartbeats: _p, ...bareRequest } = request;

const cases = [
  {
    kind: FrameKind.Request, schema: requestMeta,
    valid: [request, bareRequest, { ...request, headers: {} }, { ...request, model: 'x'.repeat(256), bodyLength: 0 }],
    invalid: [
      null, [], 'x', { ...request, rid: 'a.b' }, { ...request, rid: '' }, { ...request, rid: 'x'.repeat(65) }, { ...request, protocol: 'other' },
      { ...request, model: 'x'.repeat(257) }, { ...request, stream: 'no' }, { ...request, bodyLength: -1 }, { ...request, bodyLength: 1.5 },
      { ...request, bodyLength: 2 ** 53 }, { ...request, deadline: 0 }, { ...request, headers: { a: 'x'.repeat(1025) } },
      { ...request, headers: { ['x'.repeat(65)]: 'v' } }, { ...request, headers: [] }, { ...request, headers: { a: 1 } }, { ...request, requestId: '-x' },
      { ...request, keyId: null }, { ...request, batches: 1 }, JSON.parse('{"__proto__":{"x":1}}'),
      Object.fromEntries(Object.entries(request).filter(([k]) => k !== 'deadline')),
    ],
    /** zod accepts these (unknown keys stripped), the fast check leaves them to it. */
    slow: [{ ...request, headers: { 'X-Upper': 'v' } }, { ...request, extra: 1 }],
  },
  {
    kind: FrameKind.Ack, schema: ackMeta,
    valid: [{ terminatorId: 'ter_1', connectorId: 'con_a-B' }, { terminatorId: 'x'.repeat(64), connectorId: 'y' }],
    invalid: [
      { terminatorId: 'x'.repeat(65), connectorId: 'y' }, { terminatorId: '', connectorId: 'y' }, { terminatorId: 'a.b', connectorId: 'y' },
      { terminatorId: 1, connectorId: 'y' }, { connectorId: 'y' }, { terminatorId: 't' }, null, [],
    ],
    slow: [{ terminatorId: 't', connectorId: 'c', more: 1 }],
  },
  {
    kind: FrameKind.Head, schema: headMeta,
    valid: [{ status: 200, contentType: 'application/json' }, { status: 599, contentType: '', ignored: ['top_k', 'tools:web_search?'] }],
    invalid: [
      { status: 199, contentType: 'a' }, { status: 600, contentType: 'a' }, { status: 200.5, contentType: 'a' }, { status: 200 }, { contentType: 'a' },
      { status: 200, contentType: 'x'.repeat(257) }, { status: 200, contentType: 'a', ignored: ['a b'] }, { status: 200, contentType: 'a', ignored: 'a' },
      { status: 200, contentType: 'a', ignored: Array.from({ length: 33 }, () => 'a') },
    ],
    slow: [{ status: 200, contentType: 'a', more: 1 }],
  },
  {
    kind: FrameKind.End, schema: endMeta,
    valid: [{ frames: 0 }, { frames: 3, usage: { input_tokens: 5, output_tokens: 7 } }, { frames: 1, error: { code: 'upstream_error' } }],
    invalid: [
      {}, { frames: -1 }, { frames: '1' }, { frames: 1, usage: { input_tokens: -1, output_tokens: 0 } }, { frames: 1, usage: { input_tokens: 1 } },
      { frames: 1, error: { code: 'x'.repeat(65) } }, { frames: 1, error: {} },
    ],
    slow: [{ frames: 1, usage: { input_tokens: 1, output_tokens: 1, cached: 1 } }, { frames: 1, error: { code: 'x', more: 1 } }, { frames: 1, more: 1 }],
  },
] as const;

t.test('the fast checks accept the usual metadata, as zod does, returning what zod returns', async (t) => {
  for (const c of cases) {
    for (const sample of c.valid) {
      const fast = fastMeta(c.kind, structuredClone(sample));
      t.ok(fast, `fast path taken: ${JSON.stringify(sample).slice(0, 80)}`);
      const z = c.schema.safeParse(structuredClone(sample));
      t.ok(z.success, 'zod agrees');
      t.same(fast, z.data, 'same value');
    }
  }
});

t.test('whatever the fast checks accept, zod accepts: the rest goes to zod', async (t) => {
  for (const c of cases) {
    for (const sample of [...c.invalid, ...c.slow]) {
      const fast = fastMeta(c.kind, structuredClone(sample));
      const z = c.schema.safeParse(structuredClone(sample));
      if (fast !== undefined) {
        t.ok(z.success, `zod accepts what the fast check accepted: ${JSON.stringify(sample)?.slice(0, 80)}`);
        t.same(fast, z.data);
      } else t.pass(`left to zod: ${JSON.stringify(sample)?.slice(0, 80)}`);
    }
    for (const sample of c.invalid) {
      t.notOk(c.schema.safeParse(structuredClone(sample)).success, `zod refuses ${JSON.stringify(sample)?.slice(0, 60)}`);
      t.equal(fastMeta(c.kind, structuredClone(sample)), undefined, 'so does the fast check');
    }
  }
});

t.test('a field added to a schema is added to its fast check (else every such frame takes the slow path)', async (t) => {
  const everyField = (samples: readonly object[]): string[] => [...new Set(samples.flatMap((s) => Object.keys(s)))].sort();
  for (const c of cases) t.same(everyField(c.valid), Object.keys(c.schema.shape).sort(), `the valid samples of kind ${c.kind} use every field, and pass`);
});

t.test('other kinds are left to zod', async (t) => {
  t.equal(fastMeta(FrameKind.Hello, { connectorId: 'c' }), undefined);
  t.equal(fastMeta(FrameKind.Reject, { reason: 'busy', message: '' }), undefined);
});

t.test('the id check by hand agrees with ID_PATTERN', async (t) => {
  const samples = [
    '', 'a', 'Z', '0', '_', '-', 'ing_1_3mo-1', 'x'.repeat(64), 'x'.repeat(65), 'a.b', 'a b', 'a\n', '\na', 'é', 'a/', 'a:b', 'a*', 'a>',
    '@', '[', '`', '{', '/', ':', 'ａ', 'a\u0000',
    // every ASCII character once, around a valid id
    ...Array.from({ length: 128 }, (_, c) => `id${String.fromCharCode(c)}x`),
  ];
  for (const s of samples) t.equal(isIdText(s), ID_PATTERN.test(s), JSON.stringify(s));
});

t.test('the request id check by hand agrees with REQUEST_ID_PATTERN', async (t) => {
  const samples = [
    '', 'a', 'Z', '0', '_', '-', '.', 'req_a3ff2f9be0bf0003mo', 'a.b_c:d@e+f=g/h-i', 'x'.repeat(128), 'x'.repeat(129), '-x', '.x', '/x', 'a b',
    'a\n', '\na', 'é', 'aé', 'ａ', 'a\u0000', 'a*', 'a>', 'a?', 'a#', 'a%',
    // every ASCII character once, first and after a valid start
    ...Array.from({ length: 128 }, (_, c) => `${String.fromCharCode(c)}x`),
    ...Array.from({ length: 128 }, (_, c) => `id${String.fromCharCode(c)}x`),
  ];
  for (const s of samples) t.equal(isRequestIdText(s), REQUEST_ID_PATTERN.test(s), JSON.stringify(s));
});
