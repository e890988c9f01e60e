import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_LOOP_SAMPLE_MS } from '../../src/metrics/index.js';

const REGISTRY = fileURLToPath(new URL('../../src/metrics/index.js', import.meta.url));

/** Voluntary context switches of a process's main thread: how often its event loop slept and was woken. */
const wakeups = (pid: number): number => Number(/voluntary_ctxt_switches:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

t.test('an idle process with a metrics registry is not woken 100 times a second by the event-loop monitor', async (t) => {
  // A process that holds a registry (default metrics on) and does nothing else, as an idle connector or terminator.
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(REGISTRY)}); new m.Metrics(); console.log('ready'); setTimeout(() => {}, 60_000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  await new Promise((r) => setTimeout(r, 300)); // past start-up work
  const before = wakeups(child.pid!);
  const windowMs = 2_000;
  await new Promise((r) => setTimeout(r, windowMs));
  const woken = wakeups(child.pid!) - before;
  const expected = windowMs / EVENT_LOOP_SAMPLE_MS;
  // prom-client's default (10 ms) gives ~200 here; ours ~20, plus a few of V8's own.
  t.ok(woken < 3 * expected, `${woken} wake-ups in ${windowMs} ms (sampling every ${EVENT_LOOP_SAMPLE_MS} ms: ~${expected}; prom-client's default ~${windowMs / 10})`);
});
