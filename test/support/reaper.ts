import type { ChildProcess } from 'node:child_process';

/**
 * Every child process a test starts is registered here and killed when the test process goes away for any reason
 * its own code can still see: normal exit, an uncaught error, or the SIGTERM/SIGINT/SIGHUP that tap sends a test
 * that ran past its timeout. Without it, a timed-out test leaves its nats-servers and services running (orphans of
 * init) that slow down or confuse every later run.
 */
const live = new Set<ChildProcess>();
let installed = false;

function killAll(): void {
  for (const c of live) {
    try {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
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

/** Tracks a child until it exits; returns it for chaining. */
export function reap<T extends ChildProcess>(child: T): T {
  install();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
