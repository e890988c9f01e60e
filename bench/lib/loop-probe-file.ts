/**
 * The bench's side of loop-probe.ts (which runs inside the measured processes): where a probe writes, how to load
 * it, how to start and read a window.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoopProbe } from './loop-window.js';

export function probeFile(pid: number): string {
  return join(tmpdir(), `tokios-loop-probe-${pid}.json`);
}

/** Node arguments that load the probe (dormant until signalled). */
export function loopProbeArgs(): string[] {
  return ['--import', new URL('./loop-probe.js', import.meta.url).href];
}

/** Opens a window in each process (the first signal) or closes the current one and opens the next. */
export function signalProbes(pids: number[]): void {
  for (const pid of pids) {
    try {
      rmSync(probeFile(pid), { force: true });
      process.kill(pid, 'SIGUSR2');
    } catch {
      /* gone */
    }
  }
}

/** Closes each process's window (signalProbes) and reads what it wrote; undefined for a process that did not answer. */
export async function readProbes(pids: number[], timeoutMs = 3_000): Promise<(LoopProbe | undefined)[]> {
  signalProbes(pids);
  const deadline = Date.now() + timeoutMs;
  const out: (LoopProbe | undefined)[] = [];
  for (const pid of pids) {
    const f = probeFile(pid);
    while (!existsSync(f) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    try {
      out.push(JSON.parse(readFileSync(f, 'utf8')) as LoopProbe);
      rmSync(f, { force: true });
    } catch {
      out.push(undefined);
    }
  }
  return out;
}
