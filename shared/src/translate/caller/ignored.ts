/**
 * What a request carried that had no effect: advisory fields accepted and ignored, unknown fields, and tools or
 * items a local model cannot use, dropped. The names go back to the caller in the `tokios-ignored` response header
 * and are counted by the ingress; values never leave the parser (they may hold prompt text or identifiers).
 */

/** The response header that lists them (comma separated). */
export const IGNORED_HEADER = 'tokios-ignored';
/** At most this many names per request; a request listing more gets the first ones. */
export const MAX_IGNORED = 32;
/** A reported name: a field path without array indices (`tools.strict`) or `where:type` for a dropped item. */
export const IGNORED_NAME = /^[A-Za-z0-9_.:-]{1,96}$/;
/** Stands for a field whose name is not a plain identifier (it is not echoed). */
export const UNNAMED = '?';

export class Ignored {
  private readonly names = new Set<string>();

  /** A field accepted without effect, by its path: `tools[3].strict` is reported as `tools.strict`. */
  field(path: string): void {
    this.add(path.replace(/\[\d+\]/g, ''));
  }

  /** An item of a kind a local model cannot use (a hosted tool, a hosted tool's history item), dropped. */
  dropped(where: string, type: string): void {
    this.add(`${where.replace(/\[\d+\]/g, '')}:${IGNORED_NAME.test(type) ? type : UNNAMED}`);
  }

  list(): string[] {
    return [...this.names];
  }

  private add(name: string): void {
    if (this.names.size >= MAX_IGNORED) return;
    this.names.add(IGNORED_NAME.test(name) ? name : UNNAMED);
  }
}
