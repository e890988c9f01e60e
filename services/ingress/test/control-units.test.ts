import t from 'tap';
import { silentLogger } from '@tokios/shared/log';
import type { Store, UsageRecord } from '@tokios/shared/store';
import { MinuteWindow } from '../src/quota/window.js';
import { LookupCache, LookupUnavailableError } from '../src/auth/lookup-cache.js';
import { RateLimitError } from '../src/quota/rate-limit-error.js';
import { UsageRecorder } from '../src/usage/recorder.js';
import { decodeDelta } from '../src/quota/messages.js';
import { decodeHomes } from '../src/affinity/messages.js';

t.test('MinuteWindow slides by the second', async (t) => {
  const w = new MinuteWindow();
  const s0 = 1_700_000_000;
  w.add(s0, 10, s0);
  w.add(s0 + 30, 5, s0 + 30);
  t.equal(w.sum, 15);
  t.equal(w.secondsUntilBelow(15), 30, 'the first 10 expire 30 s later');
  t.equal(w.secondsUntilBelow(6), 30);
  t.equal(w.secondsUntilBelow(5), 60, 'all of it has to expire');
  w.advance(s0 + 60);
  t.equal(w.sum, 5, 'first bucket fell out');
  w.add(s0 + 100, 1, s0 + 61);
  t.equal(w.sum, 6, 'a future second (clock skew) counts now');
  w.add(s0, 7, s0 + 61);
  t.equal(w.sum, 6, 'a second outside the window is ignored');
  w.advance(s0 + 1_000);
  t.equal(w.sum, 0);
});

t.test('LookupCache: fresh, negative, stale-while-revalidate, store down, invalidation', async (t) => {
  let now = 0;
  let calls = 0;
  let fail = false;
  let value: string | null = 'v1';
  const load = async () => {
    calls++;
    if (fail) throw new Error('down');
    return value;
  };
  const c = new LookupCache<string>({ ttlMs: 100, negativeTtlMs: 10, maxStaleMs: 1_000, maxEntries: 2 }, () => undefined, () => now);
  t.equal(await c.get('k', load), 'v1');
  t.equal(c.get('k', load), 'v1', 'fresh hit is synchronous');
  t.equal(calls, 1);
  now = 150;
  value = 'v2';
  t.equal(c.get('k', load), 'v1', 'expired: stale answer at once…');
  await new Promise((r) => setImmediate(r));
  t.equal(c.get('k', load), 'v2', '…refreshed in the background');
  now = 400;
  fail = true;
  t.equal(await c.get('x', async () => 'other'), 'other');
  t.equal(c.get('k', load), 'v2', 'store down: stale entry served');
  now = 2_000;
  await t.rejects(Promise.resolve(c.get('k', load)), LookupUnavailableError, 'too stale: unavailable');
  fail = false;
  value = null;
  t.equal(await c.get('n', load), null);
  t.equal(c.get('n', load), null, 'negative cached');
  const before = calls;
  now = 2_020;
  t.equal(await c.get('n', load), null);
  t.equal(calls, before + 1, 'expired negative entries are looked up before answering');
  // invalidation discards a lookup in flight
  let release!: (v: string) => void;
  const slow = c.get('s', () => new Promise<string>((r) => (release = r))) as Promise<string | null>;
  c.invalidate('s');
  release('old');
  await slow;
  t.equal(await c.get('s', async () => 'new'), 'new', 'a value read before the invalidation is not cached');
});

