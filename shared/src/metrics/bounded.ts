/** The label value every value past the cap shares. */
export const OTHER_LABEL = 'other';

/**
 * Caps the distinct values of a label (deployment ids): the first `max` values seen keep their own series, every
 * later one is counted under "other". First-seen rather than top-N by traffic keeps each series stable for the
 * life of the process (a re-ranked top-N would move counts between series). Values must already be safe ids.
 */
export class BoundedLabel {
  private readonly known = new Set<string>();

  constructor(readonly max: number) {}

  of(value: string): string {
    if (this.known.has(value)) return value;
    if (this.known.size >= this.max) return OTHER_LABEL;
    this.known.add(value);
    return value;
  }
}
