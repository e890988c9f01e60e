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
  if (typeof v !== 'string' || v.length !== 24 || !ISO_INSTANT.test(v)) return undefined;
  const second = v.slice(0, 20);
  if (second !== lastSecond) {
    const ms = Date.parse(`${second}000Z`);
    // The round trip refuses what Date.parse bends into a real date (30 February is 2 March) or cannot read.
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 20) !== second) return undefined;
    lastSecond = second;
    lastSecondMs = ms;
  }
  return lastSecondMs + Number(v.slice(20, 23));
}

let lastSecond = '';
let lastSecondMs = 0;
