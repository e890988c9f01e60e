import type { ChildProcess } from 'node:child_process';

/**
 * Every child process a test starts is registered here and killed when the test process goes away for any reason
 * its own code can still see: normal exit, an uncaught error, or the SIGTERM/SIGINT/SIGHUP that tap sends a test
 * that ran past its timeout. Without it, a timed-out test leaves its nats-servers and services running (orphans of
 * init) that slow down or confuse every later run.
 */
const live = new Map<ChildProcess, { group: boolean }>();
let installed = false;

function killAll(): void {
  for (const [c, { group }] of live) {
    try {
      // A detached child leads its own process group: everything it started goes with it.
      if (group && c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
      else if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGALRM'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGALRM: 14, SIGTERM: 15 } as const)[sig]);
    });
  }
}

/**
 * Tracks a child until it exits (with `group`, until `release`: a group outlives its leader); returns it for
 * chaining. `group` is for children spawned `detached`, whose whole process group is killed.
 */
export function reap<T extends ChildProcess>(child: T, opts: { group?: boolean } = {}): T {
  install();
  live.set(child, { group: opts.group === true });
  if (!opts.group) child.once('exit', () => live.delete(child));
  return child;
}

/** Stops tracking a child registered with `group` (after its group was killed). */
export function release(child: ChildProcess): void {
  live.delete(child);
}
