import { z } from 'zod';

/** Reading a MongoDB connection string without the driver: the database in its path, and a loggable form. */

const SCHEMES = ['mongodb://', 'mongodb+srv://'] as const;

/** MongoDB database names: no `/\. "$*<>:|?`, no NUL, under 64 bytes. */
export const mongoDbNameSchema = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s) < 64, 'must be under 64 bytes')
  .refine((s) => !/[/\\. "$*<>:|?\0]/.test(s), 'must not contain any of / \\ . space " $ * < > : | ?');

export interface MongoUrlParts {
  scheme: (typeof SCHEMES)[number];
  /** `host[:port][,host[:port]…]` as written. */
  hosts: string;
  /** The database in the URL path, percent-decoded, or null when the path is empty. */
  dbName: string | null;
  /** The URL without credentials or options, safe to log. */
  redacted: string;
}

/** Splits a `mongodb://` / `mongodb+srv://` URL; null when it is not one. */
export function parseMongoUrl(url: string): MongoUrlParts | null {
  const scheme = SCHEMES.find((s) => url.startsWith(s));
  if (!scheme) return null;
  const rest = url.slice(scheme.length);
  const slash = rest.indexOf('/');
  const query = rest.indexOf('?');
  const authorityEnd = slash >= 0 && (query < 0 || slash < query) ? slash : query >= 0 ? query : rest.length;
  const authority = rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  const hosts = at >= 0 ? authority.slice(at + 1) : authority;
  if (!hosts) return null;
  let dbName: string | null = null;
  if (slash === authorityEnd) {
    const end = query > slash ? query : rest.length;
    const raw = rest.slice(slash + 1, end);
    if (raw) {
      try {
        dbName = decodeURIComponent(raw);
      } catch {
        return null;
      }
    }
  }
  return { scheme, hosts, dbName, redacted: `${scheme}${hosts}` };
}
