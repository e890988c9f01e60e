import { readFileSync } from 'node:fs';

/** This process's open-file limits (soft, hard) from /proc/self/limits; undefined where it cannot be read. */
export function openFileLimits(): { soft: number; hard: number } | undefined {
  try {
    const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return undefined;
    const n = (v: string): number => (v === 'unlimited' ? Infinity : Number(v));
    return { soft: n(m[1]!), hard: n(m[2]!) };
  } catch {
    return undefined;
  }
}

/**
 * The command line that runs `cmd args` with at least `need` open files: as is when the soft limit allows it,
 * else through `sh -c 'ulimit -n …; exec …'` (the same pid), raised up to the hard limit (an unprivileged process
 * may raise its soft limit that far; Node itself does so at startup, so for node children this mostly reports).
 * Also says whether `need` fits under the hard limit at all: nothing here can raise that.
 */
export function withOpenFiles(need: number, cmd: string, args: string[]): { cmd: string; args: string[]; note: string } {
  const l = openFileLimits();
  if (!l) return { cmd, args, note: 'open-file limit unknown' };
  if (l.soft >= need) return { cmd, args, note: `open-file limit ${l.soft} (need ${need})` };
  const to = Math.min(l.hard, Math.max(need, 1024));
  const note = to >= need ? `open-file limit raised ${l.soft} -> ${to} for this process` : `open-file limit ${l.hard} (hard) is below the ${need} needed: raise it (ulimit -Hn) or expect refused sockets`;
  return { cmd: 'sh', args: ['-c', `ulimit -n ${to} && exec "$0" "$@"`, cmd, ...args], note };
}
