import { mkdirSync, openSync, closeSync, statSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Ports for the processes a test starts. Two rules make a picked port still free when the process binds it:
// - it lies below the kernel's ephemeral range (32768–60999 here), so no outgoing loopback connection of the
//   hundreds a suite opens is given it as its source port meanwhile (that took a connector's metrics port in CI);
// - it is reserved machine-wide by a file created exclusively, so two test files running at once never pick the
//   same one. Reservations expire by age: a test holds its ports for minutes, never an hour.
const LOW = 20_000;
const HIGH = 32_000;
const RESERVED_FOR_MS = 60 * 60_000;
const dir = join(tmpdir(), 'tokios-test-ports');

function reserve(port: number): boolean {
  const file = join(dir, String(port));
  try {
    closeSync(openSync(file, 'wx'));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - statSync(file).mtimeMs < RESERVED_FOR_MS) return false;
      unlinkSync(file);
    } catch {
      return false;
    }
    return reserve(port);
  }
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** A port on `host` that no other test holds and nothing is bound to; see the rules above. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 1_000; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (reserve(port) && (await bindable(port, host))) return port;
  }
  throw new Error(`no free port in ${LOW}–${HIGH} on ${host}`);
}
