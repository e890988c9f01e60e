import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat utime and stime (USER_HZ; 100 on Linux). */
const HZ = 100;

/** CPU time (µs) a process has used so far: utime + stime from /proc/<pid>/stat. */
export function cpuMicros(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces; fields after the closing paren are space-separated.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state); utime is field 14, stime field 15.
    return ((Number(f[11]) + Number(f[12])) * 1e6) / HZ;
  } catch {
    return NaN;
  }
}

/** Resident set size in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Busy and total CPU time of the whole machine (µs), from the first line of /proc/stat. */
export function machineMicros(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: ((total - idle) * 1e6) / HZ, total: (total * 1e6) / HZ };
}

export interface CpuWindow {
  /** CPU µs used by each named process during the window. */
  perProcess: Record<string, number>;
  /** CPU µs used by everything else on the machine (other workloads sharing the cores). */
  foreign: number;
  wallMs: number;
}

/** Samples CPU of a set of processes (and the machine) at the start and end of a measured window. */
export class CpuMeter {
  private start: { procs: Record<string, number>; machine: { busy: number; total: number }; at: number } | undefined;

  constructor(private readonly pids: () => Record<string, number>) {}

  begin(): void {
    this.start = { procs: this.sample(), machine: machineMicros(), at: performance.now() };
  }

  end(): CpuWindow {
    const s = this.start;
    if (!s) throw new Error('CpuMeter.end before begin');
    const now = this.sample();
    const m = machineMicros();
    const perProcess: Record<string, number> = {};
    let ours = 0;
    for (const [name, v] of Object.entries(now)) {
      const d = v - (s.procs[name] ?? NaN);
      perProcess[name] = d;
      if (Number.isFinite(d)) ours += d;
    }
    return { perProcess, foreign: Math.max(0, m.busy - s.machine.busy - ours), wallMs: performance.now() - s.at };
  }

  private sample(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids())) out[name] = cpuMicros(pid);
    return out;
  }
}
