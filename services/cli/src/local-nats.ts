import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { connect } from 'nats';
import type { Logger } from '@tokios/shared/log';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1_000, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Uses the NATS at `url` when one answers; otherwise starts `nats-server` from PATH on a free local port.
 * Returns the URL to use and a stop function.
 */
export async function ensureNats(url: string, log: Logger): Promise<{ url: string; child?: ChildProcess; stop(): Promise<void> }> {
  if (await answers(url)) return { url, stop: async () => undefined };
  const port = await freePort();
  const bin = process.env.NATS_SERVER_BIN ?? 'nats-server';
  log.info({ tried: url, port }, `no NATS answered; starting ${bin}`);
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start ${bin}: ${err.message} (install nats-server or set NATS_URL)`)));
    child.once('exit', (code) => reject(new Error(`${bin} exited with code ${code}`)));
  });
  const local = `nats://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await Promise.race([answers(local), failed]);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${bin} did not start listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  failed.catch(() => undefined);
  return {
    url: local,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
