/** What Date#toISOString returns for years 0-9999 (the schema normalises every other spelling to this). */
export const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The milliseconds of an instant in Date#toISOString form (`YYYY-MM-DDTHH:MM:SS.mmmZ`), or undefined when `v` is
 * anything else (another spelling, or no real date: month 13, 30 February). Every usage record of every request is
 * checked and stored by its instant, and a Date parse plus a toISOString round trip cost ~10 µs each time; records
 * of one batch mostly fall in the same second, so the round trip is made once per second seen (the last one is
 * kept) and the milliseconds are read from their three digits.
 */
export function canonicalInstantMs(v: unknown): number | undefined {
  if (typeof v !== 'string' || !isIsoInstantText(v)) return undefined;
  // The cached second is compared in place, not sliced out first: one string fewer per record.
  if (lastSecond === '' || !v.startsWith(lastSecond)) {
    const second = v.slice(0, 20);
    const ms = Date.parse(`${second}000Z`);
    // The round trip refuses what Date.parse bends into a real date (30 February is 2 March) or cannot read.
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 20) !== second) return undefined;
    lastSecond = second;
    lastSecondMs = ms;
  }
  return lastSecondMs + (v.charCodeAt(20) - 0x30) * 100 + (v.charCodeAt(21) - 0x30) * 10 + (v.charCodeAt(22) - 0x30);
}

/** Where ISO_INSTANT has a separator rather than a digit, and which (`YYYY-MM-DDTHH:MM:SS.mmmZ`). */
const SEPARATORS: readonly (number | undefined)[] = Array.from('____-__-__T__:__:__.___Z', (c) => (c === '_' ? undefined : c.charCodeAt(0)));

/**
 * ISO_INSTANT.test(v) as a loop over the 24 characters: a regex run per check was most of this function's cost, and
 * every usage record is checked (the batch's validation, whose milliseconds SQLite's rows reuse). The store test
 * compares both.
 */
export function isIsoInstantText(v: string): boolean {
  if (v.length !== 24) return false;
  for (let i = 0; i < 24; i++) {
    const c = v.charCodeAt(i);
    const sep = SEPARATORS[i];
    if (sep === undefined ? c < 0x30 || c > 0x39 : c !== sep) return false;
  }
  return true;
}

/** The last second seen (`YYYY-MM-DDTHH:MM:SS.`, 20 characters; '' before the first) and its epoch milliseconds. */
let lastSecond = '';
let lastSecondMs = 0;
