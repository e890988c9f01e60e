import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { EarlyListener, LISTEN_BACKLOG } from '../../src/ops/index.js';

/** The accept-queue size of the socket listening on `port` (`ss -ltn`: Send-Q of a listening socket), or undefined without ss. */
function listenBacklog(port: number): number | undefined {
  let out: string;
  try {
    out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
  const fields = out.trim().split(/\s+/);
  return Number(fields[2]);
}

t.test('EarlyListener binds with a deep accept queue (a burst past it is answered with resets)', async (t) => {
  const early = await EarlyListener.bind(createServer(), 0, '127.0.0.1', (_req, res) => res.end());
  t.teardown(() => early.close());
  const backlog = listenBacklog(early.port);
  if (backlog === undefined) {
    t.comment('SKIP: ss (iproute2) is not installed, so the accept queue size cannot be read');
    return;
  }
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  t.equal(backlog, Math.min(LISTEN_BACKLOG, somaxconn), `accept queue ${backlog} (LISTEN_BACKLOG ${LISTEN_BACKLOG}, capped by net.core.somaxconn ${somaxconn}; Node's default is 511)`);
  t.ok(backlog > 511, 'deeper than Node\'s default');
});