t.test('429 bodies match OpenAI and Anthropic', async (t) => {
  const e = new RateLimitError({ kind: 'tokens', limit: 1000, used: 1200, retryAfterSec: 7 }, 'openai.chat', 'm', 'key_1', 0);
  t.equal(e.status, 429);
  t.same(e.body('openai.chat'), { error: { message: 'Rate limit reached for m with API key key_1 on tokens per min (TPM): Limit 1000, Used 1200, Requested 1. Please try again in 7s.', type: 'tokens', param: null, code: 'rate_limit_exceeded' } });
  t.same(e.headers, { 'retry-after': '7', 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '7s' });
  const a = new RateLimitError({ kind: 'requests', limit: 5, used: 5, retryAfterSec: 2 }, 'anthropic.messages', 'm', 'key_1', 0);
  t.same(a.body('anthropic.messages'), { type: 'error', error: { type: 'rate_limit_error', message: a.message } });
  t.same(a.headers, { 'retry-after': '2', 'anthropic-ratelimit-requests-limit': '5', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': '1970-01-01T00:00:02Z' });
});

t.test('quota deltas are validated', async (t) => {
  t.ok(decodeDelta(Buffer.from('{"from":"ing_a","d":[["key_1",1700000000,1,0]]}')));
  t.notOk(decodeDelta(Buffer.from('{"from":"ing a","d":[]}')), 'bad id');
  // A bad entry is skipped, not the message: the other entries of that replica still count (issue 8 finding 7).
  const mixed = decodeDelta(Buffer.from('{"from":"ing_a","d":[["key_1",1,-1,0],["key_2",1700000000,1,4000000000000000],["key_3",1700000000,2,5]]}'));
  t.same(mixed && { d: mixed.d, skipped: mixed.skipped }, { d: [['key_3', 1700000000, 2, 5]], skipped: 2 }, 'negative and oversized counts skipped, the valid entry kept');
  t.notOk(decodeDelta(Buffer.from('nope')));
  t.notOk(decodeDelta(Buffer.alloc(300 * 1024, 0x20)), 'oversized');
});

const rec = (i: number): UsageRecord => ({
  id: `req_${i}`, at: new Date().toISOString(), tenantId: 'ten_1', keyId: 'key_1', deploymentId: 'dep_1', connectorId: 'con_1',
  protocol: 'openai.chat', stream: false, status: 200, inputTokens: 1, outputTokens: 1, ttftMs: null, durationMs: 1,
});

t.test('UsageRecorder: batches, retries, bounded, flushes on close', async (t) => {
  const written: UsageRecord[][] = [];
  let fail = true;
  const store = { recordUsage: async (b: UsageRecord[]) => { if (fail) throw new Error('down'); written.push(b); } } as unknown as Store;
  const u = new UsageRecorder(store, { flushMs: 10, batchSize: 3, maxBuffered: 100 }, silentLogger());
  u.start();
  for (let i = 0; i < 250; i++) u.record(rec(i));
  await new Promise((r) => setTimeout(r, 50));
  t.ok(u.buffered <= 100, `bounded while the store is down (${u.buffered})`);
  t.ok(u.stats.dropped >= 150, 'oldest dropped and counted');
  fail = false;
  await u.close();
  t.equal(u.buffered, 0);
  t.ok(written.every((b) => b.length <= 3), 'batches of at most batchSize');
  const ids = written.flat().map((r) => r.id);
  t.equal(ids.at(-1), 'req_249', 'the newest survive');
  t.equal(ids.length, 250 - u.stats.dropped);
});

t.test('session homes messages: hostile input is refused or skipped, never trusted', async (t) => {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v));
  const key = 'a'.repeat(32);
  t.same(decodeHomes(enc({ from: 'ing_1', h: [[key, 'con_1']] })), { from: 'ing_1', h: [[key, 'con_1']], skipped: 0 });
  const mixed = decodeHomes(enc({ from: 'ing_1', h: [[key, 'con_1'], ['not-a-hash', 'con_1'], [key, 'bad.subject'], [key], 'x'] }));
  t.same(mixed?.h, [[key, 'con_1']], 'only well-formed entries count');
  t.equal(mixed?.skipped, 4);
  t.equal(decodeHomes(Buffer.from('not json')), undefined);
  t.equal(decodeHomes(enc({ from: 'a b', h: [] })), undefined, 'a bad sender id');
  t.equal(decodeHomes(enc({ from: 'ing_1', h: Array(501).fill([key, 'c']) })), undefined, 'too many entries');
  t.equal(decodeHomes(Buffer.alloc(70 * 1024, 32)), undefined, 'oversized');
});
