import t from 'tap';
import { ISO_INSTANT, canonicalInstantMs, isIsoInstantText } from '../../src/store/instant.js';

/**
 * What the check replaced: Date#toISOString form, and a real date (the round trip gives the same string back). It
 * threw a RangeError on what Date cannot read at all (month 13): the new check says no, and the schema refuses it.
 */
const slow = (v: unknown): number | undefined => {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v)) return undefined;
  const ms = Date.parse(v);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === v ? ms : undefined;
};

t.test('instants: the cached check accepts and reads exactly what the Date round trip does', async (t) => {
  const samples: unknown[] = [
    '2026-12-01T18:00:00.123Z', '2026-12-01T18:00:00.000Z', '2026-12-01T18:00:00.999Z', '2026-12-01T18:00:01.007Z', '2026-12-31T23:59:59.999Z',
    '2027-01-01T00:00:00.000Z', '2028-02-29T12:00:00.000Z', '2027-02-29T12:00:00.000Z', '2026-02-30T00:00:00.000Z', '2026-13-01T00:00:00.000Z',
    '2026-12-01T24:00:00.000Z', '2026-12-01T23:60:00.000Z', '2026-12-01T23:59:60.000Z', '0000-01-01T00:00:00.000Z', '0050-06-15T10:20:30.400Z',
    '9999-12-31T23:59:59.999Z', '2026-12-01T18:00:00Z', '2026-12-01T19:00:00+01:00', '2026-12-01T18:00:00.1234Z', '2026-12-01 18:00:00.000Z',
    '+02026-12-01T18:00:00.000Z', 'yesterday', '', 5, null, undefined, {},
  ];
  // Twice, and interleaved: the cached second must never answer for another string.
  for (const v of [...samples, ...samples.slice().reverse(), ...samples]) t.equal(canonicalInstantMs(v), slow(v), JSON.stringify(v));
  const from = Date.UTC(2026, 11, 31, 23, 59, 58);
  let mismatches = 0;
  for (let ms = from; ms < from + 3_000; ms++) if (canonicalInstantMs(new Date(ms).toISOString()) !== ms) mismatches++;
  t.equal(mismatches, 0, 'every millisecond across a year boundary reads back');
});

t.test('the instant text check by hand agrees with ISO_INSTANT', async (t) => {
  const base = '2026-12-01T18:00:00.123Z';
  const samples = [base, '', base.slice(0, 23), `${base}x`, `x${base}`, '2026-12-01T18:00:00,123Z', '2026-12-01t18:00:00.123Z', '２026-12-01T18:00:00.123Z'];
  // every character of every position replaced by every ASCII character, and a few beyond
  for (let i = 0; i < base.length; i++) {
    for (let c = 0; c < 128; c++) samples.push(`${base.slice(0, i)}${String.fromCharCode(c)}${base.slice(i + 1)}`);
    for (const c of ['٣', '\u0660', 'é', '\uff10']) samples.push(`${base.slice(0, i)}${c}${base.slice(i + 1)}`);
  }
  for (const s of samples) if (isIsoInstantText(s) !== ISO_INSTANT.test(s)) t.fail(JSON.stringify(s));
  t.pass(`${samples.length} samples agree`);
});
