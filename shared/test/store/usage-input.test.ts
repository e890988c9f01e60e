import t from 'tap';
import { StoreValidationError } from '../../src/store/errors.js';
import { usageBatchSchema } from '../../src/store/inputs.js';
import { parseUsageBatch } from '../../src/store/usage-input.js';
import { instantMs } from '../../src/store/usage.js';

const record = {
  id: 'ing_abc_1', at: '2026-12-01T18:00:00.123Z', tenantId: 'ten_1', keyId: 'key_1', deploymentId: 'dep_1', aliasId: null,
  connectorId: 'con_1', protocol: 'openai.chat', stream: false, status: 200, inputTokens: 5, outputTokens: 7, ttftMs: null, durationMs: 12,
};

/** Variants of one record: each must come out of the fast path exactly as out of the schema, or be refused by both. */
const variants: Record<string, unknown>[] = [
  {}, { aliasId: undefined }, { aliasId: 'ali_1' }, { aliasId: '' }, { extra: 'dropped' }, { at: '2026-12-01T19:00:00+01:00' },
  { at: '2026-12-01T18:00:00Z' }, { at: '2026-02-30T00:00:00.000Z' }, { at: '2026-13-01T00:00:00.000Z' }, { at: 'yesterday' }, { at: 5 }, { id: '' }, { id: 'x'.repeat(128) },
  { id: 'x'.repeat(129) }, { protocol: 'anthropic.messages' }, { protocol: 'nope' }, { stream: 1 }, { status: 99 }, { status: 599 },
  { status: 600 }, { status: 200.5 }, { inputTokens: -1 }, { outputTokens: 1.5 }, { durationMs: Number.MAX_SAFE_INTEGER },
  { durationMs: 2 ** 53 }, { ttftMs: 3 }, { ttftMs: undefined }, { ttftMs: -1 }, { connectorId: 7 },
];

t.test('usage batches: the fast path gives what the schema gives, and refuses what it refuses', async (t) => {
  for (const v of variants) {
    const batch = [record, { ...record, ...v }];
    const slow = usageBatchSchema.safeParse(batch);
    if (slow.success) t.same(parseUsageBatch(batch), slow.data, `same output for ${JSON.stringify(v)}`);
    else t.throws(() => parseUsageBatch(batch), StoreValidationError, `refused: ${JSON.stringify(v)}`);
  }
});

t.test('usage batches: the instants handed out are each output record\'s `at` in ms, on both paths', async (t) => {
  for (const v of variants) {
    const batch = [record, { ...record, ...v }];
    if (!usageBatchSchema.safeParse(batch).success) continue;
    const ats = [123]; // a stale value: overwritten, never kept
    const out = parseUsageBatch(batch, ats);
    t.same(ats, out.map((r) => instantMs(r.at)), `instants for ${JSON.stringify(v)}`);
  }
});

t.test('usage batches that are not arrays, or too long, are refused as before', async (t) => {
  t.throws(() => parseUsageBatch({}), StoreValidationError);
  t.throws(() => parseUsageBatch(null), StoreValidationError);
  t.throws(() => parseUsageBatch(Array(10_001).fill(record)), StoreValidationError);
  t.same(parseUsageBatch([]), []);
});
