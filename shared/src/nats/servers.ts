import { randomInt } from 'node:crypto';

/** One NATS seed from `NATS_URL`, normalised to `scheme://host:port`. */
export interface NatsServerUrl {
  url: string;
  /** `tls://`: the client insists on TLS with this server. */
  tls: boolean;
}

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

const SCHEMES = ['nats:', 'tls:'];

/**
 * Parses a comma-separated server list (`nats://a:4222,nats://b:4222`, `tls://…`, or bare `host:port`). Throws an
 * Error whose message says what is wrong with which entry. Credentials inside a URL are refused: nats.js ignores
 * them (and reads a password starting with digits as the port), and URLs end up in log lines.
 */
export function parseServers(value: string): NatsServerUrl[] {
  const entries = value.split(',').map((s) => s.trim());
  if (entries.some((e) => e === '')) throw new Error('has an empty entry (servers are comma-separated)');
  return entries.map((entry, i) => {
    const where = entries.length > 1 ? `entry ${i + 1} ("${entry.slice(0, 100)}")` : `"${entry.slice(0, 100)}"`;
    let u: URL;
    try {
      u = new URL(entry.includes('://') ? entry : `nats://${entry}`);
    } catch {
      throw new Error(`${where} is not a URL (nats://host:port or tls://host:port)`);
    }
    if (u.username || u.password) {
      // Named by position only: the entry holds a secret, and this message goes to the terminal and logs.
      const which = entries.length > 1 ? `entry ${i + 1}` : 'the URL';
      throw new Error(`${which} carries credentials, which nats.js ignores: set NATS_USER and NATS_PASSWORD (or NATS_TOKEN) instead`);
    }
    if (!SCHEMES.includes(u.protocol)) throw new Error(`${where} must use nats:// or tls://`);
    if (!u.hostname) throw new Error(`${where} has no host`);
    if ((u.pathname && u.pathname !== '/') || u.search || u.hash) throw new Error(`${where} must be scheme://host:port only`);
    return { url: `${u.protocol}//${u.host}${u.port ? '' : ':4222'}`, tls: u.protocol === 'tls:' };
  });
}

/**
 * A fresh random order per process, so that clients of a restarted node do not all move to the same next one.
 * (nats.js shuffles too unless `noRandomize`; we order them ourselves because the first connect tries them one
 * at a time in this order, logging each failure.)
 */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
