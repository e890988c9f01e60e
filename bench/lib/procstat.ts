import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat utime and stime (USER_HZ; 100 on Linux). */
const HZ = 100;

/** CPU time (µs) a process has used so far: utime + stime from /proc/<pid>/stat. */
export function cpuMicros(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.sys;
}

/** User and system CPU time (µs) of a process: utime and stime from /proc/<pid>/stat. */
export function cpuTimes(pid: number): { user: number; sys: number } {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces; fields after the closing paren are space-separated.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state); utime is field 14, stime field 15.
    return { user: (Number(f[11]) * 1e6) / HZ, sys: (Number(f[12]) * 1e6) / HZ };
  } catch {
    return { user: NaN, sys: NaN };
  }
}

/**
 * Voluntary context switches of all threads of a process: how often it blocked waiting for work (epoll, futex).
 * Per request or per chunk this counts wake-ups, a figure that stays stable when other load shares the machine.
 */
export function wakeups(pid: number): number {
  let n = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'));
        if (m) n += Number(m[1]);
      } catch {
        /* thread gone */
      }
    }
  } catch {
    return NaN;
  }
  return n;
}

/**
 * How long a process's main thread (its event loop) stood runnable waiting for a CPU, in µs, and how many times it was
 * put on one (/proc/<pid>/schedstat: run_delay, pcount). Per run, the wait is what the machine's other work adds to
 * every wake-up: on a shared 2-core machine it is a latency no code in the process can remove. `allThreads` sums every
 * thread instead (nats-server: Go runs its work on threads other than the first).
 */
export function runQueue(pid: number, allThreads = false): { waitMicros: number; runs: number } {
  const one = (path: string): { waitMicros: number; runs: number } => {
    const [, delayNs, runs] = readFileSync(path, 'utf8').trim().split(' ').map(Number);
    return { waitMicros: (delayNs ?? NaN) / 1e3, runs: runs ?? NaN };
  };
  try {
    if (!allThreads) return one(`/proc/${pid}/schedstat`);
    const sum = { waitMicros: 0, runs: 0 };
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        const x = one(`/proc/${pid}/task/${t}/schedstat`);
        sum.waitMicros += x.waitMicros;
        sum.runs += x.runs;
      } catch {
        /* thread gone */
      }
    }
    return sum;
  } catch {
    return { waitMicros: NaN, runs: NaN };
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
  /** Kernel (system) part of perProcess. */
  sys: Record<string, number>;
  /** Voluntary context switches of each named process during the window. */
  wakeups: Record<string, number>;
  /** CPU µs used by everything else on the machine (other workloads sharing the cores). */
  foreign: number;
  wallMs: number;
}

/** Samples CPU of a set of processes (and the machine) at the start and end of a measured window. */
export class CpuMeter {
  private start: { procs: Record<string, number>; sys: Record<string, number>; wake: Record<string, number>; machine: { busy: number; total: number }; at: number } | undefined;

  constructor(private readonly pids: () => Record<string, number>) {}

  begin(): void {
    this.start = { procs: this.sample(), sys: this.sampleSys(), wake: this.sampleWakeups(), machine: machineMicros(), at: performance.now() };
  }

  end(): CpuWindow {
    const s = this.start;
    if (!s) throw new Error('CpuMeter.end before begin');
    const now = this.sample();
    const m = machineMicros();
    const w = this.sampleWakeups();
    const sysNow = this.sampleSys();
    const sys: Record<string, number> = {};
    for (const [name, v] of Object.entries(sysNow)) sys[name] = v - (s.sys[name] ?? NaN);
    const wake: Record<string, number> = {};
    for (const [name, v] of Object.entries(w)) wake[name] = v - (s.wake[name] ?? NaN);
    const perProcess: Record<string, number> = {};
    let ours = 0;
    for (const [name, v] of Object.entries(now)) {
      const d = v - (s.procs[name] ?? NaN);
      perProcess[name] = d;
      if (Number.isFinite(d)) ours += d;
    }
    return { perProcess, sys, wakeups: wake, foreign: Math.max(0, m.busy - s.machine.busy - ours), wallMs: performance.now() - s.at };
  }

  private sampleSys(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids())) out[name] = cpuTimes(pid).sys;
    return out;
  }

  private sampleWakeups(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids())) out[name] = wakeups(pid);
    return out;
  }

  private sample(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids())) out[name] = cpuMicros(pid);
    return out;
  }
}

/** Sum of several windows (slices of one phase). */
export function addWindows(ws: CpuWindow[]): CpuWindow {
  const sum = (pick: (w: CpuWindow) => Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const w of ws) for (const [k, v] of Object.entries(pick(w))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    perProcess: sum((w) => w.perProcess), sys: sum((w) => w.sys), wakeups: sum((w) => w.wakeups),
    foreign: ws.reduce((n, w) => n + w.foreign, 0), wallMs: ws.reduce((n, w) => n + w.wallMs, 0),
  };
}
