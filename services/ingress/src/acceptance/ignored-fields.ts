import { IGNORED_HEADER, IGNORED_NAME, MAX_IGNORED } from '@tokios/shared/translate';

/**
 * Request fields the deployments accepted without effect (or tools they dropped), counted by name: what clients
 * send that Tokios does not act on. The connector reports the names in the Head frame; they are checked again here
 * (the connector is not trusted) and never carry values. The count is bounded: at most MAX_NAMES distinct names,
 * later ones are counted under OTHER.
 */
const counts = new Map<string, number>();
export const MAX_NAMES = 256;
export const OTHER = 'other';

export interface IgnoredReport {
  /** The `tokios-ignored` header value. */
  header: string;
  /** The names as counted: bounded (MAX_NAMES distinct, the rest OTHER), fit for a metric label. */
  labels: string[];
}

/** The header value and counted names for a Head's names, or undefined when there are none. */
export function reportIgnored(names: readonly string[] | undefined): IgnoredReport | undefined {
  if (names === undefined || names.length === 0) return undefined;
  const valid = names.slice(0, MAX_IGNORED).filter((n) => IGNORED_NAME.test(n) || n === '?');
  if (valid.length === 0) return undefined;
  const labels = valid.map((name) => {
    const key = counts.has(name) || counts.size < MAX_NAMES ? name : OTHER;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return key;
  });
  return { header: valid.join(', '), labels };
}

/** Requests per ignored field name since the process started (for metrics). */
export function ignoredFieldCounts(): ReadonlyMap<string, number> {
  return counts;
}

export { IGNORED_HEADER };
